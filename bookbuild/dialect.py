"""Stage 1, read: d2lbook's markdown dialect -> a `Page` of blocks, each knowing its tabs.

The dialect (d2lbook's semantics):

* a code cell is a fence whose info string is ``{.python .input}``; its optional
  first line ``#@tab pytorch`` / ``#@tab mxnet,pytorch`` / ``#@tab all`` names the
  frameworks it belongs to; without it the cell belongs to the first framework;
* prose between ``:begin_tab:`pytorch``` and ``:end_tab:`` belongs to that tab;
* ``toc`` fences list the pages below this one.

`to_myst` turns the prose roles (``:label:``, ``:numref:``, ``:eqref:``,
``:eqlabel:``, ``:cite:``, ``:width:``, ``toc``, ``eval_rst``) into MyST, which
the render stage understands. Every error names the file and the line.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

CODE_FENCE = re.compile(r"^(`{3,})\{\.python\s+\.input\b[^}]*\}\s*$")
ANY_FENCE = re.compile(r"^(`{3,}|~{3,})(.*)$")
TAB_MARK = re.compile(r"^#@tab\b(.*)$")
BEGIN_TAB = re.compile(r"^:begin_tab:`([^`]*)`\s*$")
END_TAB = re.compile(r"^:end_tab:\s*$")


class DialectError(Exception):
    """The source breaks the dialect; the message starts with `file:line:`."""


@dataclasses.dataclass(frozen=True)
class Block:
    kind: str                      # "code" or "markdown"
    source: str                    # code without its `#@tab` line; markdown as written
    tabs: tuple[str, ...] | None   # frameworks it belongs to; None: shared by all
    line: int                      # 1-based line of its first source line in the file

    @property
    def is_blank(self) -> bool:
        return self.kind == "markdown" and not self.source.strip()


@dataclasses.dataclass(frozen=True)
class Page:
    path: Path                     # relative to the book root, e.g. chapter_optimization/momentum.md
    blocks: tuple[Block, ...]

    @property
    def has_code(self) -> bool:
        return any(b.kind == "code" for b in self.blocks)

    def toc_entries(self) -> list[tuple[Path, int]]:
        """Pages listed in this page's `toc` fences (relative to the book root), with their lines."""
        entries = []
        for block in self.blocks:
            if block.kind != "markdown":
                continue
            in_toc = False
            for offset, line in enumerate(block.source.splitlines()):
                stripped = line.strip()
                if re.match(r"^```+\s*toc\s*$", stripped):
                    in_toc = True
                elif in_toc and stripped.startswith("```"):
                    in_toc = False
                elif in_toc and stripped and not stripped.startswith(":"):
                    entries.append((Path(self.path.parent, stripped).with_suffix(".md"), block.line + offset))
        return entries


