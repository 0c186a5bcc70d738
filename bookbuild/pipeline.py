"""The build, stage after stage: read -> split -> execute (cached) or load -> agree -> merge -> render.

Each stage is a module that takes the previous one's value and hands on its own;
this module only chains them, holds the checkout's build lock, and writes the
report on every outcome. Where everything goes is `config.Paths`.
"""
from __future__ import annotations

import contextlib
import dataclasses
import time
from pathlib import Path

import nbformat

from bookbuild import agreement, environments, merge, pdf, read, render, split
from bookbuild.config import BookConfig, Paths
from bookbuild.errors import BookError, DisagreementError, EnvironmentProblem, Interrupted, SourceError, raise_all
from bookbuild.execute import Cache, Executor, Job, code_cells, seed_data
from bookbuild.report import BuildReport, NotebookReport


@dataclasses.dataclass(frozen=True)
class Options:
    command: str = "html"                    # "html", "check" (execute only) or "pdf"
    frameworks: tuple[str, ...] = ()         # execute only these (default: all of build.yml)
    shard: tuple[int, int] = (1, 1)          # (i, n): execute the i-th of n shares of the pages with code
    executed_dir: Path | None = None         # take executed notebooks from here instead of executing

    @property
    def renders(self) -> bool:
        return self.command != "check"


def build(config: BookConfig, options: Options = Options(), paths: Paths | None = None, log=print) -> BuildReport:
    paths = paths or Paths.under(config.root)
    report = BuildReport(options.command)
    with build_lock(paths, log):
        try:
            try:
                _stages(config, options, paths, report, log)
            except KeyboardInterrupt:
                raise Interrupted("the build was interrupted; the last good site is kept") from None
            report.status = "done"
        except BookError as err:
            report.status = "interrupted" if isinstance(err, Interrupted) else "failed"
            report.error = err.as_record()
            raise
        finally:
            site = paths.site("html")
            report.site = str(site) if site.is_dir() else None
            report.write(paths.report)
            log(f"\nBuild report ({paths.report}):\n{report.summary()}")
    return report


def _stages(config: BookConfig, options: Options, paths: Paths, report: BuildReport, log) -> None:
    frameworks = [config.framework(name) for name in options.frameworks] or list(config.frameworks)
    needed = ["build", *environments.NODE_PACKAGES] + ([] if options.executed_dir else
                                                       [fw.environment for fw in frameworks])
    if outdated := environments.stale(config, needed):
        raise EnvironmentProblem(f"environment(s) {', '.join(outdated)} missing or older than their "
                                 "requirement files")
    started = time.monotonic()
    source = read.read_book(config)
    report.timed("read", started)

    started = time.monotonic()
    notebooks = split.split_book(source, config, frameworks)
    if options.executed_dir:
        executed = load_executed(Path(options.executed_dir), source, notebooks, report)
    else:
        executed = execute(config, paths, source, notebooks, options.shard, report, log)
    report.timed("execute", started)

    report.agreement = agreement.compare(source, executed, config)
    disagreements = [a for a in report.agreement if a["status"] == "disagree"]
    if disagreements and (config.agreement.strict or options.command == "check"):
        raise_all([DisagreementError(f"the tabs {', '.join(a['frameworks'])} print different results: {a['detail']}",
                                     path=a["page"], line=a["line"]) for a in disagreements])
    if not options.renders:
        return

    started = time.monotonic()
    merge.stage(config, paths.staging, source, executed, pdf.built_pdfs(config, paths))
    if options.command == "pdf":
        pdf.render_pdfs(config, paths, log)
        merge.stage(config, paths.staging, source, executed, pdf.built_pdfs(config, paths))  # the site links them
    render.render(config, paths, "html", log=log)
    report.timed("render", started)


@contextlib.contextmanager
def build_lock(paths: Paths, log):
    """One build at a time per checkout: a second one waits, and says so."""
    from filelock import FileLock, Timeout

    paths.out.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(paths.lock))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log(f"another build is running in this checkout (it holds {paths.lock}); waiting for it to finish ...")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


# --- execute, or load what CI executed -------------------------------------------------

def shard_of(pages: list, shard: tuple[int, int]) -> list:
    """The i-th of n shares of the pages with code, in reading order (every n-th page)."""
    i, n = shard
    with_code = [p for p in pages if p.has_code]
    return [p for k, p in enumerate(with_code) if k % n == i - 1]


def execute(config: BookConfig, paths: Paths, source, notebooks: dict, shard, report: BuildReport,
            log) -> dict:
    pages = shard_of(list(source.pages), shard)
    jobs = [Job(page, config.framework(name), nb, config.root / page.path.parent)
            for page in pages for name, nb in notebooks[page.path].items()]
    seed_data(log)
    first = len(report.notebooks)
    try:
        Executor(Cache(paths.cache), environments.jupyter_path(), config.timeout, config.jobs, log).run(
            jobs, report.notebooks)
    finally:
        for job, outcome in zip(jobs, report.notebooks[first:]):
            if outcome.status in ("cached", "executed"):   # what ran is kept, also when another page failed
                notebooks[job.page.path][job.framework.name] = job.notebook
                merge.write_if_changed(executed_path(paths.executed, job.framework.name, job.page.path),
                                       merge.notebook_text(job.notebook))
    chosen = {page.path for page in pages}
    return {page.path: notebooks[page.path] for page in source.pages if page.path in chosen or not page.has_code}


def executed_path(directory: Path, framework: str, page: Path) -> Path:
    return Path(directory) / framework / page.with_suffix(".ipynb")


def load_executed(directory: Path, source, notebooks: dict, report: BuildReport) -> dict:
    """Take the notebooks CI's per-framework jobs executed, checking they ran the code the pages have."""
    problems = []
    for page in (p for p in source.pages if p.has_code):   # a page without code has nothing executed
        for name, wanted in notebooks[page.path].items():
            path = executed_path(directory, name, page.path)
            where = {"path": page.path, "framework": name}
            if not path.is_file():
                problems.append(SourceError(f"no executed notebook {path}", **where,
                                            fix=f"run `make check TAB={name}` and copy _build/executed/{name} there"))
                continue
            executed = nbformat.read(path, as_version=4)
            if [(c.get("id"), c.source) for c in code_cells(executed)] != \
               [(c.get("id"), c.source) for c in code_cells(wanted)]:
                problems.append(SourceError(f"{path} was executed from other code than the page has now", **where,
                                            fix=f"run `make check TAB={name}` again"))
                continue
            failed = [c for c in code_cells(executed) if any(o.get("output_type") == "error" for o in c.outputs)]
            if failed:
                problems.append(SourceError(f"{path}: cell {failed[0].get('id')} holds an error output", **where,
                                            fix=f"fix it and run `make check TAB={name}` again"))
                continue
            notebooks[page.path][name] = executed
            report.notebooks.append(NotebookReport(str(page.path), name, "loaded"))
    raise_all(problems)
    return notebooks
