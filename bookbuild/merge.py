"""Stage 4, merge: the executed notebooks of a page -> one notebook of tab groups,
staged (with the readers' downloads and the images) where the render stage reads it.

A tab group is what d2lbook shows as one set of tabs: a run of code cells and
`:begin_tab:` prose with no shared prose between them. Each framework's cells
of a group carry the marks of `tab_marks`; the render stage turns them into
tabs. A run whose code is the same for every framework and printed nothing is
shown once, without tabs. Every merged cell records the source lines it came
from, so a render warning can name the page's own file and line.
"""
from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import nbformat

from bookbuild import figures, interactive, tab_marks
from bookbuild.dialect import Block, Page
from bookbuild.read import BookSource, image_path
from bookbuild.split import cell_id, for_download

MERGED_KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
IMAGE_TYPES = ("image/svg+xml", "image/png", "image/jpeg")


@dataclasses.dataclass(frozen=True)
class Run:
    """Consecutive blocks of one kind: shared "prose", "tab-prose" or "code"."""
    kind: str
    blocks: tuple[tuple[int, Block], ...]   # (index on the page, block)

    @property
    def line(self) -> int:
        return self.blocks[0][1].line

    def cells(self, executed: dict, framework: str) -> list[tuple[Block, nbformat.NotebookNode]]:
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


def merge(page: Page, executed: dict[str, nbformat.NotebookNode], config,
          tools: str | None = None, placements=()) -> nbformat.NotebookNode:
    """One notebook for the render stage. `tools`: the page-tools directive to put under the title;
    `placements`: the page's interactive figures (interactive.Placement)."""
    merged = nbformat.v4.new_notebook()
    merged.metadata["kernelspec"] = dict(MERGED_KERNELSPEC)
    merged.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    lines: list[list[int]] = []

    def add(cell, origin: list[int]) -> None:
        merged.cells.append(cell)
        lines.append(origin)

    group, in_group = 0, False  # in_group: the last run was tabbed, the next may join its group
    figures_before = {}
    for placement in placements:
        figures_before.setdefault(placement.before_line, []).append(interactive.directive(placement))
    for run in runs(page):
        if run.kind == "prose":
            (_, block), = run.blocks
            for text, origin in _split_before(block, figures_before):
                if text is None:
                    add(nbformat.v4.new_markdown_cell(origin[1]), [origin[0]])
                else:
                    add(nbformat.v4.new_markdown_cell(text), origin)
            in_group = False
            continue
        if not in_group:
            group += 1
        in_group = True
        if run.kind == "tab-prose":
            for _, block in run.blocks:
                for name in block.tabs:
                    text = tab_marks.tab_prose(block.myst.strip("\n"), name, group)
                    add(nbformat.v4.new_markdown_cell(text), [block.line] * 3 + _prose_lines(block) + [block.line])
            continue
        per_framework = {fw.name: run.cells(executed, fw.name) for fw in config.frameworks}
        sources = {tuple(c.source for _, c in cells) for cells in per_framework.values()}
        if len(sources) == 1 and not any(c.get("outputs") for cells in per_framework.values() for _, c in cells):
            for block, cell in per_framework[config.default_tab]:   # the same code, no output: shown once
                add(_plain(cell), _code_lines(block, cell))
            in_group = False
            continue
        for name, cells in per_framework.items():
            for block, cell in cells:
                cell = _plain(cell)
                _describe_images(cell, config.framework(name).label)
                tab_marks.mark_cell(cell, name, group)
                add(cell, _code_lines(block, cell))
    for figure in figures_before.get(None, []):   # the named section runs to the page's end
        add(nbformat.v4.new_markdown_cell(figure), [lines[-1][-1] if lines else 1])
    if tools:
        _insert_under_title(merged, lines, tools)
    merged.metadata[tab_marks.SOURCE_KEY] = {"path": page.path.as_posix(), "lines": lines}
    for number, cell in enumerate(merged.cells):  # stable ids: an unchanged page is an unchanged file
        cell["id"] = f"c{number}"
    return merged


def _split_before(block: Block, figures_before: dict):
    """A prose block as cells: (MyST text, source lines), with (None, (line, figure)) wherever a
    figure goes before a source line inside the block."""
    text, origin = block.myst.strip("\n").split("\n"), _prose_lines(block)
    origin += [origin[-1]] * (len(text) - len(origin))
    start = 0
    for line in sorted(l for l in figures_before if l is not None and block.line <= l <= origin[-1]):
        cut = next((i for i, o in enumerate(origin) if o >= line), len(text))
        if cut > start and "\n".join(text[start:cut]).strip():
            yield "\n".join(text[start:cut]).strip("\n"), origin[start:cut]
        for figure in figures_before[line]:
            yield None, (line, figure)
        start = cut
    if "\n".join(text[start:]).strip():
        yield "\n".join(text[start:]).strip("\n"), origin[start:]


