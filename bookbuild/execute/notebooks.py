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

from bookbuild import environments, in_kernel, notebook_json
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
            retry: bool = False, until: dict | None = None, early: Early | None = None,
            ran: typing.Callable[[Execution], None] | None = None) -> Execution:
    """Run `pages` (the rest keep their split notebooks), in kernels that import the d2l package in `library`
    (the library stage's: ours with the book's #@save code). `reseeded`: in the frameworks' reseeded
    kernels, for the agreement stage; those runs are cached, and written beside the book's executed
    notebooks (CI's merge judges with them), but are not the book's. `until`: {page path: {framework: cell
    id}}, where a reseeded run may stop, and which frameworks it needs (default: all, to the end). `early`:
    the book's runs start reseeded runs as their tabs decide them (the Early keeps them); `ran(execution)` is
    called as soon as the runs of `pages` have all ended, while those reseeded runs may still go on. A
    notebook whose cell failed is cached with its failure, as one that ran to its end is: it fails again,
    from the cache, until its inputs (or the timeout) change, or `retry` (`make html RETRY=1`) runs it again."""
    jobs = [job_of(config, paths, page, name, nb, reseeded, (until or {}).get(page.path, {}).get(name))
            for page in pages for name, nb in notebooks.of(page.path).items()
            if until is None or name in until.get(page.path, {})]
    cache = Cache(paths.cache)
    misses, failures = [], []
    for job in (j for j in jobs if code_cells(j.notebook)):
        hit, failure = from_cache(cache, job, config, retry)
        if not hit:
            misses.append(job)
        elif failure is not None:
            failures.append(failure)

    def keep(job: Job, failure: BookError | None = None) -> None:
        job.notebook.metadata[RUN_KEY] = {"seconds": [c.seconds for c in sorted(job.report.cells,
                                                                                key=lambda c: c.number)]}
        if failure is not None:
            if job.report.run is (RunKind.RESEEDED if reseeded else RunKind.BOOK):
                failures.append(failure)   # an early reseeded run's is the agreement stage's, which leaves it out
            if not isinstance(failure, ExecutionError):
                return   # a kernel that could not start, missing data: fixed outside the notebook's inputs
            job.notebook.metadata[RUN_KEY]["failure"] = {**failure.as_record(), "detail": failure.detail,
                                                         "timeout": config.timeout}   # another one runs it again
        cache.store(job.notebook, job.uri)

    handed: list[Execution] = []

    def handed_on() -> Execution:
        if not handed:
            executed = {path: dict(by_framework) for path, by_framework in notebooks.notebooks.items()}
            for job in jobs:
                executed[job.page.path][job.framework.name] = job.notebook
                if job.report.status in (NotebookStatus.CACHED, NotebookStatus.EXECUTED):
                    write_executed(paths.executed, job.framework.name, job.page.path, job.notebook, reseeded)
            handed.append(Execution(executed, tuple(job.report for job in jobs), tuple(failures)))
            if ran is not None:
                ran(handed[0])
        return handed[0]

    running = {id(job) for job in misses}   # the runs of `pages` that have not ended
    if early is not None:
        misses += early.start(jobs, cache)   # the pages whose tabs came from the cache decide theirs now
    if not running:
        handed_on()

    def then(job: Job) -> list[Job]:
        more = early.after(job, cache) if early is not None else []
        for each in more:
            lay_out(each, config.root, paths, data_mirror())
        if id(job) in running:
            running.remove(id(job))
            if not running:
                handed_on()
        return more

    if misses:
        strategy(config).run(config, paths, misses, keep, library, then)
    return handed_on()


def job_of(config, paths, page, name: str, nb, reseeded: bool = False, until: str | None = None) -> Job:
    """The job of running `page`'s notebook `nb` of framework `name` (see `execute`)."""
    fw = config.framework(name)
    kernel = environments.reseeded_kernel(fw) if reseeded else fw.kernel
    nb = split.reseeded(nb, kernel, until) if reseeded else nb
    report = NotebookReport(page.path.as_posix(), name, NotebookStatus.CACHED,
                            run=RunKind.RESEEDED if reseeded else RunKind.BOOK)
    return Job(page, fw, nb, working_folder(paths, page, kernel), kernel, report)


