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
from bookbuild.dialect import Label, Page, runs
from bookbuild.errors import SourceError, raise_all


@dataclasses.dataclass(frozen=True)
class Expected:
    """A tab group a page expects to differ between frameworks (its `<page>.agreement.yml`)."""
    code: str          # a piece of the group's code (any framework's) that names it
    reason: str        # why the tabs differ: the report shows it
    line: int          # in the .yml file

    def matches(self, run) -> bool:
        return any(self.code in block.source for _, block in run.blocks)


AGREEMENT_SUFFIX = ".agreement.yml"


@dataclasses.dataclass(frozen=True)
class BookSource:
    pages: tuple[Page, ...]                  # reading order: the index first, then its toc, depth first
    labels: dict[str, tuple[Page, Label]]    # every label this build defines
    placements: dict[Path, list] = dataclasses.field(default_factory=dict)   # interactive figures by page
    expected: dict[Path, list[Expected]] = dataclasses.field(default_factory=dict)   # agreement exceptions

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
    placements, expected = {}, {}
    for page in pages:
        try:
            placements[page.path] = interactive.read_placements(config.root, page)
            expected[page.path] = _expected(config.root, page)
        except SourceError as err:
            errors.append(err)
    citations = [(page, m) for page in pages for m in page.mentions if m.role == "cite"]
    if citations and not any(m.role == "bibliography" for page in pages for m in page.mentions):
        page, first = citations[0]
        errors.append(SourceError(f"cites {first.target}, but no page of the book lists the works cited",
                                  path=page.path, line=first.line,
                                  fix="add a page with an eval_rst fence holding `.. bibliography::` to a toc"))
    raise_all(errors)
    return BookSource(tuple(pages), labels, placements, expected)


def _follow_toc(config: BookConfig) -> list[Page]:
    pages, listed = [], {}   # listed: page -> where a toc lists it

    def visit(path: Path, referrer: dict, above: tuple[Path, ...]) -> None:
        if path in above:
            loop = " → ".join(p.as_posix() for p in (*above[above.index(path):], path))
            raise SourceError(f"toc entry {path.with_suffix('').as_posix()} makes a loop ({loop})", **referrer,
                              fix="a toc lists the pages below its own page: remove this entry")
        if path in listed:
            first = listed[path]
            raise SourceError(f"toc entry {path.with_suffix('').as_posix()} is already listed at "
                              f"{first['path']}:{first['line']}", **referrer, fix="list each page in one toc only")
        inside(config.root, path, referrer, f"toc entry {path.with_suffix('').as_posix()}")
        if not (config.root / path).is_file():
            raise SourceError(f"toc entry {path.with_suffix('').as_posix()} has no file {path}", **referrer,
                              fix="create the page, or correct the toc entry")
        listed[path] = referrer
        page = dialect.read(config.root, path, config.names)
        pages.append(page)
        for entry, line in page.toc:
            visit(entry, {"path": path, "line": line}, (*above, path))

    visit(config.book.index, {"path": config.path.name, "line": None}, ())
    return pages


def inside(root: Path, path: Path, where: dict, what: str) -> None:
    """A path the source names must stay inside the book's folder: the build reads nothing else."""
    resolved = (Path(root) / path).resolve()
    if Path(path).is_absolute() or not resolved.is_relative_to(Path(root).resolve()):
        raise SourceError(f"{what} resolves to {resolved}, outside the book's folder {root}", **where,
                          fix="name a file inside the book's folder, relative to the page")


def _expected(root: Path, page: Page) -> list[Expected]:
    """The page's `<page>.agreement.yml`: groups expected to differ, each named by a piece of its code:

        - code: "def adam("             # text the group's code holds (any framework's tab)
          reason: "..."                 # shown in the report
    """
    import yaml

    path = page.path.with_name(page.path.stem + AGREEMENT_SUFFIX)
    if not (root / path).is_file():
        return []
    text = dialect.read_text(root, path)
    try:
        entries, nodes = yaml.safe_load(text) or [], yaml.compose(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise SourceError(f"not valid YAML: {getattr(err, 'problem', err)}", path=path,
                          line=mark.line + 1 if mark else None) from None
    if not isinstance(entries, list):
        raise SourceError("must be a list of groups (`- code: ...`)", path=path, line=1)
    found = []
    for number, entry in enumerate(entries):
        line = nodes.value[number].start_mark.line + 1
        if not isinstance(entry, dict) or set(entry) != {"code", "reason"} or not all(
                isinstance(entry[k], str) and entry[k].strip() for k in ("code", "reason")):
            raise SourceError("each group needs `code` (a piece of its code) and `reason`, nothing else",
                              path=path, line=line, fix="see bookbuild/read.py, `_expected`, for the form")
        matching = [run for run in runs(page) if run.kind == "code" and Expected(entry["code"], "", 0).matches(run)]
        if len(matching) != 1:
            raise SourceError(f"`code: {entry['code']}` names {len(matching)} tab groups of {page.path}, not one",
                              path=path, line=line, fix="quote a piece of code that only that group holds")
        found.append(Expected(entry["code"], entry["reason"].strip(), line))
    return found


def _check(config, page: Page, mention, labels, published, bib) -> None:
    where = {"path": page.path, "line": mention.line}
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
