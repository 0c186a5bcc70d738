"""The book as the read stage hands it on, on the ground floor: every later stage reads it.

A `BookSource` holds the pages in reading order, each a `Page` of `Block`s (code and prose, each
knowing its tabs and source lines), the book's labels, and what sits beside the pages (interactive
figures, groups expected to differ, the files their directives name). `cell_id`/`block_index` are
how a block's cell is found again in every notebook made from its page (split, execute, merge);
`runs` are its tab groups, as the agreement and merge stages follow them. How the dialect is read
into these is the read stage's (bookbuild/read/).
"""
from __future__ import annotations

import dataclasses
import posixpath
import re
from pathlib import Path
from typing import TYPE_CHECKING

from bookbuild.marks import ANY_FENCE, closes, structure
from bookbuild.published import PublishedLabel

if TYPE_CHECKING:
    from nbformat import NotebookNode  # the execute stage's; reading never imports it


@dataclasses.dataclass(frozen=True)
class Label:
    name: str
    kind: str                  # "section", "equation", "figure" or "table"
    title: str                 # heading text or caption ("" for an equation)
    line: int


@dataclasses.dataclass(frozen=True)
class Mention:
    """A label, citation key or image a prose line refers to."""
    role: str                  # numref, ref, eqref, cite, image
    target: str
    line: int


@dataclasses.dataclass(frozen=True)
class Block:
    kind: str                  # "code" or "markdown"
    source: str                # code without its tab mark; markdown as the book has it (no slide marks)
    tabs: tuple[str, ...] | None   # frameworks it belongs to; None: shared by all
    line: int                  # 1-based line of its first source line in the file
    myst: str = ""             # markdown only: the block in MyST
    myst_lines: tuple[int, ...] = ()   # markdown only: the source line of each MyST line
    lines: tuple[int, ...] = ()        # the source line of each line of `source`
    tab_marked: bool = True    # code only: False if it has no tab mark (it belongs to the first framework)
    hide: tuple[str, ...] = ()  # code only: what the page does not show of it, "code" and/or "output"
    names_tabs: bool = False   # code only: its tab mark names frameworks (not `all`)

    @property
    def is_blank(self) -> bool:
        return self.kind == "markdown" and not self.source.strip()


@dataclasses.dataclass(frozen=True)
class Page:
    path: Path                 # relative to the book root, e.g. chapter_optimization/momentum.md
    blocks: tuple[Block, ...]
    labels: tuple[Label, ...] = ()
    mentions: tuple[Mention, ...] = ()
    toc: tuple[tuple[Path, int], ...] = ()   # pages listed in its `toc` fences, relative to the root
    frameworks: tuple[str, ...] = ()         # the frameworks it has (`_own_frameworks`), in build.yml order

    @property
    def has_code(self) -> bool:
        return any(b.kind == "code" for b in self.blocks)

    @property
    def title(self) -> str:
        """Its first section label's heading, else its first heading, else the first section title of its
        eval_rst fences (d2l-tr's bibliography page has its title there), else its file name."""
        prose = [b.source for b in self.blocks if b.kind == "markdown"]
        return next((label.title for label in self.labels if label.kind == "section"), "") or next(
            (heading.title for text in prose for heading in structure(text)[0]), "") or next(
            (title for text in prose for title in _rst_titles(text)), self.path.stem)


RST_UNDERLINE = re.compile(r"^\s*([=\-~^\"'`#*+_.:])\1+\s*$")


def _rst_titles(text: str):
    """The section titles of the reStructuredText in a prose text's eval_rst fences (title, underline)."""
    in_rst, previous = None, ""
    for line in text.split("\n"):
        fence = ANY_FENCE.match(line)
        if in_rst:
            if closes(in_rst, line):
                in_rst = None
            elif RST_UNDERLINE.match(line) and previous.strip() and len(line.strip()) >= len(previous.strip()):
                yield previous.strip()
            previous = line
        elif fence and fence.group(2).strip() == "eval_rst":
            in_rst, previous = fence.group(1), ""