def _code_lines(block: Block, cell) -> list[int]:
    return [block.line + i for i in range(max(1, len(cell.source.splitlines())))]


def _prose_lines(block: Block) -> list[int]:
    text = block.myst.strip("\n")
    skipped = len(block.myst) - len(block.myst.lstrip("\n"))
    return list(block.myst_lines[skipped:skipped + max(1, len(text.splitlines()))]) or [block.line]


def _plain(cell) -> nbformat.NotebookNode:
    cell = copy.deepcopy(cell)
    cell.metadata = {}
    cell.pop("id", None)
    return cell


def _describe_images(cell, framework_label: str) -> None:
    """Alt text and size of each figure the cell drew, for the render stage (tab_marks.IMAGES)."""
    images = []
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        kind = next((t for t in IMAGE_TYPES if t in data), None)
        if kind is None:
            continue
        svg = data[kind] if kind == "image/svg+xml" else ""
        images.append({"alt": figures.describe(cell.source, svg, framework_label),
                       "size": figures.size(svg) if svg else None})
    if images:
        cell.metadata[tab_marks.IMAGES] = images


def _insert_under_title(merged, lines: list[list[int]], tools: str) -> None:
    """The page's tools go right under its title: the rest of the first cell follows them."""
    first = merged.cells[0] if merged.cells and merged.cells[0].cell_type == "markdown" else None
    text = first.source.split("\n") if first else []
    title = next((i for i, line in enumerate(text) if line.startswith("# ")), None)
    if title is None:
        merged.cells.insert(0, nbformat.v4.new_markdown_cell(tools))
        lines.insert(0, [1])
        return
    origin = lines[0] + [lines[0][-1]] * len(text)   # pad: a cell's line list may be shorter than its text
    rest = text[title + 1:]
    while rest and not rest[0].strip():
        rest.pop(0)
    rest_origin = origin[len(text) - len(rest):len(text)]
    while rest and not rest[-1].strip():
        rest.pop()
    first.source, lines[0] = "\n".join(text[:title + 1]), origin[:title + 1]
    merged.cells[1:1] = [nbformat.v4.new_markdown_cell(tools)] + ([nbformat.v4.new_markdown_cell("\n".join(rest))]
                                                                  if rest else [])
    lines[1:1] = [[origin[title]]] + ([rest_origin[:len(rest)]] if rest else [])


# --- staging ------------------------------------------------------------------------

def write_if_changed(path: Path, content: str | bytes) -> bool:
    """Leave an unchanged file alone: Sphinx decides what to re-read by modification time."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def notebook_text(nb) -> str:
    return nbformat.writes(nb) + "\n"


def download_path(page: Path, framework: str) -> Path:
    """Where a page's notebook for one framework is, in the staging folder and on the site."""
    return Path("_notebooks") / page.parent / f"{page.stem}-{framework}.ipynb"


def stage(config, staging: Path, source: BookSource, executed: dict, pdfs: dict[str, Path]) -> None:
    """Write what Sphinx reads: one merged notebook per page, the downloads, the images and PDFs.
    `pdfs`: {framework: a PDF `make pdf` made}, linked from every page."""
    written = set()

    def put(relative: Path, content: str | bytes) -> None:
        write_if_changed(staging / relative, content)
        written.add(staging / relative)

    pdf_links = {}
    for name, built in pdfs.items():
        target = Path("_pdf") / built.name
        put(target, built.read_bytes())
        pdf_links[name] = target.as_posix()
    for page in source.pages:
        notebooks = {}
        if page.has_code:
            for name, nb in executed[page.path].items():
                target = download_path(page.path, name)
                put(target, notebook_text(for_download(nb, config.framework(name))))
                notebooks[name] = target.as_posix()
        tools = tab_marks.page_tools(notebooks, pdf_links) if notebooks or pdf_links else None
        placements = source.placements.get(page.path, [])
        for placement in placements:
            for asset in filter(None, (placement.script, placement.style)):
                put(Path(interactive.ASSETS) / asset, (config.root / asset).read_bytes())
        merged = merge(page, executed[page.path], config, tools, placements)
        put(page.path.with_suffix(".ipynb"), notebook_text(merged))
        for mention in page.mentions:
            if mention.role == "image" and "://" not in mention.target:
                image = image_path(page, mention.target)
                put(image, (config.root / image).read_bytes())
    for stale in [p for p in staging.rglob("*") if p.is_file() and p not in written]:
        stale.unlink()
