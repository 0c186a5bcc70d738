"""Stage 2, library: the d2l package the book defines, from its `#@save` cells (d2lbook's `build lib`).

It takes the read stage's pages (toc order) and our hand-written d2l/, and hands on a
`Library`: each framework's module as the book defines it (our hand-written part, then
every page's saved code for that framework, where the book's definition wins), the names
whose book definition differs from ours (a warning with both places), and, per page and
framework, the key of the saved code that notebook uses (part of its execution cache key).
The library is read from the source, not from execution: a saved cell counts even if its
own notebook fails.

    saved     d2lbook's #@save rules: a page's cells -> saved blocks per framework
    modules   the package: composed, written under _build/ (kernels, wheel) or into d2l/
              (`make lib`), compared with d2l/ (`make check`) and with our definitions
    uses      which saved code a notebook uses, by the `d2l.X` names of its code
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import pickle
from pathlib import Path

from bookbuild import log
from bookbuild.config import D2L
from bookbuild.errors import disk_error
from bookbuild.library import modules, saved, uses
from bookbuild.library.modules import Module
from bookbuild.whole import write_whole


@dataclasses.dataclass(frozen=True)
class Library:
    source: Path                               # our d2l/ (its hand-written parts)
    modules: dict[str, Module]                 # by framework name
    files: dict[Path, str]                     # the whole package, relative to its folder (d2l/...)
    differences: list[dict]                    # {name, framework, ours: file:line, book: page:line}
    keys: dict[tuple[Path, str], str]          # (page, framework) -> its saved code's key

    def drift(self):
        """A LibraryDrift naming how d2l/ differs from this library, or None."""
        return modules.drift(self.source, list(self.modules.values()), self.source.parent)


def build_library(config, book, source: Path = D2L, kept: Path | None = None) -> Library:
    """The library every framework of build.yml gets from the book's pages. `kept`: a file that keeps the library
    built last time with the digest of what it was built from; the same digest gives it back, not composed and
    compared again (an edit of the book's prose changes none of it)."""
    blocks = {fw.name: [block for page in book.pages for block in saved.page_saved(page, fw.name)]
              for fw in config.frameworks}
    digest = _inputs(config, book, source, blocks)
    if kept is not None:
        with contextlib.suppress(OSError, ValueError, EOFError, pickle.UnpicklingError, AttributeError, TypeError):
            last_digest, last = pickle.loads(kept.read_bytes())
            if last_digest == digest and isinstance(last, Library):
                return last
    composed = {fw.name: modules.compose(fw, source, blocks[fw.name]) for fw in config.frameworks}
    found = [d for fw in config.frameworks
             for d in modules.differences(source, source.parent, fw, composed[fw.name])]
    library = Library(source, composed, modules.package_files(source, list(composed.values())), found,
                      uses.keys(composed, book.pages))
    if kept is not None:
        try:
            write_whole(kept, pickle.dumps((digest, library), pickle.HIGHEST_PROTOCOL))
        except OSError as err:
            raise disk_error(err, "keeping the library", kept) from None
    return library


def _inputs(config, book, source: Path, blocks: dict) -> str:
    """A digest of all a library is built from: this code, our d2l/, the frameworks, each one's saved blocks,
    and the code of every page (which saved code each notebook uses)."""
    digest = hashlib.sha256(repr([(fw.name, fw.d2l_module) for fw in config.frameworks]).encode())
    digest.update(repr(source).encode())
    code = sorted(Path(__file__).parent.glob("*.py"))
    for path in code + sorted(p for p in source.rglob("*.py") if "__pycache__" not in p.parts):
        digest.update(str(path).encode() + b"\0" + path.read_bytes())
    digest.update(repr(blocks).encode())
    for page in book.pages:
        digest.update(repr((page.path, [(b.source, b.tabs) for b in page.blocks if b.kind == "code"])).encode())
    return digest.hexdigest()


def write_library(library: Library, folder: Path) -> Path:
    """The package, whole, under `folder` (the build's `_build/library`): the folder that holds `d2l/`."""
    return modules.write_package(folder, library.files)


def write_sources(library: Library) -> list[Path]:
    """`make lib`: the library the book defines, written into d2l/. The files changed."""
    return modules.write_sources(library.source, list(library.modules.values()))


logger = logging.getLogger(__name__)


def warn_differences(library: Library) -> None:
    """Each name whose book definition differs from ours, with both places (warning kind library-drift)."""
    for d in library.differences:
        log.warn(logger, "library-drift", f"{d['book']}: [{d['framework']}] the book's {d['name']} differs from "
                                          f"ours at {d['ours']}; the library takes the book's")