def from_cache(cache: Cache, job: Job, config, retry: bool) -> tuple[bool, BookError | None]:
    """(whether the cache answers for the job, the failure it keeps for it): the job holds the cached notebook;
    a miss (or a cached failure that `retry` or another timeout runs again) leaves it NOT_RUN."""
    cached = cache.lookup(job.notebook, job.uri)
    failed = cached is not None and cached.metadata.get(RUN_KEY, {}).get("failure")
    if cached is None or (failed and (retry or failed.get("timeout") != config.timeout)):
        job.report.status = NotebookStatus.NOT_RUN
        return False, None
    job.notebook = cached
    seconds = cached.metadata.get(RUN_KEY, {}).get("seconds", [])
    job.report.cells = [CellReport(n, job.line_of(c), CellStatus.CACHED,
                                   seconds[n - 1] if n <= len(seconds) else None)
                        for n, c in enumerate(code_cells(cached), 1)]
    seed = " (seed)" if job.report.run is RunKind.RESEEDED else ""
    if failed:
        failure = from_record(failed)
        job.report.status, job.report.error = NotebookStatus.FAILED, failure.as_record()
        logger.info(f"[{job.framework.name}{seed}] {job.page.path}: failed when it last ran, and nothing it runs "
                    "from changed (cached; `make html RETRY=1` runs it again)")
        return True, failure
    logger.info(f"[{job.framework.name}{seed}] {job.page.path}: cached, {len(job.report.cells)} cells")
    return True, None


class Early:
    """The reseeded runs the agreement stage will ask for, started while the book's runs go on: as soon as two
    tabs or more of a page have run (from the cache, or in kernels) `decide(page path, {framework: notebook})`
    says which frameworks need one and up to which cell (agreement.compare's needs_seed, judged on those tabs),
    and their runs wait for a kernel slot the book's runs leave free. A tab that runs later may ask more of a
    framework: a run that reaches that cell is enough, or another one runs, further. `runs` keeps them all."""

    def __init__(self, config, paths, split_book: SplitBook, decide, retry: bool, runs: dict):
        self.config, self.paths, self.split, self.decide, self.retry = config, paths, split_book, decide, retry
        self.ran: dict[Path, dict] = {}   # {page path: {framework: its book notebook that ran to its end}}
        self.runs = runs                  # {(page path, framework): [Job, ...]}, each reaching further

    def start(self, jobs: list[Job], cache: Cache) -> list[Job]:
        """Once the cache has answered: the pages holding two tabs or more that ran decide theirs."""
        for job in jobs:
            self._note(job)
        return [each for page in dict.fromkeys(j.page for j in jobs) for each in self._follow(page, cache)]

    def after(self, job: Job, cache: Cache) -> list[Job]:
        """A book's run ended: its page decides again, with this tab if it ran to its end."""
        if job.report.run is RunKind.RESEEDED:
            return []
        self._note(job)
        return self._follow(job.page, cache)

    def _note(self, job: Job) -> None:
        if job.report.run is RunKind.BOOK and job.report.status.ran and code_cells(job.notebook):
            self.ran.setdefault(job.page.path, {})[job.framework.name] = job.notebook

    def _follow(self, page, cache: Cache) -> list[Job]:
        ran = self.ran.get(page.path, {})
        if len(ran) < 2:
            return []
        new = []
        for name, last in self.decide(page.path, ran).items():
            if self.reaching(page.path, name, last):
                continue
            job = job_of(self.config, self.paths, page, name, self.split.of(page.path)[name], True, last)
            self.runs.setdefault((page.path, name), []).append(job)
            hit, _ = from_cache(cache, job, self.config, self.retry)
            if not hit:
                new.append(job)
        return new

    def reaching(self, page: Path, name: str, last: str) -> bool:
        """Whether a reseeded run of the page's tab was started that reaches cell `last`."""
        return any(_holds(job.notebook, last) for job in self.runs.get((page, name), []))


def _holds(notebook, last: str | None) -> bool:
    """Whether a reseeded notebook reaches cell `last` (None: the notebook's end, which only a whole run does)."""
    return last is not None and any(c.get("id") == last for c in notebook.cells)


def _run_in_kernels(config, paths, misses: list[Job], keep, library: Path, then=None) -> list[BookError]:
    for job in misses:   # only for notebooks that run: a render without executing lays out nothing
        lay_out(job, config.root, paths, data_mirror())
    return Kernels(environments.kernel_dirs(), config.timeout, config.jobs, paths.cache,
                   env={"DATA_MIRROR": str(data_mirror()), **environments.library_env(library)},
                   startup=in_kernel.source()).run(misses, on_success=keep, on_failure=keep, then=then)


def _leave_unrun(config, paths, misses: list[Job], keep, library: Path, then=None) -> list[BookError]:
    for job in misses:
        job.report.status = NotebookStatus.NOT_EXECUTED   # the merge stage says so on the page
    if misses:
        logger.info(f"[execute] {len(misses)} notebooks not executed (--execute none)")
    return []


