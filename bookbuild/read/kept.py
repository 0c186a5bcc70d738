"""Stage 1, read: what the last read kept (bookbuild/kept.py), so that after an edit only the files that changed
are read again.

* A page is kept as `dialect.read` made it from its file, by what that reading depends on: the file's bytes,
  its path and the frameworks of build.yml (and the build's code). What the rest of the read stage makes of
  it (its toc entries, its equation labels, every check against the other pages, the bibliography, the
  tables and the files it names) is made afresh at every build. A page read with errors is not kept: they
  are reported again at every build until they are fixed.
* An SVG drawing's root element (files.check_image), by the drawing's bytes.

What a build did not read is not kept for the next one.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from bookbuild import kept
from bookbuild.errors import disk_error
from bookbuild.read import dialect, files
from bookbuild.source import Page


class Kept:
    """The pages and drawings the last read kept in `file` (None: none, and nothing is kept)."""

    def __init__(self, file: Path | None):
        self.file = file
        last = kept.load(file)
        self.last_pages: dict[str, tuple[str, Page]] = last.get("pages", {})
        self.last_drawings: dict[str, str] = last.get("drawings", {})
        self.pages: dict[str, tuple[str, Page]] = {}   # {page path: (key, page)}, of this read
        self.drawings: dict[str, str] = {}             # {sha256 of a drawing: its root element}, of this read

    def page(self, root: Path, path: Path, frameworks: tuple[str, ...], errors: list) -> Page:
        """`dialect.read(root, path, frameworks, errors)`, or the page it made of the same bytes last time."""
        data = (Path(root) / path).read_bytes()
        key = kept.digest(Path(path).as_posix(), repr(frameworks), data)
        last = self.last_pages.get(Path(path).as_posix())
        if last is not None and last[0] == key:
            self.pages[Path(path).as_posix()] = last
            return last[1]
        before = len(errors)
        page = dialect.read(root, path, frameworks, errors, data)
        if len(errors) == before:
            self.pages[Path(path).as_posix()] = (key, page)
        return page

    def svg_root(self, data: bytes) -> str:
        """`files.root_element(data)`, or what it found in the same bytes last time."""
        key = hashlib.sha256(data).hexdigest()
        tag = self.last_drawings.get(key)
        self.drawings[key] = tag if tag is not None else files.root_element(data)
        return self.drawings[key]

    def save(self) -> None:
        """Keep what this read read, if it is not what was kept (a build that changed nothing writes nothing)."""
        if self.file is None:
            return
        if {p: k for p, (k, _) in self.pages.items()} == {p: k for p, (k, _) in self.last_pages.items()} and \
                self.drawings == self.last_drawings:
            return
        try:
            kept.save(self.file, {"pages": self.pages, "drawings": self.drawings})
        except OSError as err:
            raise disk_error(err, "keeping what was read", self.file) from None
