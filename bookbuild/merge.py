"""Stage 4, merge: the executed notebooks of a page -> one notebook of tab groups.

A tab group is what d2lbook shows as one set of tabs: a run of code cells and
`:begin_tab:` prose with no shared prose between them. In the merged notebook
each framework's cells of a group carry `{"d2l": {"tab": name, "group": n}}`
(code) or sit in a ``{d2l-tab}`` directive (prose); the `tabs` extension turns
them into sphinx-tabs at render time. A run whose code is the same for every
framework and printed nothing is shown once, without tabs. Prose is turned from
the dialect into MyST here.
"""
from __future__ import annotations

import copy

import nbformat

from bookbuild.dialect import Block, Page, to_myst
from bookbuild.split import cell_id

MERGED_KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def _runs(page: Page):
    """(kind, [(index, block), ...]) in page order; kind: "prose", "tab-prose" or "code".
    Blank prose between two code cells (or two tab blocks) does not end a run."""
    run_kind, run = None, []
    for index, block in enumerate(page.blocks):
        if block.is_blank:
            continue
        kind = "code" if block.kind == "code" else ("prose" if block.tabs is None else "tab-prose")
        if run and (kind != run_kind or kind == "prose"):
            yield run_kind, run
            run = []
        run_kind = kind
        run.append((index, block))
    if run:
        yield run_kind, run


def _outputs_of(cells) -> bool:
    return any(cell.get("outputs") for cell in cells)


def merge(page: Page, executed: dict[str, nbformat.NotebookNode], config,
          downloads: dict[str, str] | None = None, pdfs: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """One notebook for the render stage; `downloads`, `pdfs`: {framework: path of a file for readers}."""
    cells_by_id = {name: {c["id"]: c for c in nb.cells} for name, nb in executed.items()}
    merged = nbformat.v4.new_notebook()
    merged.metadata["kernelspec"] = dict(MERGED_KERNELSPEC)
    merged.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    group, in_group = 0, False  # in_group: the last run was tabbed, the next may join its group
    for kind, run in _runs(page):
        if kind == "prose":
            (_, block), = run
            merged.cells.append(nbformat.v4.new_markdown_cell(_prose(page, block)))
            in_group = False
            continue
        if not in_group:
            group += 1
        in_group = True
        if kind == "tab-prose":
            merged.cells.append(nbformat.v4.new_markdown_cell(_tab_prose(page, run, group)))
            continue
        per_framework = {
            fw.name: [cells_by_id[fw.name][cell_id(i)] for i, block in run if fw.name in block.tabs]
            for fw in config.frameworks
        }
        sources = {tuple(c.source for c in cells) for cells in per_framework.values()}
        if len(sources) == 1 and not any(_outputs_of(cells) for cells in per_framework.values()):
            merged.cells += [_plain(cell) for cell in per_framework[config.frameworks[0].name]]
            in_group = False
            continue
        for name, cells in per_framework.items():
            for cell in cells:
                cell = _plain(cell)
                cell.metadata["d2l"] = {"tab": name, "group": group}
                merged.cells.append(cell)
    if downloads:
        _insert_downloads(merged, downloads, pdfs or {}, config)
    for number, cell in enumerate(merged.cells):  # stable ids: an unchanged page is an unchanged file
        cell["id"] = f"c{number}"
    return merged


def _plain(cell) -> nbformat.NotebookNode:
    cell = copy.deepcopy(cell)
    cell.metadata = {}
    cell.pop("id", None)
    return cell


def _prose(page: Page, block: Block) -> str:
    return to_myst(block.source, page.path, block.line).strip("\n")


def _tab_prose(page: Page, run, group: int) -> str:
    parts = []
    for _, block in run:
        body = _prose(page, block)
        for name in block.tabs:
            parts.append(f"::::{{d2l-tab}} {name}\n:group: {group}\n\n{body}\n::::")
    return "\n\n".join(parts)


def _insert_downloads(merged, downloads: dict[str, str], pdfs: dict[str, str], config) -> None:
    """A line of download links under the page title (HTML only: a PDF has one framework)."""
    def links(files):
        return " · ".join(f"{{download}}`{config.framework(name).label} <{path}>`" for name, path in files.items())
    line = f"Defter olarak indir: {links(downloads)}" + (f" — PDF: {links(pdfs)}" if pdfs else "")
    cell = nbformat.v4.new_markdown_cell(
        f"::::{{only}} html\n:::{{container}} d2l-downloads\n{line}\n:::\n::::")
    first = merged.cells[0] if merged.cells and merged.cells[0].cell_type == "markdown" else None
    lines = first.source.split("\n") if first else []
    title = next((i for i, line in enumerate(lines) if line.startswith("# ")), None)
    if title is None:
        merged.cells.insert(0, cell)
        return
    # Right under the title: the rest of the first cell follows the links.
    first.source = "\n".join(lines[:title + 1])
    rest = "\n".join(lines[title + 1:]).strip("\n")
    merged.cells[1:1] = [cell] + ([nbformat.v4.new_markdown_cell(rest)] if rest else [])
