"""Stage 1, read (one file): d2lbook's markdown dialect -> a `Page` of blocks, each knowing its tabs.

The dialect, with d2lbook's semantics (d2lbook/notebook.py and common.py):

* a code cell is a fence whose info string is ``{.python .input}``; a line of it
  that is a tab mark, ``#@tab pytorch`` / ``# @tab mxnet, pytorch`` / ``#@tab all``
  (or ``%%tab pytorch``), names the frameworks it belongs to and is removed;
  without one the cell belongs to the first framework;
* prose between ``:begin_tab:`pytorch``` and ``:end_tab:`` belongs to that tab;
* ``toc`` fences list the pages below this one;
* prose roles: ``:label:``, ``:eqlabel:``, ``:numref:``, ``:ref:``, ``:eqref:``,
  ``:cite:``, ``:width:``, images, ``eval_rst`` fences.

Each prose block is also turned into MyST here (`Block.myst`, with the source
line of every MyST line), so that every dialect error surfaces while reading,
before any kernel starts. A slip that d2lbook would silently take as something
else (``#@tabpytorch``, a fence left open) is an error too. Every error names
the file and line.
"""
from __future__ import annotations

import dataclasses
import posixpath
import re
from pathlib import Path

from bookbuild.errors import SourceError

CODE_FENCE = re.compile(r"^(`{3,})\{\.python\s+\.input\b[^}]*\}\s*$")
ANY_FENCE = re.compile(r"^(`{3,}|~{3,})(.*)$")
TAB_MARK = re.compile(r"^(?:# *@tab +|%%tab +)([\w, ]+?)\s*$")   # d2lbook's source_tab_pattern(_2)
LOOKS_LIKE_TAB_MARK = re.compile(r"^(?:#\s*@\s*tab|%%\s*tab)", re.IGNORECASE)
BEGIN_TAB = re.compile(r"^:begin_tab:`([^`]*)`\s*$")
END_TAB = re.compile(r"^:end_tab:\s*$")
TOC_FENCE = re.compile(r"^```+\s*toc\s*$")
BIBLIOGRAPHY = re.compile(r"^\.\. bibliography::")   # in an eval_rst fence: the page listing the works cited

REFERENCE = re.compile(r":(numref|ref|eqref):`([^`]+)`")
CITATION = re.compile(r":cite:`([^`]+)`")
LABEL_LINE = re.compile(r"^:(label|eqlabel):`([^`]+)`\s*$")
WIDTH_LINE = re.compile(r"^:width:`([^`]+)`\s*$")
IMAGE_LINE = re.compile(r"^!\[(.*)\]\((\S+?)\)\s*$")
HEADING = re.compile(r"^(#{1,6}) +(.*?)\s*$")


DIALECT_LINES = (CODE_FENCE, ANY_FENCE, TAB_MARK, BEGIN_TAB, END_TAB, TOC_FENCE, LABEL_LINE, WIDTH_LINE,
                 IMAGE_LINE, re.compile(r"^#{1,6} \S"), REFERENCE, CITATION)


def closes(fence: str, line: str) -> bool:
    return re.match(rf"^{re.escape(fence[0])}{{{len(fence)},}}\s*$", line) is not None


@dataclasses.dataclass(frozen=True)
class Label:
    name: str
    kind: str                  # "section", "equation" or "figure"
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
    source: str                # code without its tab mark; markdown as written
    tabs: tuple[str, ...] | None   # frameworks it belongs to; None: shared by all
    line: int                  # 1-based line of its first source line in the file
    myst: str = ""             # markdown only: the block in MyST
    myst_lines: tuple[int, ...] = ()   # markdown only: the source line of each MyST line
    lines: tuple[int, ...] = ()        # code only: the source line of each line of `source`
    tab_marked: bool = True    # code only: False if it has no tab mark (it belongs to the first framework)

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

    @property
    def has_code(self) -> bool:
        return any(b.kind == "code" for b in self.blocks)

    @property
    def title(self) -> str:
        return next((label.title for label in self.labels if label.kind == "section"), "") or next(
            (HEADING.match(line).group(2) for b in self.blocks if b.kind == "markdown"
             for line in b.source.splitlines() if HEADING.match(line)), self.path.stem)


