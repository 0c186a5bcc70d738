"""Stage 4, merge: the executed notebooks of a page -> one notebook of tab groups,
staged (with the readers' downloads and the images) where the render stage reads it.

A tab group is what d2lbook shows as one set of tabs: a run of code cells and
`:begin_tab:` prose with no shared prose between them. Each framework's cells
of a group carry the marks of `tab_marks`; the render stage turns them into
tabs. A run whose code is the same for every framework and printed nothing is
shown once, without tabs. Every merged cell records the source lines it came
from, so a render warning can name the page's own file and line.

A page whose inputs are those of the last stage (its Page, its executed notebooks, what it says
of code not executed, its interactive figures; the settings, the wheel, the PDFs linked, the
build's code) is not merged again: its staged notebooks are as that stage left them
(`_page_inputs`). Its images and the files it names are staged from their bytes at every build.
"""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import logging
import posixpath
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path

import nbformat

from bookbuild import kept, log, notebook_json, tab_marks
from bookbuild.errors import disk_error
from bookbuild.merge import downloads, outputs
from bookbuild.report import NotebookStatus
from bookbuild.source import Block, BookSource, Page, block_index, image_path, runs
from bookbuild.tab_marks import Manifest, Staged
from bookbuild.whole import write_whole

logger = logging.getLogger(__name__)

MERGED_KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def merge(page: Page, executed: dict[str, nbformat.NotebookNode], config,
          tools: str | None = None, placements=(), failures: dict | None = None) -> nbformat.NotebookNode:
    """One notebook for the render stage, from the page's notebooks with their outputs as readers get
    them (`readers_notebook`). `tools`: the page-tools directive to put under the title; `placements`:
    the page's interactive figures (sidecars.Placement); `failures`: {framework: its ExecutionError}."""
    merged = notebook_json.notebook()
    merged.metadata["kernelspec"] = dict(MERGED_KERNELSPEC)
    merged.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    lines: list[list[int]] = []

    def add(cell, origin: list[int]) -> None:
        merged.cells.append(cell)
        lines.append(origin)

    group, in_group = 0, False  # in_group: the last run was tabbed, the next may join its group
    figures_before: dict[int | None, list[str]] = {}   # source line (None: the page's end) -> figures
    for placement in placements:
        figures_before.setdefault(placement.before_line, []).append(tab_marks.interactive(placement))
    for run in runs(page):
        if run.kind == "prose":
            (_, block), = run.blocks
            for text, origin in _split_before(block, figures_before):
                if text is None:
                    add(notebook_json.markdown_cell(origin[1]), [origin[0]])
                else:
                    add(notebook_json.markdown_cell(text), origin)
            in_group = False
            continue
        if not in_group:
            group += 1
        in_group = True
        if run.kind == "tab-prose":
            for _, block in run.blocks:
                for name in block.tabs or ():   # tab prose always names its tabs
                    text = tab_marks.tab_prose(block.myst.strip("\n"), name, group)
                    add(notebook_json.markdown_cell(text), [block.line] * 3 + _prose_lines(block) + [block.line])
            continue
        per_framework = {fw.name: run.cells(executed, fw.name) for fw in config.frameworks
                         if fw.name in page.frameworks}   # a framework the page lacks has no tab (d2lbook)
        sources = {tuple(c.source for _, c in cells) for cells in per_framework.values()}
        if len(sources) == 1 and not any(c.get("outputs") for cells in per_framework.values() for _, c in cells):
            for block, cell in per_framework[config.default_tab]:   # the same code, no output: shown once
                add(_hidden(_plain(cell), block), _code_lines(block, cell))
            in_group = False
            continue
        for name, cells in per_framework.items():
            for block, cell in cells:
                cell = _hidden(_plain(cell), block)
                _describe_images(cell, config.framework(name).label)
                tab_marks.mark_cell(cell, name, group)
                add(cell, _code_lines(block, cell))
    for figure in figures_before.get(None, []):   # the named section runs to the page's end
        add(notebook_json.markdown_cell(figure), [lines[-1][-1] if lines else 1])
    if failures:
        tools = (tools or "") + "\n\n" + _failure_notice(failures, config)
    if tools:
        _insert_under_title(merged, lines, tools.strip())
    merged.metadata[tab_marks.SOURCE_KEY] = {"path": page.path.as_posix(), "lines": lines}
    for number, cell in enumerate(merged.cells):  # stable ids: an unchanged page is an unchanged file
        cell["id"] = f"c{number}"
        if cell.cell_type == "code":
            tab_marks.name_cell(cell, cell["id"])
    return merged