@dataclasses.dataclass(frozen=True)
class Strategy:
    """What the execute stage does with the notebooks the cache does not hold (config.EXECUTE)."""
    run: typing.Callable            # (config, paths, jobs, keep, library folder, then) -> failures
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
    """A notebook that ran, for CI to upload: written whole (a .part renamed) and only when it changed. (Made into
    text without nbformat's schema check: it was checked when it was read from the cache, or made here.)"""
    target = executed_path(directory, framework, page, reseeded)
    text = notebook_json.text(nb)
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
    asks for; executed here (cached), or taken from notebooks executed elsewhere (`executed_dir`: CI's jobs).
    `decide(page path, {framework: notebook that ran})`: which reseeded runs those tabs need ({framework: the
    last cell id}); given, the book's runs start them as soon as their tabs have run (Early), on kernel slots
    the book's runs leave free, and `reseeded` finds them done."""
    config: BookConfig
    paths: Paths
    source: BookSource                 # the read stage's
    split: SplitBook
    library: Path                      # the library stage's d2l package, which the kernels import
    executed_dir: Path | None = None
    retry: bool = False
    decide: typing.Callable | None = None
    early: dict = dataclasses.field(default_factory=dict)   # Early.runs: the reseeded runs started early

    def book(self, pages: list, ran: typing.Callable[[Execution], None] | None = None) -> Execution:
        """Every notebook of `pages` (the rest keep their split notebooks); `ran(execution)` as soon as they
        have all run, while the reseeded runs they started may go on."""
        if self.executed_dir:
            return load_executed(self.executed_dir, self.source, self.split)
        early = Early(self.config, self.paths, self.split, self.decide, self.retry, self.early) if self.decide \
            else None
        return execute(self.config, self.paths, self.source, self.split, pages, self.library, retry=self.retry,
                       early=early, ran=ran)

    def reseeded(self, until: dict) -> Execution:
        """The reseeded runs of `until` ({page path: {framework: the last cell id it needs, or None}}): those
        the book's runs started that reach that cell, and the others run now."""
        if self.executed_dir:   # executed elsewhere: they travelled with the notebooks
            return load_reseeded(self.executed_dir, self.split, until)
        found: dict[tuple[Path, str], Job] = {}
        rest: dict[Path, dict] = {}
        for page, names in until.items():
            for name, last in names.items():
                early = self._reaching(page, name, last)
                if early is not None:
                    found[page, name] = early
                else:
                    rest.setdefault(page, {})[name] = last
        run = execute(self.config, self.paths, self.source, self.split,
                      [p for p in self.source.pages if p.path in rest], self.library,
                      reseeded=True, retry=self.retry, until=rest) if rest else \
            Execution({path: dict(by_framework) for path, by_framework in self.split.notebooks.items()})
        for (page, name), job in found.items():
            run.notebooks[page][name] = job.notebook   # type: ignore[index]  # execute's dicts, made for this
            write_executed(self.paths.executed, name, page, job.notebook, reseeded=True)
        measured = {(r.page, r.framework) for r in run.reports} | {(p.as_posix(), n) for p, n in found}
        spent = [job.report for (page, name), jobs in self.early.items() for job in jobs
                 if job.report.status is not NotebookStatus.CACHED and all(job is not f for f in found.values())
                 and (page.as_posix(), name) not in measured]   # their cost, where no other run stands for them
        return Execution(run.notebooks, (*run.reports, *(job.report for job in found.values()), *spent),
                         run.failures)

    def _reaching(self, page: Path, name: str, last: str | None):
        """An early reseeded run of the page's tab that reaches `last`, cached (also) as the run that stops
        there: a fresh run from the same seed gives those cells the same outputs, and the next build, asking for
        this run, finds it."""
        runs = self.early.get((page, name), [])
        job = next((j for j in reversed(runs) if j.report.status.ran and _holds(j.notebook, last)), None)
        if job is None or last is None:
            return job
        kernel = environments.reseeded_kernel(self.config.framework(name))
        wanted = split.reseeded(self.split.of(page)[name], kernel, last)
        if len(code_cells(wanted)) < len(code_cells(job.notebook)):
            ran = code_cells(job.notebook)
            for cell, done in zip(code_cells(wanted), ran, strict=False):
                cell.outputs, cell.execution_count = done.outputs, done.get("execution_count")
            wanted.metadata[RUN_KEY] = {"seconds": job.notebook.metadata.get(RUN_KEY, {}).get(
                "seconds", [])[:len(code_cells(wanted))]}
            Cache(self.paths.cache).store(wanted, f"{page.as_posix()}#{kernel}")
        return job

    def reseeded_to_travel(self, execution: Execution, pages: list, frameworks: list) -> Execution | None:
        """One framework's job (CI): which groups differ is known only once every tab has run, so its reseeded
        runs are made for all its pages, whole, and travel with its executed notebooks. None for a whole build."""
        if len(frameworks) == len(self.config.frameworks) or self.executed_dir:
            return None
        until = {p.path: {fw.name: None for fw in frameworks if execution.ran(p.path, fw.name)} for p in pages}
        return self.reseeded({path: names for path, names in until.items() if names})
