"""Stage 1, read: the whole book, every source check done before any kernel starts.

From build.yml's index page the reader follows `toc` fences (as d2lbook does)
and parses each page (`dialect`). A toc entry with no file here that names a page
of the published edition stays in the toc as a link there, with its published
number and title (`outside`); a name found in neither place is an error at its
toc line. Then it checks what would otherwise fail
only after every kernel has run: each reference names a label of this build or
of the published edition, each citation key is in the bibliography, each image
exists, no label is defined twice, and what sits beside a page is right (sidecars.py:
interactive figures, tab groups expected to differ). A typo fails in a second, at its file:line.
It hands on a `BookSource` (bookbuild/source.py): the pages in reading order and the book's labels.
Given the file where the last read kept its pages (`kept`), it reads again only the pages whose files
changed (kept.py); every check is made afresh.
"""
from __future__ import annotations

import dataclasses
import os
import posixpath
import re
import unicodedata
from pathlib import Path
from urllib.parse import urljoin

from bookbuild import published as references
from bookbuild.config import BookConfig
from bookbuild.errors import SourceError, Where, raise_all
from bookbuild.published import PublishedLabel
from bookbuild.read import files, sidecars
from bookbuild.read.files import inside
from bookbuild.read.kept import Kept
from bookbuild.source import BookSource, Label, Page, image_path  # noqa: F401  (the read stage hands them on)


def read_book(config: BookConfig, kept: Path | None = None) -> BookSource:
    """The book, every source error of every page reported at once (in reading order). `kept`: a file that keeps
    each page as read from its file, and is read back (read/kept.py): only the pages whose files changed since
    are read again."""
    errors: list[SourceError] = []
    last = Kept(kept)
    pages, outside = _follow_toc(config, errors, last)
    labels: dict[str, tuple[Page, Label]] = {}
    warnings: list[str] = []
    defined: set[str] = set()   # label names of the pages read so far
    pages = [_own_equations(page, defined, warnings) for page in pages]
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
                _check(config, page, mention, labels, published, bib, last)
            except SourceError as err:
                errors.append(err)
    placements, expected, named = {}, {}, {}
    for page in pages:
        try:
            named[page.path] = files.named_files(config.root, page)
            placements[page.path] = sidecars.placements(config.root, page)
            expected[page.path] = sidecars.expected(config.root, page)
        except SourceError as err:
            errors.append(err)
    citations = [(page, m) for page in pages for m in page.mentions if m.role == "cite"]
    if citations and not any(m.role == "bibliography" for page in pages for m in page.mentions):
        page, citation = citations[0]
        errors.append(SourceError(f"cites {citation.target}, but no page of the book lists the works cited",
                                  path=page.path, line=citation.line,
                                  fix="add a page holding :bibliography:`d2l.bib` (or an eval_rst fence with "
                                      "`.. bibliography::`) to a toc"))
    last.save()
    raise_all(errors)
    return BookSource(tuple(pages), labels, placements, expected, outside, named, tuple(warnings))


def _own_equations(page: Page, defined: set[str], warnings: list[str]) -> Page:
    """A page that labels an equation with a name an earlier page gave its own equation (d2l-tr does:
    `eq_attn-pooling`) keeps both, as d2lbook's Sphinx does with a warning: on this page the name means this
    page's equation, and it is renamed for the render; everywhere else it means the earlier page's."""
    again = [label for label in page.labels if label.kind == "equation" and label.name in defined]
    defined.update(label.name for label in page.labels)
    if not again:
        return page
    renames = {label.name: f"{label.name}--{page.path.with_suffix('').as_posix().replace('/', '--')}"
               for label in again}
    for label in again:
        warnings.append(f"{page.path}:{label.line}: equation label {label.name} is also defined on an earlier page; "
                        f"on this page it names this page's equation, elsewhere the earlier one")

    def renamed(text: str) -> str:
        for old, new in renames.items():
            text = re.sub(rf"(\$\$ \(|\{{eq\}}`){re.escape(old)}(?=[)`])", rf"\g<1>{new}", text)
        return text

    blocks = tuple(dataclasses.replace(b, myst=renamed(b.myst)) if b.kind == "markdown" else b for b in page.blocks)
    return dataclasses.replace(page, blocks=blocks, labels=tuple(
        dataclasses.replace(label, name=renames.get(label.name, label.name)) if label in again else label
        for label in page.labels), mentions=tuple(
        dataclasses.replace(m, target=renames[m.target]) if m.role == "eqref" and m.target in renames else m
        for m in page.mentions))


