"""The marks of a code cell, as d2lbook reads them (d2lbook/notebook.py, rst.py, library.py).

* ``#@tab pytorch`` / ``# @tab mxnet, pytorch`` / ``#@tab all`` / ``%%tab pytorch``: the frameworks the
  cell belongs to (without one: the first framework); the mark's line is removed;
* ``if tab.selected('pytorch'):`` (or the older ``if d2l.USE_PYTORCH:``): the branch is kept, four
  spaces less indented, in that framework's cell and dropped from the others; the ``if`` line goes
  (d2lbook knows no ``else``: a line indented like the ``if`` ends the branch);
* a cell holding ``%load_ext d2lbook.tab`` sets up that mechanism in the notebook: no tab shows it;
* ``#@save`` marks code for d2lbook's library: the book shows the mark, as d2lbook does;
* ``#@hide`` hides the cell's code and output on the page, ``#@hide_code`` its code, ``#@hide_output``
  its output, ``#@hide_all`` both, in this cell and every code cell after it (also the older
  ``# hide code`` / ``# hide outputs``). Hidden cells still run, and the downloaded notebooks keep them.
"""
from __future__ import annotations

import re
from pathlib import Path

from bookbuild.errors import SourceError
from bookbuild.marks import LOOKS_LIKE_TAB_MARK, TAB_MARK

LOAD_TAB = "%load_ext d2lbook.tab"
MARK_IN_A_LINE = re.compile(r"(?:# *@tab +|%%tab +)[\w, ]")   # d2lbook searches the whole cell for it


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


def code_tabs(body: list[str], first_line: int, path: Path, frameworks: tuple[str, ...], errors: list):
    """(tabs it names or () without a mark, code lines without the tab mark, the source line of each,
    whether the mark is `all`). Errors go to `errors`; the cell is read on as if the faulty line were
    not there."""
    tabs: tuple[str, ...] = ()
    mark_line, every = None, False
    for offset, text in enumerate(body):
        stripped, number = text.strip(), first_line + offset
        mark = TAB_MARK.match(stripped)
        try:
            if mark:
                if mark_line is not None:
                    raise SourceError(f"a second tab mark (the first is at line {mark_line})", path=path, line=number,
                                      fix="give the cell one mark listing every framework, e.g. "
                                          "`#@tab mxnet, pytorch`")
                tabs, mark_line = parse_tabs(mark.group(1), frameworks, {"path": path, "line": number}), number
                every = mark.group(1).strip() == "all"
            elif LOOKS_LIKE_TAB_MARK.match(stripped):
                raise SourceError(f"`{stripped}` looks like a tab mark but is not one", path=path, line=number,
                                  fix="write it as `#@tab <framework>[, <framework> ...]` or `#@tab all`")
            elif MARK_IN_A_LINE.search(text):
                raise SourceError(f"a tab mark after code (`{stripped}`): d2lbook would take it and drop the "
                                  f"whole line, code and all", path=path, line=number,
                                  fix="put the mark on a line of its own")
        except SourceError as err:
            errors.append(err)
            mark_line = mark_line or number
    numbers = [first_line + offset for offset in range(len(body))]
    if mark_line is None:
        return tabs, body, numbers, every
    offset = mark_line - first_line
    return tabs, body[:offset] + body[offset + 1:], numbers[:offset] + numbers[offset + 1:], every


def selects(lines: list[str]) -> str | None:
    """The mark of d2lbook's per-framework `if` branches the cell uses, if any."""
    return next((mark for mark in ("tab.selected", "d2l.USE_") if any(mark in line for line in lines)), None)


def for_framework(lines: list[str], numbers: list[int], framework: str, path: Path) -> tuple[list[str], list[int]]:
    """The cell as `framework`'s tab has it (d2lbook's `_clean_if_branches`): each `if` branch that
    selects it kept and dedented by four spaces, every other branch dropped."""
    mark = selects(lines)
    if mark is None:
        return lines, numbers
    chosen = (lambda text: f'"{framework}"' in text or f"'{framework}'" in text) if mark == "tab.selected" else (
        lambda text: mark + framework.upper() in text)
    kept, kept_numbers, mode, indent = [], [], 0, 0   # mode: 0 outside a branch, 1 a kept one, 2 a dropped one
    for line, number in zip(lines, numbers, strict=True):
        if "\t" in line:
            raise SourceError(f"a tab character in a cell with `{mark}` branches", path=path, line=number,
                              fix="indent with spaces (d2lbook reads the branches by their indentation)")
        if "if" in line and mark in line:
            mode, indent = (1 if chosen(line) else 2), len(line) - len(line.lstrip())
            continue
        if mode and line.strip() and len(line) - len(line.lstrip()) <= indent:
            mode = 0
        if mode != 2:
            kept.append(line if mode == 0 else line[4:])
            kept_numbers.append(number)
    return kept, kept_numbers


def hidden(source: str, hide_all: bool) -> tuple[str, ...]:
    """What of the cell the page does not show, "code" and/or "output" (d2lbook's rst._process_nb)."""
    src = source.lower()
    hide_all = hide_all or "#@hide_all" in src
    output = hide_all or "# hide outputs" in src or ("#@hide" in src and "#@hide_code" not in src) \
        or "#@hide_output" in src
    code = hide_all or "# hide code" in src or ("#@hide" in src and "#@hide_output" not in src) \
        or "#@hide_code" in src
    return tuple(what for what, hide in (("code", code), ("output", output)) if hide)
