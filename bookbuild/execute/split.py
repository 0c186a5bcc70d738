"""Stage 2, split: a `Page` -> one notebook per framework, holding only that tab's cells.

Each cell's id is the index of the block it came from (`b7`), which is all the
merge stage needs to put outputs back; nothing else goes into cell metadata,
so the execution cache (which hashes code and kernelspec only) sees code alone.
The framework's environment fingerprint (from stage 0, `environments`) goes into
the kernelspec on purpose: a changed environment or hand-written d2l must re-execute
that framework; so does the key of the book's saved code the notebook uses (from the
library stage), so that editing a #@save function re-executes the pages that use it.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

import nbformat

from bookbuild import notebook_json
from bookbuild.source import Page, cell_id


@dataclasses.dataclass(frozen=True)
class SplitBook:
    """What the split hands on to the execute stage: every page's notebook of every framework (unexecuted)."""
    notebooks: Mapping[Path, Mapping[str, nbformat.NotebookNode]]   # {page path: {framework name: notebook}}

    def of(self, page: Path) -> Mapping[str, nbformat.NotebookNode]:
        return self.notebooks[page]


def notebook_for(page: Page, framework, fingerprint: str, saved_code: str = "") -> nbformat.NotebookNode:
    """The page as `framework`'s readers get it: shared prose, its tab prose, its code. `saved_code`: the
    key of the book's #@save code it uses ("" if none)."""
    nb = notebook_json.notebook()
    nb.metadata["kernelspec"] = {
        "name": framework.kernel,
        "display_name": f"{framework.label} (d2l)",
        "language": "python",
        "d2l_fingerprint": fingerprint,
    }
    if saved_code:
        nb.metadata["kernelspec"]["d2l_saved_code"] = saved_code
    nb.metadata["language_info"] = {"name": "python"}
    for index, block in enumerate(page.blocks):
        if block.is_blank or (block.tabs is not None and framework.name not in block.tabs):
            continue
        nb.cells.append(notebook_json.code_cell(block.source, cell_id(index)) if block.kind == "code"
                        else notebook_json.markdown_cell(block.source.strip("\n"), cell_id(index)))
    return nb


def split(page: Page, frameworks, fingerprints: dict[str, str], saved_code=None) -> dict[str, nbformat.NotebookNode]:
    """{framework name: notebook} for each of `frameworks`, in their order. `saved_code`: {(page path,
    framework name): key of the saved code that notebook uses}."""
    return {fw.name: notebook_for(page, fw, fingerprints[fw.name], (saved_code or {}).get((page.path, fw.name), ""))
            for fw in frameworks}


def split_book(source, frameworks, fingerprints: dict[str, str], saved_code=None) -> SplitBook:
    """Every page of the book, split."""
    return SplitBook({page.path: split(page, frameworks, fingerprints, saved_code) for page in source.pages})


def reseeded(nb: nbformat.NotebookNode, kernel: str, until: str | None = None) -> nbformat.NotebookNode:
    """The same notebook for the framework's reseeded kernel (environments.reseeded_kernel): it draws
    other random numbers, so the agreement stage sees how much they move each output. `until`: the id
    of the last cell it needs (the cells after it are left out)."""
    nb = nbformat.from_dict(nb)
    if until is not None:
        last = next(i for i, cell in enumerate(nb.cells) if cell.get("id") == until)
        nb.cells = nb.cells[:last + 1]
    nb.metadata["kernelspec"] = {**nb.metadata["kernelspec"], "name": kernel}
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb
