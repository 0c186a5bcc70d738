"""Ground floor: notebooks the build makes itself, made and written without nbformat's schema check.

nbformat checks every cell it makes and every notebook it writes or reads against its JSON schema: a
tenth of a second per notebook, minutes for the whole book's (its pages, their readers' notebooks).
The build's own notebooks are valid by construction, so these helpers skip the check and give the same
cells and the same bytes as nbformat's `new_*_cell` and `writes`. A notebook from outside (the execution
cache, CI's executed notebooks) is still read through nbformat, with its check.
"""
from __future__ import annotations

import nbformat
from nbformat.v4 import nbjson


def code_cell(source: str, cell_id: str) -> nbformat.NotebookNode:
    """nbformat.v4.new_code_cell(source) with this id."""
    return nbformat.NotebookNode(id=cell_id, cell_type="code", metadata=nbformat.NotebookNode(),
                                 execution_count=None, source=source, outputs=[])


def markdown_cell(source: str, cell_id: str = "") -> nbformat.NotebookNode:
    """nbformat.v4.new_markdown_cell(source) with this id (the caller numbers the cells after)."""
    return nbformat.NotebookNode(id=cell_id, cell_type="markdown", source=source, metadata=nbformat.NotebookNode())


def text(nb: nbformat.NotebookNode) -> str:
    """nbformat.writes(nb) + a final newline, as the build writes every notebook."""
    return nbjson.writes(nb) + "\n"


def parse(content: str) -> nbformat.NotebookNode:
    """A notebook this build wrote (`text`), read back as nbformat.reads(content, 4) reads it."""
    return nbjson.reads(content)