def parse_tabs(text: str, frameworks: tuple[str, ...], where: dict) -> tuple[str, ...]:
    """`pytorch`, `mxnet, pytorch` or `all` -> the frameworks, in build.yml order."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise SourceError("empty tab list", fix="write e.g. `#@tab pytorch` or `#@tab all`", **where)
    if names == ["all"]:
        return frameworks
    unknown = [n for n in names if n not in frameworks]
    if unknown:
        raise SourceError(f"unknown tab {', '.join(map(repr, unknown))}",
                          fix=f"use the frameworks build.yml declares: {', '.join(frameworks)} (or `all`)", **where)
    return tuple(fw for fw in frameworks if fw in names)


# Characters nobody sees that can hide a dialect line (a label, a fence, a tab mark) from the reader.
INVISIBLE = {"\ufeff": "BYTE ORDER MARK", "\u200b": "ZERO WIDTH SPACE", "\u200c": "ZERO WIDTH NON-JOINER",
             "\u200d": "ZERO WIDTH JOINER", "\u2060": "WORD JOINER", "\u00a0": "NO-BREAK SPACE",
             "\u00ad": "SOFT HYPHEN", "\u200e": "LEFT-TO-RIGHT MARK", "\u200f": "RIGHT-TO-LEFT MARK"}


def read_text(root: Path, path: Path) -> str:
    """The page's text as the dialect reads it: UTF-8, a leading byte-order mark dropped and every line
    ending made `\n`, so the same text gives the same book whatever editor saved it."""
    data = (Path(root) / path).read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b"\n") + 1
        raise SourceError(f"is not UTF-8 text (byte {data[err.start]:#04x} at byte {err.start})", path=path,
                          line=line, fix="save the file as UTF-8") from None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    for number, line in enumerate(text.split("\n"), 1):
        _check_invisible(line, path, number)
    return text


def _check_invisible(line: str, path: Path, number: int) -> None:
    """A line that would be a dialect line but for an invisible character is an error that names it."""
    hidden = [(column, char) for column, char in enumerate(line, 1) if char in INVISIBLE]
    if not hidden:
        return
    visible = "".join(c for c in line if c not in INVISIBLE).replace("\u00a0", " ")
    if any(p.search(visible.strip()) for p in DIALECT_LINES) and not any(p.search(line.strip()) for p in DIALECT_LINES):
        column, char = hidden[0]
        raise SourceError(f"an invisible character, U+{ord(char):04X} {INVISIBLE[char]} (column {column}), "
                          f"hides `{visible.strip()}` from the dialect", path=path, line=number,
                          fix="delete that character (most editors show it with 'show invisibles')")


def read(root: Path, path: Path, frameworks: tuple[str, ...]) -> Page:
    """Split a dialect file into code blocks and prose blocks, with their tabs."""
    path = Path(path)
    lines = read_text(root, path).split("\n")
    lines = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    blocks: list[Block] = []
    prose: list[str] = []
    prose_start = 1
    prose_tabs: tuple[str, ...] | None = None
    open_tab_line = 0

    def flush_prose(next_line: int) -> None:
        nonlocal prose, prose_start
        if prose:
            text = "".join(prose)
            myst, myst_lines = to_myst(text, path, prose_start)
            blocks.append(Block("markdown", text, prose_tabs, prose_start, myst, myst_lines))
        prose, prose_start = [], next_line

    i = 0
    while i < len(lines):
        line, number = lines[i], i + 1
        code, fence = CODE_FENCE.match(line), ANY_FENCE.match(line)
        if code or fence:
            marker = (code or fence).group(1)
            end = i + 1
            while end < len(lines) and not closes(marker, lines[end]):
                if code and CODE_FENCE.match(lines[end]):
                    raise SourceError(f"the code cell opened at line {number} is still open where another "
                                      f"opens at line {end + 1}", path=path, line=number,
                                      fix=f"close the cell with {marker} before line {end + 1}")
                end += 1
            if end == len(lines):
                raise SourceError(f"code fence {marker} is never closed", path=path, line=number,
                                  fix=f"close it with a line {marker}")
            if not code:  # any other fence (toc, eval_rst, plain code) is prose
                prose += lines[i:end + 1]
                i = end + 1
                continue
            if prose_tabs is not None:
                raise SourceError(f"code cell inside :begin_tab: (line {open_tab_line})", path=path, line=number,
                                  fix="close the tab with :end_tab: first, and mark the cell with #@tab")
            flush_prose(number)
            tabs, body, code_lines = _code_tabs(lines[i + 1:end], number + 1, path, frameworks)
            source = "".join(body).rstrip("\n")
            blocks.append(Block("code", source, tabs or frameworks[:1], code_lines[0] if code_lines else number + 1,
                                lines=tuple(code_lines[:max(1, source.count("\n") + 1)]), tab_marked=bool(tabs)))
            i = end + 1
            prose_start = i + 1
            continue
        begin, finish = BEGIN_TAB.match(line.strip()), END_TAB.match(line.strip())
        if begin:
            if prose_tabs is not None:
                raise SourceError(f":begin_tab: inside the tab opened at line {open_tab_line}", path=path,
                                  line=number, fix="add :end_tab: before it")
            flush_prose(number + 1)
            prose_tabs = parse_tabs(begin.group(1), frameworks, {"path": path, "line": number})
            open_tab_line = number
        elif finish:
            if prose_tabs is None:
                raise SourceError(":end_tab: without a :begin_tab: before it", path=path, line=number,
                                  fix="remove it, or open the tab with :begin_tab:`name`")
            flush_prose(number + 1)
            prose_tabs = None
        else:
            prose.append(line)
        i += 1
    if prose_tabs is not None:
        raise SourceError(":begin_tab: is never closed", path=path, line=open_tab_line, fix="add :end_tab:")
    flush_prose(len(lines) + 1)
    return Page(path, tuple(blocks), *_prose_facts(path, blocks))


def _code_tabs(body: list[str], first_line: int, path: Path, frameworks: tuple[str, ...]):
    """(tabs it names or () without a mark, code lines without the tab mark, the source line of each)."""
    tabs, mark_line = (), None
    for offset, text in enumerate(body):
        stripped, number = text.strip(), first_line + offset
        mark = TAB_MARK.match(stripped)
        if mark:
            if mark_line is not None:
                raise SourceError(f"a second tab mark (the first is at line {mark_line})", path=path, line=number,
                                  fix="give the cell one mark listing every framework, e.g. `#@tab mxnet, pytorch`")
            tabs, mark_line = parse_tabs(mark.group(1), frameworks, {"path": path, "line": number}), number
        elif LOOKS_LIKE_TAB_MARK.match(stripped):
            raise SourceError(f"`{stripped}` looks like a tab mark but is not one", path=path, line=number,
                              fix="write it as `#@tab <framework>[, <framework> ...]` or `#@tab all`")
    numbers = [first_line + offset for offset in range(len(body))]
    if mark_line is None:
        return tabs, body, numbers
    offset = mark_line - first_line
    return tabs, body[:offset] + body[offset + 1:], numbers[:offset] + numbers[offset + 1:]


def _prose_facts(path: Path, blocks: list[Block]):
    """The labels a page defines, what its prose refers to, and its toc entries."""
    labels, mentions, toc = [], [], []
    previous = ("", "")   # (kind of the last non-blank line, its text)
    for block in (b for b in blocks if b.kind == "markdown"):
        in_fence, in_toc = None, False
        for offset, line in enumerate(block.source.splitlines()):
            number, stripped = block.line + offset, line.strip()
            if in_fence:
                if closes(in_fence, line):
                    in_fence = None
                elif BIBLIOGRAPHY.match(stripped):
                    mentions.append(Mention("bibliography", "", number))
                elif in_toc and stripped and not stripped.startswith(":"):
                    entry = posixpath.normpath(posixpath.join(path.parent.as_posix(), stripped))
                    toc.append((Path(entry + ".md"), number))
                continue
            fence = ANY_FENCE.match(line)
            if fence:
                in_fence, in_toc = fence.group(1), TOC_FENCE.match(stripped) is not None
                previous = ("fence", "")
                continue
            label = LABEL_LINE.match(line)
            if label:
                kind = {"heading": "section", "math": "equation", "image": "figure"}.get(previous[0], "section")
                labels.append(Label(label.group(2), "equation" if label.group(1) == "eqlabel" else kind,
                                    previous[1] if kind != "equation" else "", number))
                continue
            image = IMAGE_LINE.match(line)
            if image:
                mentions.append(Mention("image", image.group(2), number))
                previous = ("image", image.group(1))
                continue
            mentions += [Mention(role, target.strip(), number) for role, target in REFERENCE.findall(line)]
            mentions += [Mention("cite", key.strip(), number) for keys in CITATION.findall(line)
                         for key in keys.split(",") if key.strip()]
            heading = HEADING.match(line)
            if heading:
                previous = ("heading", heading.group(2))
            elif stripped.endswith("$$"):
                previous = ("math", "")
            elif stripped and not WIDTH_LINE.match(line):
                previous = ("text", "")
    return tuple(labels), tuple(mentions), tuple(toc)


# --- prose: d2lbook roles -> MyST -------------------------------------------------

INLINE_ROLES = [
    (re.compile(r":numref:`([^`]+)`"), r"{numref}`\1`"),
    (re.compile(r":ref:`([^`]+)`"), r"{ref}`\1`"),
    (re.compile(r":eqref:`([^`]+)`"), r"{eq}`\1`"),
    (re.compile(r":cite:`([^`]+)`"), r"{cite:p}`\1`"),
]


def _convert_inline(line: str) -> str:
    for pattern, repl in INLINE_ROLES:
        line = pattern.sub(repl, line)
    return line


def to_myst(markdown: str, where: Path, first_line: int) -> tuple[str, tuple[int, ...]]:
    """One prose block of the dialect -> (MyST markdown, the source line of each MyST line)."""
    out: list[str] = []
    origin: list[int] = []
    in_fence = None

    def emit(text: str, number: int, at: int | None = None) -> None:
        if at is None:
            out.append(text), origin.append(number)
        else:
            out.insert(at, text), origin.insert(at, number)

    for i, line in enumerate(markdown.splitlines()):
        number = first_line + i
        fence = ANY_FENCE.match(line)
        if in_fence:
            if closes(in_fence, line):
                in_fence = None
            emit(line, number)
        elif fence:
            in_fence = fence.group(1)
            info = fence.group(2).strip()
            emit({"toc": f"{in_fence}{{toctree}}", "eval_rst": f"{in_fence}{{eval-rst}}"}.get(info, line), number)
        elif LABEL_LINE.match(line):
            _attach_label(out, origin, LABEL_LINE.match(line).group(2), where, number)
        elif WIDTH_LINE.match(line):
            _attach_option(out, origin, "width", WIDTH_LINE.match(line).group(1), where, number)
        elif IMAGE_LINE.match(line):
            caption, target = IMAGE_LINE.match(line).groups()
            for text in ([f":::{{figure}} {target}", caption, ":::"] if caption else [f":::{{image}} {target}", ":::"]):
                emit(text, number)
        else:
            emit(_convert_inline(line), number)
    text = "\n".join(out) + ("\n" if markdown.endswith("\n") else "")
    return text, tuple(origin)


def _previous(out: list[str]) -> int:
    j = len(out) - 1
    while j >= 0 and not out[j].strip():
        j -= 1
    return j


def _attach_label(out: list[str], origin: list[int], label: str, where: Path, number: int) -> None:
    """`:label:` names what stands just before it: a heading, an equation or a figure."""
    j = _previous(out)
    target = out[j] if j >= 0 else ""
    if HEADING.match(target):
        out.insert(j, f"({label})="), origin.insert(j, number)
    elif target.rstrip().endswith("$$"):
        out[j] = target.rstrip() + f" ({label})"
    elif target == ":::" and j >= 2:
        k = j - 1
        while not out[k].startswith(":::{"):
            k -= 1
        out.insert(k + 1, f":name: {label}"), origin.insert(k + 1, number)
    else:
        raise SourceError(f":label:`{label}` must follow a heading, a $$ equation or an image", path=where,
                          line=number, fix="move the label right under what it names")


def _attach_option(out: list[str], origin: list[int], option: str, value: str, where: Path, number: int) -> None:
    j = _previous(out)
    if j < 0 or out[j] != ":::":
        raise SourceError(f":{option}: must follow an image", path=where, line=number,
                          fix="move it right under the image's line")
    k = j - 1
    while not out[k].startswith(":::{"):
        k -= 1
    out.insert(k + 1, f":{option}: {value}"), origin.insert(k + 1, number)


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

    def cells(self, executed: dict, framework: str) -> list[tuple[Block, object]]:
        """A framework's cells of this run, each with the block it came from."""
        by_id = {c["id"]: c for c in executed[framework].cells}
        return [(block, by_id[cell_id(i)]) for i, block in self.blocks if framework in block.tabs]


def runs(page: Page) -> list[Run]:
    """The page's non-blank blocks as runs, in page order. Shared prose is a run of its own;
    blank prose between two code cells (or two tab blocks) does not end a run."""
    found, kind_of_run, run = [], None, []
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