def parse_tabs(text: str, frameworks: tuple[str, ...], where: str) -> tuple[str, ...]:
    """`pytorch`, `mxnet, pytorch` or `all` -> the frameworks, in build.yml order."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise DialectError(f"{where}: empty tab list; write e.g. `#@tab pytorch` or `#@tab all`")
    if names == ["all"]:
        return frameworks
    unknown = [n for n in names if n not in frameworks]
    if unknown:
        raise DialectError(
            f"{where}: unknown tab {', '.join(map(repr, unknown))}; build.yml declares "
            f"{', '.join(frameworks)} (or use `all`)")
    return tuple(fw for fw in frameworks if fw in names)


def read(root: Path, path: Path, frameworks: tuple[str, ...]) -> Page:
    """Split a dialect file into code blocks and prose blocks, with their tabs."""
    lines = (Path(root) / path).read_text(encoding="utf-8").splitlines(keepends=True)
    blocks: list[Block] = []
    prose: list[str] = []
    prose_start = 1
    prose_tabs: tuple[str, ...] | None = None
    open_tab_line = 0

    def flush_prose(next_line: int) -> None:
        nonlocal prose, prose_start
        if prose:
            blocks.append(Block("markdown", "".join(prose), prose_tabs, prose_start))
        prose, prose_start = [], next_line

    i = 0
    while i < len(lines):
        line, number = lines[i], i + 1
        where = f"{path}:{number}"
        code = CODE_FENCE.match(line)
        fence = ANY_FENCE.match(line)
        if code or fence:
            marker = (code or fence).group(1)
            end = i + 1
            while end < len(lines) and not re.match(rf"^{re.escape(marker[0])}{{{len(marker)},}}\s*$", lines[end]):
                end += 1
            if end == len(lines):
                raise DialectError(f"{where}: code fence {marker} is never closed")
            if not code:  # any other fence (toc, eval_rst, plain code) is prose
                prose += lines[i:end + 1]
                i = end + 1
                continue
            if prose_tabs is not None:
                raise DialectError(f"{where}: code cell inside :begin_tab: (line {open_tab_line}); "
                                   "close the tab with :end_tab: first, and mark the cell with #@tab")
            flush_prose(number)
            body = lines[i + 1:end]
            tabs, first_code_line = frameworks[:1], number + 1
            mark = TAB_MARK.match(body[0].strip()) if body else None
            if mark:
                tabs = parse_tabs(mark.group(1), frameworks, f"{path}:{number + 1}")
                body, first_code_line = body[1:], number + 2
            blocks.append(Block("code", "".join(body).rstrip("\n"), tabs, first_code_line))
            i = end + 1
            prose_start = i + 1
            continue
        begin, finish = BEGIN_TAB.match(line.strip()), END_TAB.match(line.strip())
        if begin:
            if prose_tabs is not None:
                raise DialectError(f"{where}: :begin_tab: inside the tab opened at line {open_tab_line}; "
                                   "add :end_tab: before it")
            flush_prose(number + 1)
            prose_tabs = parse_tabs(begin.group(1), frameworks, where)
            open_tab_line = number
        elif finish:
            if prose_tabs is None:
                raise DialectError(f"{where}: :end_tab: without a :begin_tab: before it")
            flush_prose(number + 1)
            prose_tabs = None
        else:
            prose.append(line)
        i += 1
    if prose_tabs is not None:
        raise DialectError(f"{path}:{open_tab_line}: :begin_tab: is never closed; add :end_tab:")
    flush_prose(len(lines) + 1)
    return Page(Path(path), tuple(blocks))


def read_book(root: Path, index: Path, frameworks: tuple[str, ...]) -> list[Page]:
    """The index and every page reachable through `toc` fences, in reading order."""
    pages, seen = [], set()

    def visit(path: Path, referrer: str) -> None:
        if path in seen:
            return
        if not (Path(root) / path).is_file():
            raise DialectError(f"{referrer}: toc entry {path.with_suffix('')} has no file {path}")
        seen.add(path)
        page = read(root, path, frameworks)
        pages.append(page)
        for entry, line in page.toc_entries():
            visit(entry, f"{path}:{line}")

    visit(Path(index), "build.yml")
    return pages


# --- prose: d2lbook roles -> MyST -------------------------------------------------

INLINE_ROLES = [
    (re.compile(r":numref:`([^`]+)`"), r"{numref}`\1`"),
    (re.compile(r":ref:`([^`]+)`"), r"{ref}`\1`"),
    (re.compile(r":eqref:`([^`]+)`"), r"{eq}`\1`"),
    (re.compile(r":cite:`([^`]+)`"), r"{cite:p}`\1`"),
]
LABEL_LINE = re.compile(r"^:(label|eqlabel):`([^`]+)`\s*$")
WIDTH_LINE = re.compile(r"^:width:`([^`]+)`\s*$")
IMAGE_LINE = re.compile(r"^!\[(.*)\]\((\S+?)\)\s*$")
HEADING = re.compile(r"^#{1,6} ")


def _convert_inline(line: str) -> str:
    for pattern, repl in INLINE_ROLES:
        line = pattern.sub(repl, line)
    return line


def to_myst(markdown: str, where: Path, first_line: int) -> str:
    """One prose block of the dialect -> MyST markdown (myst-parser with dollarmath)."""
    out: list[str] = []
    lines = markdown.splitlines()
    i = 0
    in_fence = None
    while i < len(lines):
        line = lines[i]
        number = first_line + i
        fence = ANY_FENCE.match(line)
        if in_fence:
            if re.match(rf"^{re.escape(in_fence[0])}{{{len(in_fence)},}}\s*$", line):
                in_fence = None
            out.append(line)
        elif fence:
            in_fence = fence.group(1)
            info = fence.group(2).strip()
            if info == "toc":
                out.append(f"{in_fence}{{toctree}}")
            elif info == "eval_rst":
                out.append(f"{in_fence}{{eval-rst}}")
            else:
                out.append(line)
        elif LABEL_LINE.match(line):
            _attach_label(out, LABEL_LINE.match(line).group(2), f"{where}:{number}")
        elif WIDTH_LINE.match(line):
            _attach_option(out, "width", WIDTH_LINE.match(line).group(1), f"{where}:{number}")
        elif IMAGE_LINE.match(line):
            caption, target = IMAGE_LINE.match(line).groups()
            out += [f":::{{figure}} {target}", caption, ":::"] if caption else [f":::{{image}} {target}", ":::"]
        else:
            out.append(_convert_inline(line))
        i += 1
    return "\n".join(out) + ("\n" if markdown.endswith("\n") else "")


def _previous(out: list[str]) -> int:
    j = len(out) - 1
    while j >= 0 and not out[j].strip():
        j -= 1
    return j


def _attach_label(out: list[str], label: str, where: str) -> None:
    """`:label:` names what stands just before it: a heading, an equation or a figure."""
    j = _previous(out)
    target = out[j] if j >= 0 else ""
    if HEADING.match(target):
        out.insert(j, f"({label})=")
    elif target.rstrip().endswith("$$"):
        out[j] = target.rstrip() + f" ({label})"
    elif target == ":::" and j >= 2:
        k = j - 1
        while not out[k].startswith(":::{"):
            k -= 1
        out.insert(k + 1, f":name: {label}")
    else:
        raise DialectError(f"{where}: :label:`{label}` must follow a heading, a $$ equation or an image")


def _attach_option(out: list[str], option: str, value: str, where: str) -> None:
    j = _previous(out)
    if j < 0 or out[j] != ":::":
        raise DialectError(f"{where}: :{option}: must follow an image")
    k = j - 1
    while not out[k].startswith(":::{"):
        k -= 1
    out.insert(k + 1, f":{option}: {value}")
