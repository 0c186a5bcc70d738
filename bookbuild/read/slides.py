"""d2lbook's slide marks, as its book (not its slides) treats them (d2lbook/slides.py).

The text between ``[**`` and ``**]`` (or ``(**`` and ``**)``) is what d2lbook puts on a slide;
the book shows it without the marks (and not bold). Text between ``[~~`` and ``~~]`` (or ``(~~``
and ``~~)``) is for slides only: the book leaves it out, marks and all. d2lbook pairs the marks
over a whole prose cell (all the prose between two code cells or tab marks), so a span may cross
lines, blank lines, a ``$$`` equation or a heading; the k-th opening mark of a kind closes at the
k-th closing one. ``[**a**](url)`` is a bold link, not a mark. Code cells are never touched.

d2lbook asserts when a cell's marks do not pair; here that is an error at the mark's line.
"""
from __future__ import annotations

from pathlib import Path

from bookbuild.errors import SourceError

PAIRS = (("[**", "**]"), ("(**", "**)"), ("[~~", "~~]"), ("(~~", "~~)"))


def _positions(text: str, mark: str) -> list[int]:
    """Every position `mark` starts at (overlapping ones too, as d2lbook counts them)."""
    found, at = [], text.find(mark)
    while at >= 0:
        found.append(at)
        at = text.find(mark, at + 1)
    return found


def _unpaired(starts: list[int], ends: list[int]) -> tuple[list[int], list[int]]:
    """Openings with no closing after them, and closings with no opening before them."""
    events = sorted([(p, 0) for p in starts] + [(p, 1) for p in ends])
    open_, lone_ends = [], []
    for position, is_end in events:
        if not is_end:
            open_.append(position)
        elif open_:
            open_.pop()
        else:
            lone_ends.append(position)
    return open_, lone_ends


def _lone_position(starts: list[int], ends: list[int]) -> int:
    lone_starts, lone_ends = _unpaired(starts, ends)
    return (lone_starts or lone_ends or starts or ends)[0]


def _lone(starts: list[int], ends: list[int], opening: str, closing: str) -> str:
    lone_starts, lone_ends = _unpaired(starts, ends)
    return opening if lone_starts or not lone_ends else closing


def spans(text: str, path: Path, lines: list[int]) -> list[tuple[int, int, bool]]:
    """(start, end, keep) of each marked span: text[start:end] is the span with its marks;
    `keep`: its text stays (``**``), or it is left out (``~~``)."""
    def line_of(position: int) -> int:
        return lines[text.count("\n", 0, position)]

    found = []
    for opening, closing in PAIRS:
        starts, ends = _positions(text, opening), _positions(text, closing)
        if len(starts) != len(ends):
            raise SourceError(f"the slide mark `{_lone(starts, ends, opening, closing)}` has no partner: "
                              f"{len(starts)} `{opening}` but {len(ends)} `{closing}` in this prose (d2lbook pairs "
                              f"them over all the prose between two code cells)", path=path,
                              line=line_of(_lone_position(starts, ends)),
                              fix=f"close every `{opening}` with a `{closing}`, or write the text without the mark")
        for k, (start, end) in enumerate(zip(starts, ends)):
            if end < start + len(opening) or (k + 1 < len(starts) and starts[k + 1] < end):
                raise SourceError(f"the slide marks {opening} … {closing} overlap", path=path, line=line_of(start),
                                  fix=f"close each `{opening}` with `{closing}` before the next one opens")
            if closing.endswith("]") and text.startswith(closing + "(", end):
                continue   # [**a**](url): a bold link
            found.append((start, end + len(closing), opening.endswith("**")))
    return sorted(found)


def remove(text: str, path: Path, lines: list[int]) -> tuple[str, list[int]]:
    """The prose as the book shows it, and the source line of each of its lines (`lines`: the source
    line of each line of `text`). A left-out span that crossed lines joins what stood around it."""
    cut = bytearray(len(text))   # 1: the character is not in the book
    for start, end, keep in spans(text, path, lines):
        if keep:
            cut[start:start + 3] = cut[end - 3:end] = b"\1\1\1"
        else:
            cut[start:end] = b"\1" * (end - start)
    if not any(cut):
        return text, list(lines)
    kept, origin, line = [], [lines[0]], 0
    for position, char in enumerate(text):
        if not cut[position]:
            kept.append(char)
            if char == "\n":
                origin.append(lines[min(line + 1, len(lines) - 1)])
        if char == "\n":
            line += 1
    text = "".join(kept)
    return text, origin[:len(text.splitlines()) or 1]
