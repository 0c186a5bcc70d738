"""MyST-NB's internals that the render stage leans on, behind one door.

Each is something MyST-NB does not document as its interface; tests/build/test_adapters.py holds each
to its contract, so an upgrade that changes one fails there, by name, rather than somewhere downstream.

* A merged notebook's line numbers: MyST-NB reports line `l` of cell `i` (0-based) as
  `(i + 1) * 10000 + 1 + l` (myst_nb/core/nb_to_tokens.py) in Sphinx's warnings.
* The folder beside the site where it writes cells' images: `jupyter_execute` (sphinx_ext.OUTPUT_FOLDER).
* Its stylesheet, `_static/mystnb.<hash>.css`, is copied into the site at `build-finished`, after every
  page is written: a page then links it with Sphinx's `?v=<checksum>` only if an earlier render left the
  file there. Copied before the pages are written, every render links it the same way.
"""
from __future__ import annotations

from pathlib import Path

CELL_LINES = 10000


def cell_and_line(reported: int) -> tuple[int, int]:
    """MyST-NB's line number -> (1-based cell number, 1-based line in that cell)."""
    cell, offset = divmod(reported, CELL_LINES)
    return cell, offset - 1


def outputs_folder(site: Path) -> Path:
    """Where MyST-NB writes cells' images for the site in `site`."""
    from myst_nb import sphinx_ext   # imported late, as Sphinx is: `make check` never renders
    return Path(site).parent / sphinx_ext.OUTPUT_FOLDER


def copy_stylesheet_early(app) -> None:
    """`builder-inited`: MyST-NB's stylesheet into the site before any page is written."""
    from myst_nb import sphinx_ext
    if app.builder.format == "html":
        (Path(app.builder.outdir) / "_static").mkdir(parents=True, exist_ok=True)
        sphinx_ext.add_global_html_resources(app, None)


def setup(app):
    app.connect("builder-inited", copy_stylesheet_early)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