def _split_before(block: Block, figures_before: dict):
    """A prose block as cells: (MyST text, source lines), with (None, (line, figure)) wherever a
    figure goes before a source line inside the block."""
    text, origin = block.myst.strip("\n").split("\n"), _prose_lines(block)
    origin += [origin[-1]] * (len(text) - len(origin))
    start = 0
    for line in sorted(at for at in figures_before if at is not None and block.line <= at <= origin[-1]):
        cut = next((i for i, o in enumerate(origin) if o >= line), len(text))
        if cut > start and "\n".join(text[start:cut]).strip():
            yield "\n".join(text[start:cut]).strip("\n"), origin[start:cut]
        for figure in figures_before[line]:
            yield None, (line, figure)
        start = cut
    if "\n".join(text[start:]).strip():
        yield "\n".join(text[start:]).strip("\n"), origin[start:]


def _code_lines(block: Block, cell) -> list[int]:
    return list(block.lines) or [block.line]


def _failure_notice(failures: dict, config) -> str:
    """The page's notice of its failed frameworks, under its title."""
    items = "\n".join(f"- **{config.framework(name).label}**: hücre {err.cell or '?'}, satır {err.line}: "
                      f"`{err.message.splitlines()[0][:200]}`" for name, err in failures.items())
    return (":::{admonition} Derleme hatası\n:class: error d2l-build-failure\n\n"
            "Bu sayfa derlenirken şu çerçevelerde bir hücre hata verdi; o çerçevenin sekmelerinde hataya kadar "
            f"çalışanlar ve hata iletisi gösteriliyor:\n\n{items}\n:::")


RAW_FILE_DIRECTIVE = re.compile(r"^\.\. raw:: \w+\n(?:[ \t]+.*(?:\n|$)|[ \t]*\n(?=[ \t]))*", re.M)
FILE_OPTION = re.compile(r"^[ \t]+:file:[ \t]*(\S+)[ \t]*$", re.M)


def _without_missing_files(config, page: Page) -> Page:
    """The page without the eval_rst `.. raw::` directives whose `:file:` the book lacks (the read stage
    warned at each: read/files.py)."""
    def kept(found) -> str:
        named = FILE_OPTION.search(found.group(0))
        if named and not (config.root / posixpath.normpath(posixpath.join(page.path.parent.as_posix(),
                                                                           named.group(1)))).is_file():
            return ""
        return found.group(0)
    return dataclasses.replace(page, blocks=tuple(
        dataclasses.replace(b, myst=RAW_FILE_DIRECTIVE.sub(kept, b.myst)) if b.kind == "markdown" and ":file:" in b.myst
        else b for b in page.blocks))


def _not_executed_notice(page: Page, execution, config) -> str | None:
    """Under the title of a page whose code this build did not run in some framework (--execute none): which,
    and where the outputs of the others come from (the execution cache, an earlier run of the same code)."""
    status = {r.framework: r.status for r in execution.reports if r.page == page.path.as_posix()}
    unrun = [fw.label for fw in config.frameworks if status.get(fw.name) is NotebookStatus.NOT_EXECUTED]
    if not unrun:
        return None
    cached = [fw.label for fw in config.frameworks
              if status.get(fw.name) is NotebookStatus.CACHED and fw.name in page.frameworks]
    text = (f"Bu sayfanın kodu bu derlemede çalıştırılmadı ({', '.join(unrun)}): kod hücreleri çıktısız "
            "gösteriliyor.")
    if cached:
        text += (f" {', '.join(cached)} sekmelerindeki çıktılar çalıştırılmış değil, aynı kodun daha önceki bir "
                 "derlemedeki çalıştırmasından (yürütme önbelleğinden) alındı.")
    return f":::{{admonition}} Kod çalıştırılmadı\n:class: note d2l-not-executed\n\n{text}\n:::"


