"""Ground floor: notebooks the build makes itself, made and written without nbformat's schema check.

nbformat checks every cell it makes and every notebook it writes or reads against its JSON schema: a
tenth of a second per notebook, minutes for the whole book's (its pages, their readers' notebooks).
The build's own notebooks are valid by construction, so these helpers skip the check and give the same
cells and the same bytes as nbformat's `new_*_cell` and `writes`. A notebook from outside (the execution
cache, CI's executed notebooks) is still read through nbformat, with its check.

`key` names a notebook's content cheaply: nbformat's indented JSON (`text`) goes through Python's
pure-Python encoder, the compact JSON of `key` through its C one. A stage that writes many notebooks
keeps the key of each beside them and writes again only those whose key changed (`Known`).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import nbformat
from nbformat.v4 import nbjson

from bookbuild.whole import write_whole


def notebook() -> nbformat.NotebookNode:
    """nbformat.v4.new_notebook()."""
    return nbformat.NotebookNode(nbformat=nbformat.v4.nbformat, nbformat_minor=nbformat.v4.nbformat_minor,
                                 metadata=nbformat.NotebookNode(), cells=[])


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


def key(nb: nbformat.NotebookNode) -> str:
    """A digest of the notebook's content (the same notebook, the same key; `text` is not made)."""
    compact = json.dumps(nb, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                         default=lambda value: value.decode("ascii"))   # bytes, as nbformat's writer takes them
    return hashlib.sha256(compact.encode("utf-8")).hexdigest()


class Known:
    """The notebooks a stage wrote last time, {file: [key, what the caller keeps of it]}, read from `index`. The
    index is removed while the stage writes and written whole after it: a stage stopped half-way leaves none,
    and the next one writes every notebook again."""

    def __init__(self, index: Path):
        self.index = index
        self.now: dict[str, list[str]] = {}
        try:
            self.last = json.loads(index.read_text(encoding="utf-8"))
            index.unlink()
        except (OSError, ValueError):
            self.last = {}

    def same(self, name: str, nb_key: str, target: Path):
        """What was kept of the notebook written to `target` last time, if it had this key and is there still;
        else None."""
        last = self.last.get(name)
        if isinstance(last, list) and len(last) == 2 and last[0] == nb_key and target.is_file():
            self.now[name] = last
            return last[1]
        return None

    def carried(self, name: str, target: Path):
        """What was kept of the notebook written to `target` last time, whatever its key (the caller knows it
        made the same notebook), if it is there still; else None."""
        last = self.last.get(name)
        if isinstance(last, list) and len(last) == 2 and target.is_file():
            self.now[name] = last
            return last[1]
        return None

    def forget(self, name: str) -> None:
        self.now.pop(name, None)

    def wrote(self, name: str, nb_key: str, kept: str = "") -> None:
        self.now[name] = [nb_key, kept]

    def save(self) -> None:
        write_whole(self.index, json.dumps(self.now, sort_keys=True))
