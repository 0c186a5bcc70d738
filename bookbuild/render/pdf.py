"""Stage 5b, render (`make pdf`): one PDF per framework of the whole book, via LaTeX and xelatex.

The staged pages (nothing executes again) are rendered with Sphinx's LaTeX
builder and ``d2l_tab`` set, so each PDF holds one framework's code and outputs
only; latexmk runs xelatex. The PDFs are `_build/pdf/<short_name>-<framework>.pdf`
(build.yml); the title page names the framework. The TeX toolchain comes from
Debian packages.
"""
from __future__ import annotations

import logging
import shutil
import subprocess
import time
from pathlib import Path

from bookbuild.config import BookConfig, Paths
from bookbuild.environments import check_tex
from bookbuild.errors import RenderError
from bookbuild.render.site import render

logger = logging.getLogger(__name__)

def pdf_path(config: BookConfig, paths: Paths, framework: str) -> Path:
    return paths.pdf / f"{config.book.short_name}-{framework}.pdf"


def built_pdfs(config: BookConfig, paths: Paths) -> dict[str, Path]:
    """The PDFs a `make pdf` made, by framework, for the site to link."""
    return {fw.name: pdf_path(config, paths, fw.name) for fw in config.frameworks
            if pdf_path(config, paths, fw.name).is_file()}


def latex_settings(config: BookConfig, framework) -> dict:
    """The title page: the book's title and authors, and which framework this PDF holds."""
    tex = pdf_path(config, Paths(Path()), framework.name).with_suffix(".tex").name
    return {
        "d2l_tab": framework.name,
        "release": framework.label,
        "latex_documents": [("index", tex, config.book.title, r" \and ".join(config.book.authors), "manual")],
    }


def render_pdfs(config: BookConfig, paths: Paths) -> dict[str, Path]:
    check_tex()
    pdfs = {}
    for fw in config.frameworks:
        started = time.monotonic()
        latex_dir = render(config, paths, "latex", latex_settings(config, fw), site=paths.out / "latex" / fw.name)
        target = pdf_path(config, paths, fw.name)
        logger.info(f"[pdf] {fw.name}: xelatex {latex_dir.relative_to(paths.out.parent)}/{target.stem}.tex")
        pdfs[fw.name] = compile_pdf(latex_dir, target.with_suffix(".tex").name, target)
        logger.info(f"[pdf] {fw.name}: {target.relative_to(paths.out.parent)} ({target.stat().st_size / 1e6:.1f} MB, "
            f"{time.monotonic() - started:.0f} s)")
    return pdfs


def compile_pdf(latex_dir: Path, tex_name: str, target: Path) -> Path:
    """latexmk -pdfxe in `latex_dir`; the PDF is copied to `target`. Errors quote the log's end."""
    log = latex_dir / "latexmk.log"
    with open(log, "w") as out:
        done = subprocess.run(["latexmk", "-pdfxe", "-interaction=nonstopmode", "-halt-on-error", tex_name],
                              cwd=latex_dir, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode:
        tail = "".join(log.read_text(errors="replace").splitlines(True)[-25:])
        raise RenderError(f"xelatex failed on {tex_name}", path=latex_dir / tex_name, detail=tail,
                          fix=f"read {log}; the previous PDF, if any, is kept")
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".pdf.part")
    shutil.copyfile(latex_dir / Path(tex_name).with_suffix(".pdf"), temporary)
    temporary.replace(target)
    return target
