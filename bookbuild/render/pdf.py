"""Stage 5b, render (`make pdf`): one PDF per framework of the whole book, via LaTeX and xelatex.

The staged pages (nothing executes again) are rendered with Sphinx's LaTeX
builder and ``d2l_tab`` set, so each PDF holds one framework's code and outputs
only; latexmk runs xelatex. The PDFs are `_build/pdf/<short_name>-<framework>.pdf`
(build.yml); the title page names the framework. The TeX toolchain comes from
Debian packages.

Each PDF records what it was built from (the digest of the merge stage's `Manifest`, beside it in
`<pdf>.built-from`): a site links a PDF only when it was built from the very pages that site stages,
never one an earlier `make pdf` of other sources left in `_build/pdf/`.
"""
from __future__ import annotations

import dataclasses
import logging
import subprocess
import time
from pathlib import Path

from bookbuild.config import BookConfig, Paths
from bookbuild.environments import check_tex
from bookbuild.errors import RenderError
from bookbuild.render.site import render
from bookbuild.tab_marks import Manifest
from bookbuild.whole import write_whole

logger = logging.getLogger(__name__)

def pdf_path(config: BookConfig, paths: Paths, framework: str) -> Path:
    return paths.pdf / f"{config.book.short_name}-{framework}.pdf"


@dataclasses.dataclass(frozen=True)
class BuiltPdf:
    framework: str
    path: Path
    built_from: str      # the digest of the Manifest it was rendered from


def _record(pdf: Path) -> Path:
    return pdf.with_name(pdf.name + ".built-from")


def built_from(config: BookConfig, paths: Paths, manifest: Manifest) -> dict[str, BuiltPdf]:
    """The PDFs an earlier `make pdf` built from these same staged pages (`manifest`, which links no PDF), by
    framework; a PDF of other pages, or of unknown ones, is not the site's."""
    found = {}
    for fw in config.frameworks:
        target, record = pdf_path(config, paths, fw.name), _record(pdf_path(config, paths, fw.name))
        if target.is_file() and record.is_file() and record.read_text(encoding="utf-8").strip() == manifest.digest:
            found[fw.name] = BuiltPdf(fw.name, target, manifest.digest)
    return found


def latex_settings(config: BookConfig, framework) -> dict:
    """The title page: the book's title and authors, and which framework this PDF holds."""
    tex = pdf_path(config, Paths(Path()), framework.name).with_suffix(".tex").name
    return {
        "d2l_tab": framework.name,
        "release": framework.label,
        "latex_documents": [("index", tex, config.book.title, r" \and ".join(config.book.authors), "manual")],
    }


def render_pdfs(config: BookConfig, paths: Paths, manifest: Manifest) -> dict[str, BuiltPdf]:
    """One PDF per framework from the staged pages of `manifest` (which links no PDF)."""
    check_tex()
    pdfs = {}
    for fw in config.frameworks:
        started = time.monotonic()
        latex_dir = render(config, paths, manifest, "latex", latex_settings(config, fw),
                           site=paths.out / "latex" / fw.name)
        target = pdf_path(config, paths, fw.name)
        logger.info(f"[pdf] {fw.name}: xelatex {latex_dir.relative_to(paths.out.parent)}/{target.stem}.tex")
        _record(target).unlink(missing_ok=True)   # a PDF being replaced is built from nothing known
        compile_pdf(latex_dir, target.with_suffix(".tex").name, target)
        _record(target).write_text(manifest.digest + "\n", encoding="utf-8")
        pdfs[fw.name] = BuiltPdf(fw.name, target, manifest.digest)
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
    write_whole(target, (latex_dir / Path(tex_name).with_suffix(".pdf")).read_bytes())
    return target
