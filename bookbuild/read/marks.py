"""d2lbook's marks as patterns, and the Markdown structure of a prose block as CommonMark reads it.

The patterns follow d2lbook 1.0.3 (common.py, notebook.py, rst.py); the reader (dialect), its MyST
conversion (myst) and the render stage's notebooks (page_tools) share them. Where Markdown itself
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


@functools.lru_cache(maxsize=1)
def _parser():
    from markdown_it import MarkdownIt
    # Only the blocks matter here: the inline rules (the costly part) stay off.
    return MarkdownIt("commonmark").enable("table").disable(["inline", "text_join"])


@functools.lru_cache(maxsize=256)
def structure(text: str) -> tuple[tuple[Heading, ...], tuple[Table, ...]]:
    """The headings and tables of a prose text, as CommonMark (with GFM tables) reads it."""
    tokens = _parser().parse(text)
    headings, tables = [], []
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            first, end = token.map
            headings.append(Heading(first, end - 1, int(token.tag[1:]), tokens[i + 1].content.strip()))
        elif token.type == "table_open":
            tables.append(Table(token.map[0], token.map[1] - 1))
    return tuple(headings), tuple(tables)
