"""Stage 1, read (one file): d2lbook's markdown dialect -> a `Page` of blocks, each knowing its tabs.

The dialect, with d2lbook's semantics (d2lbook/notebook.py, markdown.py, slides.py, rst.py):

* a code cell is a fence whose info string is ``{.python .input}``; its marks (tabs, per-framework
  branches, hiding) are read by `cells`;
* prose between ``:begin_tab:`pytorch``` and ``:end_tab:`` belongs to that tab;
* the prose between two code cells (or tab marks) is one prose block; its slide marks are read
  first, as d2lbook's book does (`slides`): ``[**kept**]``, ``(~~left out~~)``;
* ``toc`` fences list the pages below this one;
* labels, roles, images, tables, ``eval_rst`` fences: `myst`.

Each prose block is also turned into MyST here (`Block.myst`, with the source
line of every MyST line), so that every dialect error surfaces while reading,
before any kernel starts. A slip that d2lbook would silently take as something
else (``#@tabpytorch``, a fence left open) is an error too. Every error names
the file and line, and a page's errors are reported together.
"""
from __future__ import annotations

import dataclasses
import posixpath
from pathlib import Path

from bookbuild.errors import SourceError, raise_all
from bookbuild.marks import (  # noqa: F401  (the dialect's patterns, for the stages that read it)
    ANY_FENCE,
    BEGIN_TAB,
    BIBLIOGRAPHY,
    BIBLIOGRAPHY_LINE,
    CITATION,
    CODE_FENCE,
    DIALECT_LINES,
    END_TAB,
    HEADING,
    IMAGE_LINE,
    INLINE_IMAGE,
    LABEL_LINE,
    REFERENCE,
    TOC_FENCE,
    WIDTH_LINE,
    closes,
    structure,
)
from bookbuild.read import cells, myst, slides
from bookbuild.read.cells import parse_tabs  # noqa: F401  (the dialect's tab lists, for callers)
from bookbuild.read.myst import to_myst  # noqa: F401
from bookbuild.source import (  # noqa: F401  (what a page is: the ground floor's, read here)
    Block,
    Label,
    Mention,
    Page,
    Run,
    block_index,
    cell_id,
    runs,
)

# Characters nobody sees that can hide a dialect line (a label, a fence, a tab mark) from the reader.
INVISIBLE = {"\ufeff": "BYTE ORDER MARK", "\u200b": "ZERO WIDTH SPACE", "\u200c": "ZERO WIDTH NON-JOINER",
             "\u200d": "ZERO WIDTH JOINER", "\u2060": "WORD JOINER", "\u00a0": "NO-BREAK SPACE",
             "\u00ad": "SOFT HYPHEN", "\u200e": "LEFT-TO-RIGHT MARK", "\u200f": "RIGHT-TO-LEFT MARK"}


def read_text(root: Path, path: Path, data: bytes | None = None) -> str:
    """The page's text as the dialect reads it: UTF-8, a leading byte-order mark dropped and every line
    ending made `\n`, so the same text gives the same book whatever editor saved it. `data`: the file's
    bytes, if the caller has read them."""
    data = (Path(root) / path).read_bytes() if data is None else data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise SourceError(f"is not UTF-8 text (byte {data[err.start]:#04x} at byte {err.start})", path=path,
                          line=data[:err.start].count(b"\n") + 1, fix="save the file as UTF-8") from None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    errors = []
    for number, line in enumerate(text.split("\n") if any(char in text for char in INVISIBLE) else (), 1):
        try:
            _check_invisible(line, path, number)
        except SourceError as err:
            errors.append(err)
    raise_all(errors)
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


def read(root: Path, path: Path, frameworks: tuple[str, ...], errors: list | None = None,
         data: bytes | None = None) -> Page:
    """Split a dialect file into code blocks and prose blocks, with their tabs. Errors go to `errors`
    when it is given, and the page is read on past each (as well as it can be); else they are raised,
    all at once, at the end. `data`: the file's bytes, if the caller has read them."""
    path = Path(path)
    found: list[SourceError] = []
    lines = read_text(root, path, data).split("\n")
    lines = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    blocks: list[Block] = []
    prose: list[str] = []
    prose_start = 1
    prose_tabs: tuple[str, ...] | None = None
    open_tab_line = 0
    labels: list[Label] = []

    def flush_prose(next_line: int) -> None:
        nonlocal prose, prose_start
        if prose:
            text, origin = "".join(prose), list(range(prose_start, prose_start + len(prose)))
            try:
                text, origin = slides.remove(text, path, origin)
            except SourceError as err:
                found.append(err)
            converted = myst.convert(text, path, origin, found)
            blocks.append(Block("markdown", text, prose_tabs, prose_start, converted.text, converted.lines,
                                tuple(origin)))
            labels.extend(converted.labels)
        prose, prose_start = [], next_line

    i = 0
    while i < len(lines):
        line, number = lines[i], i + 1
        code, fence = CODE_FENCE.match(line), ANY_FENCE.match(line)
        if opening := code or fence:
            marker = opening.group(1)
            end = i + 1   # the closing line; where the cell stops if it is never closed
            while end < len(lines) and not closes(marker, lines[end]):
                if code and CODE_FENCE.match(lines[end]):
                    found.append(SourceError(f"the code cell opened at line {number} is still open where another "
                                             f"opens at line {end + 1}", path=path, line=number,
                                             fix=f"close the cell with {marker} before line {end + 1}"))
                    break
                end += 1
            closed = end < len(lines) and closes(marker, lines[end])
            if end == len(lines):
                found.append(SourceError(f"code fence {marker} is never closed", path=path, line=number,
                                         fix=f"close it with a line {marker}"))
            if not code:  # any other fence (toc, eval_rst, plain code) is prose
                prose += lines[i:end + 1]
                i = end + 1
                continue
            if prose_tabs is not None:
                found.append(SourceError(f"code cell inside :begin_tab: (line {open_tab_line})", path=path,
                                         line=number, fix="close the tab with :end_tab: first, and mark the cell "
                                                          "with #@tab"))
            flush_prose(number)
            blocks.extend(_code_blocks(lines[i + 1:end], number + 1, path, frameworks, found))
            i = end + 1 if closed else end
            prose_start = i + 1
            continue
        begin, finish = BEGIN_TAB.match(line.strip()), END_TAB.match(line.strip())
        if begin:
            if prose_tabs is not None:
                found.append(SourceError(f":begin_tab: inside the tab opened at line {open_tab_line}", path=path,
                                         line=number, fix="add :end_tab: before it"))
            flush_prose(number + 1)
            try:
                prose_tabs = parse_tabs(begin.group(1), frameworks, {"path": path, "line": number})
            except SourceError as err:
                found.append(err)
                prose_tabs = frameworks
            open_tab_line = number
        elif finish:
            if prose_tabs is None:
                found.append(SourceError(":end_tab: without a :begin_tab: before it", path=path, line=number,
                                         fix="remove it, or open the tab with :begin_tab:`name`"))
            flush_prose(number + 1)
            prose_tabs = None
        else:
            prose.append(line)
        i += 1
    if prose_tabs is not None:
        found.append(SourceError(":begin_tab: is never closed", path=path, line=open_tab_line, fix="add :end_tab:"))
    flush_prose(len(lines) + 1)
    own = _own_frameworks(blocks, frameworks)
    blocks = [dataclasses.replace(b, tabs=tuple(fw for fw in b.tabs if fw in own)) if b.tabs and own != frameworks
              else b for b in _hidden(blocks)]
    page = Page(path, tuple(blocks), *_prose_facts(path, blocks, labels), frameworks=own)
    found.sort(key=lambda err: err.line or 0)
    if errors is None:
        raise_all(found)
    else:
        errors.extend(found)
    return page


