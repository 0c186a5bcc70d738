"""Stage 3, execute: every page's notebook of every framework, run in that framework's kernel.

A notebook the cache (cache.py) knows gets its outputs from there, and no kernel
starts. The rest run in kernels (scheduler.py), up to `jobs` at once across pages and
frameworks. A failing cell stops only its own notebook: it keeps what ran before the
failure and the error, and every other notebook of every framework still runs and is
cached. The stage hands on an `Execution`: the notebooks, a report per notebook, and
the failures, which the pipeline raises once the site shows them.

The executed notebooks of the book's own kernels also go to `_build/executed/`, which
CI's per-framework jobs upload; `load_executed` is the other way into this stage, for
the job that merges them without executing.
"""
from __future__ import annotations

import dataclasses
import logging
import re
import shutil
import typing
from pathlib import Path

import nbformat

from bookbuild import environments, in_kernel
from bookbuild.config import EXECUTE, NOT_SOURCES, BookConfig, Paths, data_mirror
from bookbuild.errors import BookError, ExecutionError, SourceError, disk_error, from_record
from bookbuild.execute import split
from bookbuild.execute.cache import RUN_KEY, Cache
from bookbuild.execute.jobs import Job, code_cells
from bookbuild.execute.scheduler import Kernels
from bookbuild.execute.split import SplitBook
from bookbuild.executed import Execution
from bookbuild.report import CellReport, CellStatus, NotebookReport, NotebookStatus, RunKind
from bookbuild.source import BookSource

logger = logging.getLogger(__name__)


def execute(config, paths, source, notebooks: SplitBook, pages: list, library: Path, reseeded: bool = False,
            retry: bool = False, until: dict | None = None) -> Execution:
    """Run `pages` (the rest keep their split notebooks), in kernels that import the d2l package in `library`
    (the library stage's: ours with the book's #@save code). `reseeded`: in the frameworks' reseeded
    kernels, for the agreement stage; those runs are cached, and written beside the book's executed
    notebooks (CI's merge judges with them), but are not the book's. `until`: {page path: {framework: cell
    id}}, where a reseeded run may stop, and which frameworks it needs (default: all, to the end). A
    notebook whose cell failed is cached with its failure, as one that ran to its end is: it fails again,
    from the cache, until its inputs (or the timeout) change, or `retry` (`make html RETRY=1`) runs it again."""
    jobs = []
    for page in pages:
        for name, nb in notebooks.of(page.path).items():
            if until is not None and name not in until.get(page.path, {}):
                continue
            fw = config.framework(name)
            kernel = environments.reseeded_kernel(fw) if reseeded else fw.kernel
            nb = split.reseeded(nb, kernel, (until or {}).get(page.path, {}).get(name)) if reseeded else nb
            notebook_report = NotebookReport(page.path.as_posix(), name, NotebookStatus.CACHED,
                                             run=RunKind.RESEEDED if reseeded else RunKind.BOOK)
            jobs.append(Job(page, fw, nb, working_folder(paths, page, kernel), kernel, notebook_report))
    cache = Cache(paths.cache)
    misses, failures = [], []
    for job in (j for j in jobs if code_cells(j.notebook)):
        cached = cache.lookup(job.notebook, job.uri)
        failed = cached is not None and cached.metadata.get(RUN_KEY, {}).get("failure")
        if cached is None or (failed and (retry or failed.get("timeout") != config.timeout)):
            job.report.status = NotebookStatus.NOT_RUN
            misses.append(job)
            continue
        job.notebook = cached
        seconds = cached.metadata.get(RUN_KEY, {}).get("seconds", [])
        job.report.cells = [CellReport(n, job.line_of(c), CellStatus.CACHED,
                                       seconds[n - 1] if n <= len(seconds) else None)
                            for n, c in enumerate(code_cells(cached), 1)]
        if failed:
            failures.append(from_record(failed))
            job.report.status, job.report.error = NotebookStatus.FAILED, failures[-1].as_record()
            logger.info(f"[{job.framework.name}] {job.page.path}: failed when it last ran, and nothing it runs from "
                        "changed (cached; `make html RETRY=1` runs it again)")
        else:
            logger.info(f"[{job.framework.name}] {job.page.path}: cached, {len(job.report.cells)} cells")

    def keep(job: Job, failure: BookError | None = None) -> None:
        job.notebook.metadata[RUN_KEY] = {"seconds": [c.seconds for c in sorted(job.report.cells,
                                                                                key=lambda c: c.number)]}
        if failure is not None:
            if not isinstance(failure, ExecutionError):
                return   # a kernel that could not start, missing data: fixed outside the notebook's inputs
            job.notebook.metadata[RUN_KEY]["failure"] = {**failure.as_record(), "detail": failure.detail,
                                                         "timeout": config.timeout}   # another one runs it again
        cache.store(job.notebook, job.uri)

    if misses:
        failures += strategy(config).run(config, paths, misses, keep, library)
    executed = {path: dict(by_framework) for path, by_framework in notebooks.notebooks.items()}
    for job in jobs:
        executed[job.page.path][job.framework.name] = job.notebook
        if job.report.status in (NotebookStatus.CACHED, NotebookStatus.EXECUTED):
            write_executed(paths.executed, job.framework.name, job.page.path, job.notebook, reseeded)
    return Execution(executed, tuple(job.report for job in jobs), tuple(failures))


