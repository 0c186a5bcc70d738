"""d2lbook's marks as patterns, and the Markdown structure of a prose block as CommonMark reads it.

The patterns follow d2lbook 1.0.3 (common.py, notebook.py, rst.py); the reader (read/dialect), its MyST
conversion (read/myst), what a page is (source.py: its title) and the render stage's page tools share
them, so they sit on the ground floor. Where Markdown itself
decides what a line is (a heading, indented or setext; a table), markdown-it-py reads it, as MyST
will: a regex would disagree with the page's rendering at the edges.
"""
from __future__ import annotations

import dataclasses
import functools
import re

CODE_FENCE = re.compile(r"^(`{3,})\{\.python\s+\.input\b[^}]*\}\s*$")
ANY_FENCE = re.compile(r"^(`{3,}|~{3,})(.*)$")
TAB_MARK = re.compile(r"^(?:# *@tab +|%%tab +)([\w, ]+?)\s*$")   # d2lbook's source_tab_pattern(_2)
LOOKS_LIKE_TAB_MARK = re.compile(r"^(?:#\s*@\s*tab|%%\s*tab)", re.IGNORECASE)
BEGIN_TAB = re.compile(r"^:begin_tab:`([^`]*)`\s*$")
END_TAB = re.compile(r"^:end_tab:\s*$")
TOC_FENCE = re.compile(r"^```+\s*toc\s*$")
BIBLIOGRAPHY = re.compile(r"^\.\. bibliography::")   # in an eval_rst fence: the page listing the works cited

REFERENCE = re.compile(r":(numref|ref|eqref):`([^`]+)`")
CITATION = re.compile(r":cite[tp]?:`([^`]+)`")       # :cite:, :citet: (textual), :citep: (in parentheses)
LABEL_LINE = re.compile(r"^:(label|eqlabel):`([^`]+)`\s*$")
WIDTH_LINE = re.compile(r"^:(?:width|height):`([^`]+)`\s*$")   # an image's size (either option)
OPTION_LINE = re.compile(r"^:(width|height):`([^`]+)`\s*$")
BIBLIOGRAPHY_LINE = re.compile(r"^:bibliography:`([^`]+)`\s*$")
IMAGE_LINE = re.compile(r"^!\[(.*)\]\((\S+?)\)\s*$")
INLINE_IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")   # an image within a line of text (deepfm.md)
HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")   # an ATX heading, as CommonMark has it
TABLE_CAPTION = re.compile(r"^:(?![\w-]+:`[^`]*`\s*$)(.*\S)\s*$")   # `:Caption` (not a whole-line mark)

DIALECT_LINES = (CODE_FENCE, ANY_FENCE, TAB_MARK, BEGIN_TAB, END_TAB, TOC_FENCE, LABEL_LINE, WIDTH_LINE,
                 IMAGE_LINE, re.compile(r"^ {0,3}#{1,6} \S"), REFERENCE, CITATION)


def closes(fence: str, line: str) -> bool:
    return re.match(rf"^{re.escape(fence[0])}{{{len(fence)},}}\s*$", line) is not None


@dataclasses.dataclass(frozen=True)
class Heading:
    first: int      # index of its first line in the text (a setext heading has two)
    last: int       # index of its last line
    level: int
    title: str


@dataclasses.dataclass(frozen=True)
class Table:
    first: int      # index of its header row
    last: int       # index of its last line (a `:label:` line right under it is read as a row)


SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
TABLE_DELIMITER = re.compile(r"^ {0,3}\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")
FENCE_OPENING = re.compile(r"^ {0,3}(`{3,}|~{3,})")
INDENTED_CODE = re.compile(r"^(?: {4}|\t)")
NOT_A_PARAGRAPH = re.compile(r"^ {0,3}(?:[-+*]|\d{1,9}[.)]|>)(?:[ \t]|$)")   # a list item or a quote: no setext


def _cells(row: str) -> int:
    """How many cells a table row has (GFM: pipes at either end are optional, `\\|` is no pipe)."""
    row = row.strip()
    row = row[1:] if row.startswith("|") else row
    row = row[:-1] if row.endswith("|") and not row.endswith("\\|") else row
    return len(re.split(r"(?<!\\)\|", row))


@functools.lru_cache(maxsize=256)
def structure(text: str) -> tuple[tuple[Heading, ...], tuple[Table, ...]]:
    """The headings and tables of a prose text as CommonMark (with GFM tables) reads them, and MyST after
    it: ATX headings indented up to three spaces, setext headings, pipe tables (a header row, its
    delimiter row with as many cells, then rows up to a blank line). Fenced blocks hold neither. Plain
    Python on purpose: the reader also runs where no Markdown library is installed (the frameworks'
    environments read the chapter's code with it); tests/build/test_dialect.py holds it to markdown-it-py's
    reading of every page of d2l-tr."""
    lines = text.split("\n")
    headings, tables = [], []
    # paragraph: index of its first line (-1: a list item's or a quote's); table: index of its header row
    fence, paragraph, table = None, None, None
    for i, line in enumerate(lines):
        if fence:
            fence = None if re.match(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", line) else fence
            continue
        blank = not line.strip()
        if table is not None:
            if not blank and not FENCE_OPENING.match(line) and not HEADING.match(line):
                continue
            tables.append(Table(table, i - 1))
            table = None
        if blank:
            paragraph = None
        elif opening := FENCE_OPENING.match(line):
            fence, paragraph = opening.group(1), None
        elif (heading := HEADING.match(line)) or re.match(r"^ {0,3}#{1,6}[ \t]*$", line):
            title = heading.group(2) if heading else ""
            headings.append(Heading(i, i, len(line.strip().split()[0]), title.strip()))
            paragraph = None
        elif paragraph is not None and paragraph >= 0 and SETEXT_UNDERLINE.match(line) \
                and not lines[i - 1].lstrip().startswith("|"):
            title = " ".join(part.strip() for part in lines[paragraph:i])
            headings.append(Heading(paragraph, i, 1 if line.strip()[0] == "=" else 2, title))
            paragraph = None
        elif paragraph is not None and "|" in lines[i - 1] and TABLE_DELIMITER.match(line) \
                and _cells(lines[i - 1]) == _cells(line):   # a table may end a paragraph (markdown-it's rule)
            table, paragraph = i - 1, None
        elif paragraph is None and not INDENTED_CODE.match(line):
            paragraph = -1 if NOT_A_PARAGRAPH.match(line) else i
    if table is not None:
        tables.append(Table(table, len(lines) - 1 - (not lines[-1].strip())))
    return tuple(headings), tuple(tables)