def readers_notebook(page: Page, nb, config, framework: str, failure=None) -> nbformat.NotebookNode:
    """A framework's executed notebook with its outputs as readers get them (outputs.for_readers), and,
    if it failed, the failing cell marked and the cells after it marked as not run."""
    nb = nbformat.from_dict(copy.deepcopy(nb))
    label = config.framework(framework).label
    failed_at = None
    for number, cell in enumerate((c for c in nb.cells if c.cell_type == "code"), 1):
        where = f"[{framework}] {page.path}:{page.blocks[block_index(cell)].line}"
        cell.outputs = outputs.for_readers(cell.get("outputs", []), config.limits, where)
        if failure is None:
            continue
        if failed_at is None and any(o.get("output_type") == "error" for o in cell.outputs):
            failed_at = number
            cell.outputs.insert(0, outputs.failed(label, failure.cell or str(number)))
        elif failed_at is not None:
            cell.outputs = [outputs.not_run()]
    return nb


def _prose_lines(block: Block) -> list[int]:
    text = block.myst.strip("\n")
    skipped = len(block.myst) - len(block.myst.lstrip("\n"))
    return list(block.myst_lines[skipped:skipped + max(1, len(text.splitlines()))]) or [block.line]


def _plain(cell) -> nbformat.NotebookNode:
    cell = copy.deepcopy(cell)
    cell.metadata = {}
    cell.pop("id", None)
    return cell


# MyST-NB's tags for what a cell does not show (d2lbook's #@hide marks: dialect.Block.hide)
HIDE_TAGS = {"code": "remove-input", "output": "remove-output"}


def _hidden(cell, block: Block) -> nbformat.NotebookNode:
    """The cell, tagged with what of it the page hides; it runs, and the downloads show it, all the same."""
    for what in block.hide:
        cell.metadata["tags"] = [*cell.metadata.get("tags", []), HIDE_TAGS[what]]
    return cell


def _describe_images(cell, framework_label: str) -> None:
    """Alt text and size of each figure the cell drew, for the render stage (tab_marks.IMAGES)."""
    images = []
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        kind = next((t for t in outputs.IMAGE_TYPES if t in data), None)
        if kind is None:
            continue
        svg = data[kind] if kind == "image/svg+xml" else ""
        images.append({"alt": outputs.describe(cell.source, svg, framework_label),
                       "size": outputs.size(svg) if svg else None})
    if images:
        cell.metadata[tab_marks.IMAGES] = images


def _insert_under_title(merged, lines: list[list[int]], tools: str) -> None:
    """The page's tools go right under its title: the rest of the first cell follows them."""
    first = merged.cells[0] if merged.cells and merged.cells[0].cell_type == "markdown" else None
    text = first.source.split("\n") if first else []
    title = next((i for i, line in enumerate(text) if line.startswith("# ")), None)
    if first is None or title is None:
        merged.cells.insert(0, notebook_json.markdown_cell(tools))
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
    merged.cells[1:1] = [notebook_json.markdown_cell(tools)] + ([notebook_json.markdown_cell("\n".join(rest))]
                                                                  if rest else [])
    lines[1:1] = [[origin[title]]] + ([rest_origin[:len(rest)]] if rest else [])


# --- staging ------------------------------------------------------------------------