def _run_in_kernels(config, paths, misses: list[Job], keep, library: Path) -> list[BookError]:
    for job in misses:   # only for notebooks that run: a render without executing lays out nothing
        lay_out(job, config.root, paths, data_mirror())
    return Kernels(environments.kernel_dirs(), config.timeout, config.jobs, paths.cache,
                   env={"DATA_MIRROR": str(data_mirror()), **environments.library_env(library)},
                   startup=in_kernel.source()).run(misses, on_success=keep, on_failure=keep)


def _leave_unrun(config, paths, misses: list[Job], keep, library: Path) -> list[BookError]:
    for job in misses:
        job.report.status = NotebookStatus.NOT_EXECUTED   # the merge stage says so on the page
    if misses:
        logger.info(f"[execute] {len(misses)} notebooks not executed (--execute none)")
    return []


@dataclasses.dataclass(frozen=True)
class Strategy:
    """What the execute stage does with the notebooks the cache does not hold (config.EXECUTE)."""
    run: typing.Callable            # (config, paths, jobs, keep, library folder) -> failures
    kernels: bool                   # whether it starts kernels (and so needs the frameworks' environments)


STRATEGIES = {"all": Strategy(_run_in_kernels, kernels=True), "none": Strategy(_leave_unrun, kernels=False)}
assert STRATEGIES.keys() == EXECUTE.keys()


def strategy(config) -> Strategy:
    return STRATEGIES[config.execute]


def working_folder(paths, page, kernel: str) -> Path:
    """Where a notebook runs: the page's folder in a tree of its own under _build/work/, so that what its
    code writes (`../data/...`) lands there, never in the book, and no other notebook sees it."""
    return paths.work / kernel / page.path.with_suffix("") / page.path.parent


QUOTED = re.compile(r"""(["'])([^"'\n]+)\1""")   # a string literal of one line: a path the code may read


# The data cache of the book's own `download` (d2l's #@save code): '../data' from a chapter's page, i.e. this
# folder at the top of a working tree.
BOOK_DATA = "data"