def _follow_toc(config: BookConfig, errors: list, last: Kept) -> tuple[list[Page], dict[Path, PublishedLabel]]:
    """The pages in reading order, and the toc entries that are pages of the published edition only.
    An entry must stay inside the book's folder, be listed in one toc only and make no loop. Errors go
    to `errors`; a page with errors is still followed (what it could be read as), so that the pages
    below it are checked too. Each page is read as `last` read it, if its file is as it was."""
    table = references.published_labels(config.book.published_labels)
    pages: list[Page] = []
    outside: dict[Path, PublishedLabel] = {}
    listed: dict[Path, Where] = {}   # page -> where a toc lists it

    def visit(path: Path, above: tuple[Path, ...], listed_at: dict | None) -> None:
        try:
            page = last.page(config.root, path, config.names, errors)
        except SourceError as err:   # unreadable (not UTF-8, an invisible character): nothing to follow
            errors.extend(getattr(err, "errors", [err]))
            return
        # Sphinx: no link, and a warning per page (a title in an eval_rst fence is one: `Page.title`)
        if listed_at is not None and page.title == path.stem and not sidecars.headings(page):
            errors.append(SourceError(f"toc entry {path.with_suffix('').as_posix()}: {path} has no title",
                                      **listed_at, fix=f"give {path} a title: a `# ...` heading as its first line"))
        chain, local, renamed = (*above, path), [], {}
        for position, (entry, line) in enumerate(page.toc, 1):
            written, entry = entry, on_disk(config.root, entry)
            if entry != written:   # the same name in another Unicode normal form (NFC in the toc, NFD on disk):
                # Sphinx names documents in NFC, and the merge stage stages them so
                relative = posixpath.relpath(entry.with_suffix("").as_posix(), path.parent.as_posix())
                renamed[line] = unicodedata.normalize("NFC", relative)
            try:
                if follow := _toc_entry(config, table, page, position, entry, line, chain, listed, outside):
                    local.append((follow, {"path": path, "line": line}))
            except SourceError as err:
                errors.append(err)
        pages.append(_link_outside(_toc_names_on_disk(page, renamed), outside, config.book.published_url))
        for entry, where in local:
            visit(entry, chain, where)

    if not (config.root / config.book.index).is_file():
        raise SourceError(f"the index page {config.book.index} does not exist", path=config.path.name,
                          fix="create it, or correct book.index")
    visit(config.book.index, (), None)
    return pages, outside


def _toc_entry(config, table, page: Page, position: int, entry: Path, line: int, chain, listed, outside) -> Path | None:
    """A toc entry, checked: the page to follow, or None when it is the published edition's (noted in
    `outside`)."""
    where: Where = {"path": page.path, "line": line}
    name = entry.with_suffix("").as_posix()
    if entry in chain:
        loop = " → ".join(p.as_posix() for p in (*chain[chain.index(entry):], entry))
        raise SourceError(f"toc entry {name} makes a loop ({loop})", **where,
                          fix="a toc lists the pages below its own page: remove this entry")
    if entry in listed:
        raise SourceError(f"toc entry {name} is already listed at {listed[entry]['path']}:"
                          f"{listed[entry]['line']}", **where, fix="list each page in one toc only")
    inside(config.root, entry, where, f"toc entry {name}")
    listed[entry] = where
    if (config.root / entry).is_file():
        return entry
    if found := (references.published_pages(config.book.published_pages).get(published_path(entry))
                 or _published_entry(table, page, position, entry)):
        outside[entry] = found
        return None
    tables = " or ".join(_name(config, t) for t in (config.book.published_pages, config.book.published_labels)
                         if t) or "none: build.yml names no table"
    raise SourceError(f"toc entry {name} has no file {entry}, and the published edition's tables "
                      f"({tables}) have no page {published_path(entry)}", **where,
                      fix="create the page, or correct the toc entry")