def _code_blocks(body: list[str], first_line: int, path: Path, frameworks: tuple[str, ...], errors: list):
    """A code cell's blocks: one, or one per framework when its `if` branches select frameworks;
    none for the cell that loads d2lbook's tab mechanism."""
    tabs, body, numbers, every = cells.code_tabs(body, first_line, path, frameworks, errors)
    if any(cells.LOAD_TAB in line for line in body):
        return []
    own = tabs or frameworks[:1]
    versions = [(own, body, numbers)]
    if cells.selects(body):
        try:
            versions = [((fw,), *cells.for_framework(body, numbers, fw, path)) for fw in own]
        except SourceError as err:
            errors.append(err)
    blocks = []
    for fw, text, code_lines in versions:
        source = "".join(text).rstrip("\n")
        blocks.append(Block("code", source, fw, code_lines[0] if code_lines else first_line,
                            lines=tuple(code_lines[:max(1, source.count("\n") + 1)]), tab_marked=bool(tabs),
                            names_tabs=bool(tabs) and not every))
    return blocks


def _own_frameworks(blocks: list[Block], frameworks: tuple[str, ...]) -> tuple[str, ...]:
    """The frameworks the page has, d2lbook's rule (notebook.get_tab_notebook): a page with code has the
    first framework, and every other one that a tab mark or a :begin_tab: names; its `#@tab all` cells
    belong to those only (multiple-gpus.md has no TensorFlow version: no TensorFlow tab runs or shows
    its shared cells). A page without code has them all, and so (unlike d2lbook, which gives it the
    first only) does a page whose marks name no framework, `#@tab all` alone: no page of d2l-tr is one,
    and a book written for this build means its `all` cells for every framework."""
    named = {fw for b in blocks if b.tabs is not None and (b.kind == "markdown" or b.names_tabs) for fw in b.tabs}
    if not named or not any(b.kind == "code" for b in blocks):
        return frameworks
    return tuple(fw for fw in frameworks if fw == frameworks[0] or fw in named)


def _hidden(blocks: list[Block]) -> list[Block]:
    """Each code block with what the page hides of it (`cells.hidden`; `#@hide_all` holds to the page's end)."""
    hide_all, marked = False, []
    for block in blocks:
        if block.kind == "code":
            hide = cells.hidden(block.source, hide_all)
            hide_all = hide_all or "#@hide_all" in block.source.lower()
            block = dataclasses.replace(block, hide=hide) if hide else block
        marked.append(block)
    return marked


def _prose_facts(path: Path, blocks: list[Block], named: list[Label],
                 ) -> tuple[tuple[Label, ...], tuple[Mention, ...], tuple[tuple[Path, int], ...]]:
    """The labels a page defines, what its prose refers to, and its toc entries."""
    labels = list(named)
    mentions, toc = [], []
    for block in (b for b in blocks if b.kind == "markdown"):
        in_fence, in_toc = None, False
        for offset, line in enumerate(block.source.split("\n")):
            number, stripped = block.lines[min(offset, len(block.lines) - 1)], line.strip()
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
                continue
            if LABEL_LINE.match(line):
                continue
            if BIBLIOGRAPHY_LINE.match(line):
                mentions.append(Mention("bibliography", "", number))
                continue
            image = IMAGE_LINE.match(line)
            if image:
                mentions.append(Mention("image", image.group(2), number))
                continue
            mentions += [Mention("image", target, number) for target in INLINE_IMAGE.findall(line)]
            mentions += [Mention(role, target.strip(), number) for role, target in REFERENCE.findall(line)]
            mentions += [Mention("cite", key.strip(), number) for keys in CITATION.findall(line)
                         for key in keys.split(",") if key.strip()]
    return tuple(labels), tuple(mentions), tuple(toc)