def lay_out(job: Job, root: Path, paths, mirror: Path | None = None) -> None:
    """Make a notebook's working tree anew, with copies of what its code reads from the book: the files
    beside its page, and any file or folder of the book its code names by a relative path ('../img/cat.jpg');
    and, offline, the data mirror's files in its BOOK_DATA folder (links: the book's download reads a file
    there when its SHA-1 is right, and writes one only when it is not)."""
    tree = paths.work / job.kernel / job.page.path.with_suffix("")
    folder = root / job.page.path.parent
    wanted = [f for f in folder.iterdir() if f.is_file() and f.suffix != ".md"]
    for cell in code_cells(job.notebook):
        for _, named in QUOTED.findall(cell.source):
            path = (folder / named).resolve()
            if path.is_relative_to(root.resolve()) and (path.is_file() or path.is_dir() and not
                                                        folder.resolve().is_relative_to(path)) and \
                    not NOT_SOURCES.intersection(path.relative_to(root.resolve()).parts):
                wanted.append(path)   # not '.' or '..': the page's own folder or one holding it
    try:
        shutil.rmtree(tree, ignore_errors=True)
        job.cwd.mkdir(parents=True)
        for path in wanted:
            target = tree / path.resolve().relative_to(root.resolve())
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.is_dir():
                shutil.copytree(path, target, dirs_exist_ok=True)
            else:
                shutil.copy2(path, target)
        offered = sorted(f for f in mirror.iterdir() if f.is_file()) if mirror and mirror.is_dir() else []
        for file in offered:
            link = tree / BOOK_DATA / file.name
            if not link.exists():
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(file.resolve())
    except OSError as err:
        raise disk_error(err, f"laying out {tree}") from None


def executed_path(directory: Path, framework: str, page: Path, reseeded: bool = False) -> Path:
    return Path(directory) / framework / page.with_suffix(".reseeded.ipynb" if reseeded else ".ipynb")


def write_executed(directory: Path, framework: str, page: Path, nb, reseeded: bool = False) -> None:
    """A notebook that ran, for CI to upload: written whole (a .part renamed) and only when it changed."""
    target = executed_path(directory, framework, page, reseeded)
    text = nbformat.writes(nb) + "\n"
    if target.is_file() and target.read_text(encoding="utf-8") == text:
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(target.name + ".part")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(target)
    except OSError as err:
        raise disk_error(err, f"writing {target}") from None


