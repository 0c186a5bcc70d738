"""Render-stage helper: MathJax served by the site itself, so pages work offline.

The MathJax 2.7 files come from the `jupyter-server-mathjax` package (a pinned
wheel, no CDN, installed into the build environment's `assets/` by
requirements/site-assets.txt); they are copied into ``_static/mathjax`` of the HTML output,
unchanged files skipped, and ``mathjax_path`` in conf.py points there.
"""
from __future__ import annotations

import sys
from pathlib import Path

from sphinx.util.fileutil import copy_asset

MATHJAX = Path(sys.prefix) / "assets" / "jupyter_server_mathjax" / "static"
MATHJAX_PATH = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
MATHJAX_CONFIG = {
    "HTML-CSS": {"availableFonts": ["TeX"], "imageFont": None},
    "menuSettings": {"zoom": "None"},
    "showMathMenu": False,
    "messageStyle": "none",
}


def check_mathjax(app) -> None:
    if not (MATHJAX / "MathJax.js").is_file():
        raise RuntimeError(f"MathJax is missing from {MATHJAX}: run `make env` (requirements/site-assets.txt)")


def copy_mathjax(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        copy_asset(MATHJAX, Path(app.outdir) / "_static" / "mathjax", force=False)


def setup(app):
    app.connect("builder-inited", check_mathjax)
    app.connect("build-finished", copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
