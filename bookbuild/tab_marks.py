"""The merge -> render contract: how a merged notebook tells the Sphinx extensions
what belongs to which framework's tab, and what else the build places on a page.

The merge stage writes these marks; `tabs`, `page_tools` and `interactive`
read them. Both sides import them from here, so they cannot drift apart.

* a framework's code cell of tab group n: ``cell.metadata["d2l"] = {"tab": name, "group": n}``
* a framework's tab prose: a ``{d2l-tab}`` directive with ``:group: n``
* the page's tools (framework chooser, downloads, PDFs): a ``{d2l-page-tools}`` directive
* an interactive figure placed by the build: a ``{d2l-interactive}`` directive
* what each figure of a code cell shows and its size: ``cell.metadata["d2l_images"] = [{"alt", "size"}]``
* the merged notebook's provenance (for messages at the source's file:line):
  ``metadata["d2l_source"] = {"path": ..., "lines": [[source line of each line of cell i], ...]}``
"""
from __future__ import annotations

import json

CELL_KEY = "d2l"
TAB_PROSE = "d2l-tab"
PAGE_TOOLS = "d2l-page-tools"
INTERACTIVE = "d2l-interactive"
SOURCE_KEY = "d2l_source"
IMAGES = "d2l_images"


def mark_cell(cell, tab: str, group: int) -> None:
    cell.metadata[CELL_KEY] = {"tab": tab, "group": group}


def cell_mark(metadata) -> tuple[str, int] | None:
    mark = (metadata or {}).get(CELL_KEY)
    return (mark["tab"], mark["group"]) if mark else None


def tab_prose(body: str, tab: str, group: int) -> str:
    return f"::::{{{TAB_PROSE}}} {tab}\n:group: {group}\n\n{body}\n::::"


def page_tools(notebooks: dict[str, str], pdfs: dict[str, str]) -> str:
    """`notebooks`, `pdfs`: {framework: file path relative to the site root}."""
    return f"```{{{PAGE_TOOLS}}}\n{json.dumps({'notebooks': notebooks, 'pdfs': pdfs}, sort_keys=True)}\n```"


def interactive(widget: str, options: dict) -> str:
    return f"```{{{INTERACTIVE}}} {widget}\n{json.dumps(options, sort_keys=True)}\n```"