def read_executed(path: Path):
    """A notebook executed elsewhere, whole and valid; a ValueError that says what is wrong otherwise (a file cut
    short, another encoding, JSON that is no notebook)."""
    from nbformat.validator import ValidationError

    try:
        nb = nbformat.reads(path.read_bytes().decode("utf-8"), as_version=4)
        nbformat.validate(nb)
        code_cells(nb)
        return nb
    except UnicodeDecodeError as err:
        raise ValueError(f"not UTF-8 text ({err.reason} at byte {err.start})") from None
    except ValidationError as err:
        raise ValueError(f"not a notebook: {err.message}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as err:   # NotJSONError is a ValueError
        raise ValueError(f"not a notebook: {type(err).__name__}: {str(err).splitlines()[0][:200]}") from None


def load_executed(directory: Path, source, notebooks: SplitBook) -> Execution:
    """Take the notebooks CI's per-framework jobs executed, checking they ran the code the pages have."""
    problems: list[BookError] = []
    reports: list[NotebookReport] = []
    executed = {path: dict(by_framework) for path, by_framework in notebooks.notebooks.items()}
    for page in (p for p in source.pages if p.has_code):   # a page without code has nothing executed
        for name, wanted in notebooks.of(page.path).items():
            path = executed_path(directory, name, page.path)
            where = {"path": page.path, "framework": name}
            if not path.is_file():
                problems.append(SourceError(f"no executed notebook {path}", **where,
                                            fix=f"run `make check TAB={name}` and copy _build/executed/{name} there"))
                continue
            try:
                loaded = read_executed(path)
            except ValueError as err:
                problems.append(SourceError(f"{path} is not a readable executed notebook: {err}", **where,
                                            fix=f"run `make check TAB={name}` again and copy _build/executed/{name} "
                                                "there whole"))
                continue
            if [(c.get("id"), c.source) for c in code_cells(loaded)] != \
               [(c.get("id"), c.source) for c in code_cells(wanted)]:
                problems.append(SourceError(f"{path} was executed from other code than the page has now", **where,
                                            fix=f"run `make check TAB={name}` again"))
                continue
            failed = [c for c in code_cells(loaded) if any(o.get("output_type") == "error" for o in c.outputs)]
            if failed:
                problems.append(SourceError(f"{path}: cell {failed[0].get('id')} holds an error output", **where,
                                            fix=f"fix it and run `make check TAB={name}` again"))
                continue
            executed[page.path][name] = loaded
            reports.append(NotebookReport(page.path.as_posix(), name, NotebookStatus.LOADED))
    return Execution(executed, tuple(reports), tuple(problems))


def load_reseeded(directory: Path, notebooks: SplitBook, until: dict) -> Execution:
    """The reseeded runs that travelled with the executed notebooks (CI's per-framework jobs make them), for
    the pages and frameworks of `until` (see `execute`); a missing or outdated one is left out."""
    executed: dict[Path, dict[str, nbformat.NotebookNode]] = {}
    reports: list[NotebookReport] = []
    for page, frameworks in until.items():
        for name in frameworks:
            path = executed_path(directory, name, page, reseeded=True)
            if not path.is_file():
                continue
            loaded = nbformat.read(path, as_version=4)
            ran = [(c.get("id"), c.source) for c in code_cells(loaded)
                   if not any(o.get("output_type") == "error" for o in c.outputs)]
            wanted = [(c.get("id"), c.source) for c in code_cells(notebooks.of(page)[name])]
            ids = [cell for cell, _ in wanted]
            needed = wanted[:ids.index(frameworks[name]) + 1] if frameworks[name] in ids else wanted
            if ran[:len(needed)] != needed:
                continue
            executed.setdefault(page, {})[name] = loaded
            reports.append(NotebookReport(page.as_posix(), name, NotebookStatus.LOADED, run=RunKind.RESEEDED))
    return Execution(executed, tuple(reports))


@dataclasses.dataclass(frozen=True)
class Executor:
    """The execute stage as the pipeline calls it: the book's runs, and the reseeded runs the agreement stage
    asks for; executed here (cached), or taken from notebooks executed elsewhere (`executed_dir`: CI's jobs)."""
    config: BookConfig
    paths: Paths
    source: BookSource                 # the read stage's
    split: SplitBook
    library: Path                      # the library stage's d2l package, which the kernels import
    executed_dir: Path | None = None
    retry: bool = False

    def book(self, pages: list) -> Execution:
        """Every notebook of `pages` (the rest keep their split notebooks)."""
        if self.executed_dir:
            return load_executed(self.executed_dir, self.source, self.split)
        return execute(self.config, self.paths, self.source, self.split, pages, self.library, retry=self.retry)

    def reseeded(self, until: dict) -> Execution:
        """The reseeded runs of `until` ({page path: {framework: the last cell id it needs, or None}})."""
        if self.executed_dir:   # executed elsewhere: they travelled with the notebooks
            return load_reseeded(self.executed_dir, self.split, until)
        return execute(self.config, self.paths, self.source, self.split,
                       [p for p in self.source.pages if p.path in until], self.library,
                       reseeded=True, retry=self.retry, until=until)

    def reseeded_to_travel(self, execution: Execution, pages: list, frameworks: list) -> Execution | None:
        """One framework's job (CI): which groups differ is known only once every tab has run, so its reseeded
        runs are made for all its pages, whole, and travel with its executed notebooks. None for a whole build."""
        if len(frameworks) == len(self.config.frameworks) or self.executed_dir:
            return None
        until = {p.path: {fw.name: None for fw in frameworks if execution.ran(p.path, fw.name)} for p in pages}
        return self.reseeded({path: names for path, names in until.items() if names})