def on_disk(root: Path, path: Path) -> Path:
    """`path` as the file system spells it: each name compared after Unicode normalisation (an editor or a
    macOS checkout writes "ş" as s + a combining cedilla, NFD; a toc typed elsewhere, as one character, NFC).
    `path` itself when it is there as written, or nowhere."""
    if (Path(root) / path).exists():
        return Path(path)
    found = Path()
    for part in Path(path).parts:
        folder = Path(root) / found
        if not (folder / part).exists():
            wanted = unicodedata.normalize("NFC", part)
            try:
                part = next((name for name in sorted(os.listdir(folder))
                             if unicodedata.normalize("NFC", name) == wanted), part)
            except OSError:
                return Path(path)
        found /= part
    return found


def _toc_names_on_disk(page: Page, renamed: dict[int, str]) -> Page:
    """The page with each toc entry in `renamed` ({toc line: the entry as the file system spells it}) written
    that way, so that Sphinx finds the page."""
    return _rewrite_toc_entries(page, renamed)


def _rewrite_toc_entries(page: Page, entries: dict[int, str]) -> Page:
    """The page with each toc entry at a source line of `entries` written as `entries` gives it (a toc
    option, `:maxdepth:` and the like, is never one)."""
    if not entries:
        return page
    blocks = []
    for block in page.blocks:
        lines = block.myst.split("\n")
        for i, origin in enumerate(block.myst_lines):
            if origin in entries and lines[i].strip() and not lines[i].strip().startswith(":"):
                lines[i] = entries[origin]
        blocks.append(dataclasses.replace(block, myst="\n".join(lines)) if block.kind == "markdown" else block)
    return dataclasses.replace(page, blocks=tuple(blocks))


def published_path(page: Path) -> str:
    """A page's path on the published site: chapter_optimization/gd.md -> chapter_optimization/gd.html."""
    return page.with_suffix(".html").as_posix()


def _published_entry(table, page: Page, position: int, entry: Path) -> PublishedLabel | None:
    """The published page a toc entry names: the one the table lists at its path; or, in a toc that is
    the published edition's own (see `_published_number`), the page at that place of it, whose number
    is the place's even though the table has no label of it."""
    found = references.published_page(table, published_path(entry))
    if found is not None:
        return found
    number = _published_number(table, page)
    if number is None:
        return None
    return PublishedLabel("", "section", published_path(entry), "", ".".join(map(str, (*number, position))))


def _published_number(table, page: Page) -> tuple[int, ...] | None:
    """The page's published number, if its toc is the published edition's own: the page carries the
    label the table gives its published path, and every entry the table numbers is at the place that
    number says (d2lbook numbers a toc's pages 1, 2, ... under the page's number)."""
    own = references.published_page(table, published_path(page.path))
    if own is None or not own.numbers or own.label not in {label.name for label in page.labels}:
        return None
    for position, (entry, _) in enumerate(page.toc, 1):
        known = references.published_page(table, published_path(entry))
        if known is not None and known.numbers and known.numbers != (*own.numbers, position):
            return None
    return own.numbers


def _link_outside(page: Page, outside: dict[Path, PublishedLabel], base_url: str) -> Page:
    """The page with each toc entry that is outside this build written as a link to the published page
    (Sphinx's `Title <url>` toctree entry), titled with its published number and title."""
    def link(found: PublishedLabel) -> str:
        title = found.text[:1].upper() + found.text[1:]
        return f"{f'{found.number}. ' if found.number else ''}{title} <{urljoin(base_url, found.page)}>"
    return _rewrite_toc_entries(page, {line: link(outside[entry]) for entry, line in page.toc if entry in outside})


def _check(config, page: Page, mention, labels, published, bib, last: Kept) -> None:
    where: Where = {"path": page.path, "line": mention.line}
    if mention.role == "bibliography":
        return
    if mention.role == "image":
        if "://" in mention.target:
            return
        inside(config.root, Path(page.path.parent, mention.target), where, f"image {mention.target}")
        image = image_path(page, mention.target)
        if not (config.root / image).is_file():
            raise SourceError(f"image {mention.target} not found (looked for {image})", **where,
                              fix="add the image, or correct its path (relative to the page)")
        files.check_image(config.root, image, where, f"image {mention.target}", last.svg_root)
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
                          f"table ({table})", **where,
                          fix="correct the label, or add the page that defines it to a toc")


def _name(config, path) -> str:
    if path is None:
        return "(none: build.yml names no file)"
    return str(Path(path).relative_to(config.root)) if Path(path).is_relative_to(config.root) else str(path)
