"""Stage 1, read: the whole book, every source check done before any kernel starts.

From build.yml's index page the reader follows `toc` fences (as d2lbook does)
and parses each page (`dialect`). Then it checks what would otherwise fail
only after every kernel has run: each reference names a label of this build or
of the published edition, each citation key is in the bibliography, each image
exists, no label is defined twice, each interactive figure's file is right
(interactive.py). A typo fails in a second, at its file:line.
It hands on a `BookSource`: the pages in reading order and the book's labels.
"""
from __future__ import annotations

import dataclasses
import posixpath
from pathlib import Path

from bookbuild import dialect, interactive, references
from bookbuild.config import BookConfig
from bookbuild.dialect import Label, Page
from bookbuild.errors import SourceError, raise_all


@dataclasses.dataclass(frozen=True)
class BookSource:
    pages: tuple[Page, ...]                  # reading order: the index first, then its toc, depth first
    labels: dict[str, tuple[Page, Label]]    # every label this build defines
    placements: dict[Path, list] = dataclasses.field(default_factory=dict)   # interactive figures by page

    def page(self, path: Path) -> Page:
        return next(p for p in self.pages if p.path == Path(path))


def read_book(config: BookConfig) -> BookSource:
    pages = _follow_toc(config)
    labels: dict[str, tuple[Page, Label]] = {}
    errors = []
    for page in pages:
        for label in page.labels:
            if label.name in labels:
                first, where = labels[label.name]
                errors.append(SourceError(f"label {label.name} is already defined at {first.path}:{where.line}",
                                          path=page.path, line=label.line, fix="give one of them another name"))
            else:
                labels[label.name] = (page, label)
    published = references.published_labels(config.book.published_labels)
    bib = references.bibliography(config.book.bibliography)
    for page in pages:
        for mention in page.mentions:
            try:
                _check(config, page, mention, labels, published, bib)
            except SourceError as err:
                errors.append(err)
    placements = {}
    for page in pages:
        try:
            placements[page.path] = interactive.read_placements(config.root, page)
        except SourceError as err:
            errors.append(err)
    citations = [(page, m) for page in pages for m in page.mentions if m.role == "cite"]
    if citations and not any(m.role == "bibliography" for page in pages for m in page.mentions):
        page, first = citations[0]
        errors.append(SourceError(f"cites {first.target}, but no page of the book lists the works cited",
                                  path=page.path, line=first.line,
                                  fix="add a page with an eval_rst fence holding `.. bibliography::` to a toc"))
    raise_all(errors)
    return BookSource(tuple(pages), labels, placements)


def _follow_toc(config: BookConfig) -> list[Page]:
    pages, seen = [], set()

    def visit(path: Path, referrer: dict) -> None:
        if path in seen:
            return
        if not (config.root / path).is_file():
            raise SourceError(f"toc entry {path.with_suffix('')} has no file {path}", **referrer,
                              fix="create the page, or correct the toc entry")
        seen.add(path)
        page = dialect.read(config.root, path, config.names)
        pages.append(page)
        for entry, line in page.toc:
            visit(entry, {"path": path, "line": line})

    visit(config.book.index, {"path": config.path.name, "line": None})
    return pages


def _check(config, page: Page, mention, labels, published, bib) -> None:
    where = {"path": page.path, "line": mention.line}
    if mention.role == "bibliography":
        return
    if mention.role == "image":
        if "://" in mention.target:
            return
        image = image_path(page, mention.target)
        if not (config.root / image).is_file():
            raise SourceError(f"image {mention.target} not found (looked for {image})", **where,
                              fix="add the image, or correct its path (relative to the page)")
    elif mention.role == "cite":
        if mention.target not in bib:
            raise SourceError(f"citation key {mention.target} is not in {_name(config, config.book.bibliography)}",
                              **where, fix="correct the key, or add its entry to the bibliography")
    elif mention.role == "eqref":
        if mention.target not in labels or labels[mention.target][1].kind != "equation":
            raise SourceError(f"equation label {mention.target} is not defined in this build", **where,
                              fix="correct the label, or add the page that defines it to a toc")
    elif mention.target not in labels and mention.target not in published:
        table = _name(config, config.book.published_labels)
        raise SourceError(f"label {mention.target} is neither in this build nor in the published edition's "
                          f"table ({table})", **where, fix="correct the label, or add the page that defines it to a toc")


def _name(config, path) -> str:
    if path is None:
        return "(none: build.yml names no file)"
    return str(Path(path).relative_to(config.root)) if Path(path).is_relative_to(config.root) else str(path)


def image_path(page: Page, target: str) -> Path:
    """An image's path relative to the book root (`../img/a.svg` on ch/page.md -> img/a.svg)."""
    return Path(posixpath.normpath(posixpath.join(page.path.parent.as_posix(), target)))
