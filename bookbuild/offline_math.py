"""Render-stage helper: MathJax served by the site itself, so pages work offline.

MathJax 3.2.2 comes from the `django-static-mathjax` wheel (pinned in
requirements/site-assets.txt, installed without dependencies into the build
environment's `assets/`). Its ``es5/`` build is copied into ``_static/mathjax``
(unchanged files skipped). The SVG output needs no web fonts: a page loads one
script and nothing else for its formulas.
"""
from __future__ import annotations

import sys
from pathlib import Path

from sphinx.util.fileutil import copy_asset

MATHJAX = Path(sys.prefix) / "assets" / "mathjax" / "static" / "mathjax" / "es5"
MATHJAX_PATH = "mathjax/tex-svg.js"
MATHJAX_CONFIG = {
    # myst-nb marks notebook pages `tex2jax_ignore`: typeset Sphinx's math elements only.
    "options": {"processHtmlClass": "tex2jax_process|mathjax_process|math|output_area",
                "ignoreHtmlClass": "tex2jax_ignore|mathjax_ignore"},
    "svg": {"fontCache": "global"},
}


def check_mathjax(app) -> None:
    if not (MATHJAX / "tex-svg.js").is_file():
        raise RuntimeError(f"MathJax is missing from {MATHJAX}: run `make env` (requirements/site-assets.txt)")


def copy_mathjax(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        copy_asset(MATHJAX, Path(app.outdir) / "_static" / "mathjax", force=False)


def setup(app):
    app.connect("builder-inited", check_mathjax)
    app.connect("build-finished", copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