def write_if_changed(path: Path, content: str | bytes) -> bool:
    """Leave an unchanged file alone: Sphinx decides what to re-read by modification time. A changed one is
    written whole."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    if path.exists() and path.read_bytes() == data:
        return False
    write_whole(path, data)
    return True


def notebook_text(nb) -> str:
    return notebook_json.text(nb)


def stage(config, paths, source: BookSource, execution, library: Path,
          pdfs: Mapping[str, Path] | None = None) -> Manifest:
    """Write what Sphinx reads: one merged notebook per page, the downloads, the images and `pdfs`
    ({framework: a PDF render made from these same pages}, linked from every page). `execution`: what the
    execute stage handed on; `library`: the library stage's d2l package (its wheel is a download). Only what
    changed is written; what no page needs any more is removed."""
    staging, written = paths.staging, set()
    digests: dict[Path, bytes] = {}
    known = notebook_json.Known(paths.staged)   # an index it cannot read is none: every notebook is written

    def put(relative: Path, content: str | bytes) -> Path:
        relative = Path(unicodedata.normalize("NFC", relative.as_posix()))   # as Sphinx names what it reads
        data = content.encode("utf-8") if isinstance(content, str) else content
        try:
            write_if_changed(staging / relative, data)
        except OSError as err:
            raise disk_error(err, f"staging {relative}", staging / relative) from None
        written.add(staging / relative)
        digests[relative] = hashlib.sha256(data).digest()
        return relative

    def put_notebook(relative: Path, nb) -> Path:
        """A notebook, staged as `put` stages it; one staged before as it is now is not made into text again."""
        relative = Path(unicodedata.normalize("NFC", relative.as_posix()))
        nb_key = notebook_json.key(nb)
        digest = known.same(relative.as_posix(), nb_key, staging / relative)
        if digest is None:
            put(relative, notebook_text(nb))
            known.wrote(relative.as_posix(), nb_key, digests[relative].hex())
        else:
            written.add(staging / relative)
            digests[relative] = bytes.fromhex(digest)
        return relative

    def staged_before(page: Page, inputs: str) -> tuple[Path, dict[str, Path]] | None:
        """(its merged notebook, its readers' notebooks) as the last stage staged them from the same `inputs`, if
        they are all there still."""
        merged = unicodedata.normalize("NFC", page.path.with_suffix(".ipynb").as_posix())   # as `put` names it
        last = known.same(PAGE_ENTRY + page.path.as_posix(), inputs, staging / merged)
        if last is None:
            return None
        made = json.loads(last)
        files = [Path(made["page"]), *map(Path, made["downloads"].values())]
        carried = [known.carried(relative.as_posix(), staging / relative) for relative in files]
        if None in carried:
            return None
        for relative, digest in zip(files, carried, strict=True):
            written.add(staging / relative)
            digests[relative] = bytes.fromhex(digest)
        return files[0], {name: Path(relative) for name, relative in made["downloads"].items()}

    pages, downloaded, assets = [], {}, []
    wheel = downloads.wheel(library)
    assets.append(put(Path(Staged.EXTRA) / Staged.WHEEL / wheel.name, wheel.read_bytes()))
    staged_pdfs = {name: put(Path(Staged.PDF) / built.name, built.read_bytes()) for name, built in (pdfs or {}).items()}
    pdf_links = {name: target.as_posix() for name, target in staged_pdfs.items()}
    settings = _settings(config, wheel, pdf_links)
    for page in source.pages:
        page = _without_missing_files(config, page)
        failures = {f.framework: f for f in execution.failures if Path(str(f.path)) == page.path and f.framework}
        placements = source.placements.get(page.path, [])
        notice = _not_executed_notice(page, execution, config) if page.has_code else None
        # A page whose notebooks failed is merged again at every build (its failures are not among its inputs)
        inputs = None if failures else _page_inputs(settings, page, execution.notebooks[page.path], notice,
                                                    placements)
        before = staged_before(page, inputs) if inputs else None
        if before is not None:
            merged_path, notebooks = before
        else:
            known.forget(PAGE_ENTRY + page.path.as_posix())   # (kept only if made whole, without a warning)
            with log.given("bookbuild.merge") as warned:
                merged_path, notebooks = _stage_page(page, execution, config, failures, placements, notice, wheel,
                                                     pdf_links, put_notebook)
            if inputs and not warned:   # (a page whose merge warns is merged, and warns, at every build)
                known.wrote(PAGE_ENTRY + page.path.as_posix(), inputs, json.dumps(
                    {"page": merged_path.as_posix(),
                     "downloads": {name: path.as_posix() for name, path in notebooks.items()}}))
        pages.append(merged_path)
        if page.has_code:
            downloaded[page.path] = notebooks
        for placement in placements:
            for asset in filter(None, (placement.script, placement.style)):
                assets.append(put(Path(tab_marks.INTERACTIVE_ASSETS) / asset, (config.root / asset).read_bytes()))
        for mention in page.mentions:
            if mention.role == "image" and "://" not in mention.target:
                image = image_path(page, mention.target)
                assets.append(put(image, (config.root / image).read_bytes()))
        for named in source.files.get(page.path, ()):   # where the page's directives and downloads find them
            assets.append(put(named.path, (config.root / named.path).read_bytes()))
    for stale in [p for p in staging.rglob("*") if p.is_file() and p not in written]:
        stale.unlink()
    try:
        known.save()
    except OSError as err:
        raise disk_error(err, "noting what was staged", paths.staged) from None
    digest = hashlib.sha256()
    for relative in sorted(set(digests) - set(staged_pdfs.values())):
        digest.update(relative.as_posix().encode() + b"\0" + digests[relative])
    return Manifest(staging, tuple(pages), downloaded, staged_pdfs, tuple(dict.fromkeys(assets)), digest.hexdigest())


PAGE_ENTRY = "page:"   # the staged index's entry of a page's inputs (its files' entries are their own paths)


def _stage_page(page: Page, execution, config, failures: dict, placements, notice: str | None, wheel: Path,
                pdf_links: dict, put_notebook) -> tuple[Path, dict[str, Path]]:
    """The page merged, and its readers' notebooks, staged by `put_notebook`: (the merged notebook, {framework:
    its readers' notebook} if the page has code). `notice`: what the page says of its code not executed."""
    readers = {name: readers_notebook(page, nb, config, name, failures.get(name))
               for name, nb in execution.notebooks[page.path].items()}
    notebooks = {}
    if page.has_code:
        notebooks = {name: put_notebook(downloads.download_path(page.path, name),
                                        downloads.for_download(nb, config.framework(name), wheel))
                     for name, nb in readers.items()}
    tools = tab_marks.page_tools({name: path.as_posix() for name, path in notebooks.items()}, pdf_links) \
        if notebooks or pdf_links else None
    if notice:
        tools = f"{tools or ''}\n\n{notice}"
    merged = merge(page, readers, config, tools, placements, failures)
    return put_notebook(page.path.with_suffix(".ipynb"), merged), notebooks


def _settings(config, wheel: Path, pdf_links: dict) -> str:
    """What every page's merge reads besides its own inputs: the settings, the readers' install cells (the wheel
    they carry, the pins they install), the PDFs linked, the build's code."""
    return kept.digest(kept.code(), repr(config), json.dumps(pdf_links, sort_keys=True),
                       *(downloads.install_cell(fw, wheel).source for fw in config.frameworks))


def _page_inputs(settings: str, page: Page, executed: Mapping[str, nbformat.NotebookNode], notice: str | None,
                 placements) -> str:
    """What a page's merge is made from (`settings`: what every page's is made from): the page as read, its
    executed notebooks, what it says of the code this build did not execute, its interactive figures."""
    return kept.digest(settings, repr(page), repr(placements), repr(notice),
                       *(f"{name} {notebook_json.key(nb)}" for name, nb in executed.items()))