def cell_id(block_index: int) -> str:
    """The id of a block's cell in every notebook made from the page (split, execute, merge)."""
    return f"b{block_index}"


def block_index(cell) -> int:
    return int(cell["id"][1:])


# --- tab groups: what the agreement and merge stages follow -------------------------------

@dataclasses.dataclass(frozen=True)
class Run:
    """Consecutive blocks of one kind: shared "prose", "tab-prose" or "code". A code run is what
    d2lbook shows as one set of tabs, with any tab prose next to it."""
    kind: str
    blocks: tuple[tuple[int, Block], ...]   # (index on the page, block)

    @property
    def line(self) -> int:
        return self.blocks[0][1].line

    def cells(self, executed: dict, framework: str) -> list[tuple[Block, NotebookNode]]:
        """A framework's cells of this run, each with the block it came from."""
        by_id = {c["id"]: c for c in executed[framework].cells}
        return [(block, by_id[cell_id(i)]) for i, block in self.blocks if framework in (block.tabs or ())]


def runs(page: Page) -> list[Run]:
    """The page's non-blank blocks as runs, in page order. Shared prose is a run of its own;
    blank prose between two code cells (or two tab blocks) does not end a run."""
    found: list[Run] = []
    kind_of_run = ""   # the kind of the blocks in `run`
    run: list[tuple[int, Block]] = []
    for index, block in enumerate(page.blocks):
        if block.is_blank:
            continue
        kind = "code" if block.kind == "code" else ("prose" if block.tabs is None else "tab-prose")
        if run and (kind != kind_of_run or kind == "prose"):
            found.append(Run(kind_of_run, tuple(run)))
            run = []
        kind_of_run = kind
        run.append((index, block))
    if run:
        found.append(Run(kind_of_run, tuple(run)))
    return found


# --- beside the pages -----------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Placement:
    id: str
    script: Path            # relative to the book root
    style: Path | None
    after: str
    before_line: int | None   # the source line it goes before (the next heading); None: the page's end
    description: str | None = None


@dataclasses.dataclass(frozen=True)
class Expected:
    """A tab group a page expects to differ between frameworks (its `<page>.agreement.yml`)."""
    code: str          # a piece of the group's code (any framework's) that names it
    reason: str        # why the tabs differ: the report shows it
    line: int          # in the .yml file

    def matches(self, run) -> bool:
        return any(self.code in block.source for _, block in run.blocks)


@dataclasses.dataclass(frozen=True)
class Named:
    """A file a page names: its path relative to the book's folder, and the page's line that names it."""
    path: Path
    line: int
    what: str          # "literalinclude", "raw :file:", "download", ...


# --- the whole book ---------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class BookSource:
    pages: tuple[Page, ...]                  # reading order: the index first, then its toc, depth first
    labels: dict[str, tuple[Page, Label]]    # every label this build defines
    placements: dict[Path, list[Placement]] = dataclasses.field(default_factory=dict)   # interactive figures by page
    expected: dict[Path, list[Expected]] = dataclasses.field(default_factory=dict)   # groups expected to differ
    # toc entries that are pages of the published edition, not of this build (linked there), by path
    outside: dict[Path, PublishedLabel] = dataclasses.field(default_factory=dict)
    # the files each page's directives and downloads name (files.py), staged beside it, by page
    files: dict[Path, list[Named]] = dataclasses.field(default_factory=dict)
    warnings: tuple[str, ...] = ()           # what the build says and goes on (at file:line)

    def page(self, path: Path) -> Page:
        return next(p for p in self.pages if p.path == Path(path))


def image_path(page: Page, target: str) -> Path:
    """An image's path relative to the book root (`../img/a.svg` on ch/page.md -> img/a.svg)."""
    return Path(posixpath.normpath(posixpath.join(page.path.parent.as_posix(), target)))
