"""The merge -> render contract: how a merged notebook tells the Sphinx extensions
what belongs to which framework's tab, and what else the build places on a page.

The merge stage writes these marks; `tabs`, `figures`, `page_tools` and `interactive`
read them. Both sides import them from here, so they cannot drift apart.

* a framework's code cell of tab group n: the cell's tags ``d2l-tab-<name>`` and ``d2l-group-<n>``,
  which MyST-NB puts on the rendered cell as the classes ``tag_<tag>`` (its documented rule for tags);
* every code cell: the tag ``d2l-cell-<id>``, by which the render stage finds the cell's own
  metadata in the staged notebook (`staged_cell`);
* a framework's tab prose: a ``{d2l-tab}`` directive with ``:group: n``
* the page's tools (framework chooser, downloads, PDFs): a ``{d2l-page-tools}`` directive
* an interactive figure placed by the build: a ``{d2l-interactive}`` directive
* what each figure of a code cell shows and its size: ``cell.metadata["d2l_images"] = [{"alt", "size"}]``
* the merged notebook's provenance (for messages at the source's file:line):
  ``metadata["d2l_source"] = {"path": ..., "lines": [[source line of each line of cell i], ...]}``

Beside the pages, the staging folder holds what is not a page (`Staged`): Sphinx is told to skip those
folders (conf.py's `exclude_patterns` come from here). The merge stage hands render a `Manifest` of
what it staged.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path

TAB_TAG, GROUP_TAG, CELL_TAG = "d2l-tab-", "d2l-group-", "d2l-cell-"
RENDERED_TAG = "tag_"   # MyST-NB: a cell's tag becomes the class tag_<tag> of its container
TAB_PROSE = "d2l-tab"
PAGE_TOOLS = "d2l-page-tools"
INTERACTIVE = "d2l-interactive"
SOURCE_KEY = "d2l_source"
IMAGES = "d2l_images"


class Staged:
    """The folders of the staging folder that are not pages; each keeps its name on the site."""
    NOTEBOOKS = "_notebooks"      # readers' notebooks, one per page and framework
    PDF = "_pdf"                  # the PDFs of `make pdf`
    EXTRA = "_extra"              # copied to the site's root as they are (Sphinx's html_extra_path)
    WHEEL = "_d2l"                # the readers' d2l wheel, under EXTRA
    INTERACTIVE = "_interactive"  # interactive figures' scripts and styles

    @classmethod
    def not_pages(cls) -> list[str]:
        """Sphinx's `exclude_patterns` for them."""
        return [f"{folder}/**" for folder in (cls.NOTEBOOKS, cls.PDF, cls.EXTRA, cls.INTERACTIVE)]


INTERACTIVE_ASSETS = Staged.INTERACTIVE


@dataclasses.dataclass(frozen=True)
class Manifest:
    """What the merge stage hands on to render: the staging folder and everything it staged there, by kind
    (paths relative to `staging`)."""
    staging: Path
    pages: tuple[Path, ...]                        # one merged notebook per page of the book
    downloads: Mapping[Path, Mapping[str, Path]]   # the readers' notebooks: {page: {framework: notebook}}
    pdfs: Mapping[str, Path]                       # {framework: its PDF}, linked from every page
    assets: tuple[Path, ...]                       # images, files the pages name, interactive figures' files, wheel
    digest: str                                    # of every staged file but the PDFs

    @property
    def files(self) -> tuple[Path, ...]:
        """Every file staged, each once, sorted."""
        downloads = (path for notebooks in self.downloads.values() for path in notebooks.values())
        return tuple(sorted({*self.pages, *downloads, *self.pdfs.values(), *self.assets}))


def _tag(cell, tag: str) -> None:
    cell.metadata["tags"] = [*cell.metadata.get("tags", []), tag]


def mark_cell(cell, tab: str, group: int) -> None:
    """A framework's code cell of tab group `group`."""
    _tag(cell, f"{TAB_TAG}{tab}")
    _tag(cell, f"{GROUP_TAG}{group}")


def name_cell(cell, cell_id: str) -> None:
    _tag(cell, f"{CELL_TAG}{cell_id}")


def _mark(tags) -> tuple[str, int] | None:
    tab = next((t[len(TAB_TAG):] for t in tags if t.startswith(TAB_TAG)), None)
    group = next((int(t[len(GROUP_TAG):]) for t in tags if t.startswith(GROUP_TAG)), None)
    return (tab, group) if tab is not None and group is not None else None


def cell_mark(metadata) -> tuple[str, int] | None:
    """(framework, group) of a merged notebook's cell, from its metadata; None if it is shown to all."""
    return _mark((metadata or {}).get("tags", []))


def _rendered_tags(node) -> list[str]:
    return [c[len(RENDERED_TAG):] for c in node.get("classes", []) if c.startswith(RENDERED_TAG)]


def node_mark(node) -> tuple[str, int] | None:
    """(framework, group) of a rendered cell (a docutils node), from its classes."""
    return _mark(_rendered_tags(node))


def staged_cell(node, staged: dict) -> dict | None:
    """The staged notebook's cell (a dict: {"id": cell}) that a rendered cell came from, or None."""
    cell_id = next((t[len(CELL_TAG):] for t in _rendered_tags(node) if t.startswith(CELL_TAG)), None)
    return staged.get(cell_id) if cell_id else None


def tab_prose(body: str, tab: str, group: int) -> str:
    return f"::::{{{TAB_PROSE}}} {tab}\n:group: {group}\n\n{body}\n::::"


def page_tools(notebooks: dict[str, str], pdfs: dict[str, str]) -> str:
    """`notebooks`, `pdfs`: {framework: file path relative to the site root}."""
    return f"```{{{PAGE_TOOLS}}}\n{json.dumps({'notebooks': notebooks, 'pdfs': pdfs}, sort_keys=True)}\n```"


def interactive(placement) -> str:
    """The mark of an interactive figure (sidecars.Placement); its script and style are staged, and served,
    under INTERACTIVE_ASSETS."""
    options = {"script": f"{INTERACTIVE_ASSETS}/{placement.script.as_posix()}"}
    if placement.style:
        options["style"] = f"{INTERACTIVE_ASSETS}/{placement.style.as_posix()}"
    if placement.description:
        options["description"] = placement.description
    return f"```{{{INTERACTIVE}}} {placement.id}\n{json.dumps(options, sort_keys=True)}\n```"
