"""Stage 3, execute: run every page's notebook of every framework in that framework's kernel.

Caching is jupyter-cache's: a notebook whose code cells and kernelspec (which
carries the environment fingerprint, see split.py) match a cached one gets that
one's outputs, and no kernel starts. The rest run through nbclient, up to `jobs`
kernels at once across pages and frameworks, a fresh kernel per page. A free slot
goes to the framework with the fewest kernels running (then the fewest started),
so one slow framework cannot starve the others. A framework's first failure
stops its remaining pages; the others run to their end, their notebooks are
cached, and every failure is raised at once with page, line, framework and cell.

Kernels run on an event loop in a worker thread: Ctrl-C (or SIGTERM) reaches the
main thread, which cancels the loop's tasks and waits while every kernel shuts
down. A notebook is cached only whole, after it ran; an interrupted one is not.
"""
from __future__ import annotations

import asyncio
import atexit
import collections
import dataclasses
import logging
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import nbformat

from bookbuild import errors
from bookbuild.dialect import Page
from bookbuild.report import CellReport, NotebookReport
from bookbuild.split import block_index

RUN_KEY = "d2l_run"   # notebook metadata of a cached run: seconds per cell (not part of the cache key)
DATA_ERRORS = {"DownloadError", "UnknownDataSetError"}
MISSING_MODULE = re.compile(r"No module named '([\w.]+)'")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclasses.dataclass
class Job:
    page: Page
    framework: object          # config.Framework
    notebook: nbformat.NotebookNode
    cwd: Path                  # the kernel's working directory: the page's folder

    def line_of(self, cell) -> int:
        return self.page.blocks[block_index(cell)].line


def code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


class Cache:
    """jupyter-cache behind the one door the build uses; a damaged cache is a CacheError."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._cache = self._guard(lambda: self._open(), "open")

    def _open(self):
        from jupyter_cache import get_cache
        cache = get_cache(str(self.directory))
        cache.list_cache_records()  # touches the database: a damaged one fails here, not mid-build
        return cache

    def _guard(self, action, what: str):
        from sqlalchemy.exc import SQLAlchemyError
        try:
            return action()
        except (SQLAlchemyError, OSError, ValueError) as err:
            raise errors.CacheError(f"the execution cache cannot be {what}ed: {type(err).__name__}: "
                                    f"{str(err).splitlines()[0]}", path=self.directory) from None

    def lookup(self, nb):
        """The cached notebook for these code cells and kernelspec, or None."""
        def match():
            try:
                return self._cache.merge_match_into_notebook(nb, nb_meta=("kernelspec", "language_info", RUN_KEY),
                                                             cell_meta=())[1]
            except KeyError:
                return None
        return self._guard(match, "read")

    def store(self, nb, uri: str) -> None:
        from jupyter_cache.base import CacheBundleIn
        self._guard(lambda: self._cache.cache_notebook_bundle(CacheBundleIn(nb, uri=uri), check_validity=False,
                                                              overwrite=True), "writ")


class Executor:
    def __init__(self, cache: Cache, jupyter_path: str, timeout: int, jobs: int, log=print):
        self.cache, self.jupyter_path = cache, jupyter_path
        self.timeout, self.jobs, self.log = timeout, jobs, log
        self.clients: list = []   # every nbclient started, to stop what an interrupt leaves running

    def kernel_log(self, framework: str) -> Path:
        return self.cache.directory / f"kernel-{framework}.log"

    def run(self, jobs: list[Job], reports: list[NotebookReport]) -> None:
        """Fill every job's notebook with outputs, appending one report per job to `reports`
        (also when it raises)."""
        by_job = {id(job): NotebookReport(str(job.page.path), job.framework.name, "cached") for job in jobs}
        reports += by_job.values()
        misses = []
        for job in jobs:
            if not code_cells(job.notebook):
                continue
            cached = self.cache.lookup(job.notebook)
            if cached is None:
                by_job[id(job)].status = "not run"
                misses.append(job)
                continue
            job.notebook = cached
            seconds = cached.metadata.get(RUN_KEY, {}).get("seconds", [])
            by_job[id(job)].cells = [CellReport(n, job.line_of(c), "cached", seconds[n - 1] if n <= len(seconds) else None)
                                     for n, c in enumerate(code_cells(cached), 1)]
            self.log(f"[{job.framework.name}] {job.page.path}: cached, {len(by_job[id(job)].cells)} cells")
        if misses:
            # Kernels are looked up on JUPYTER_PATH when nbclient starts them.
            os.environ["JUPYTER_PATH"] = os.pathsep.join(
                p for p in (self.jupyter_path, os.environ.get("JUPYTER_PATH")) if p)
            self._run_in_worker(misses, by_job)

    # --- the worker thread and its interruption -------------------------------------

    def _run_in_worker(self, jobs: list[Job], reports: dict) -> None:
        loop = asyncio.new_event_loop()
        outcome: dict = {}
        scheduled = None  # the task, created in the worker thread

        def work():
            nonlocal scheduled
            asyncio.set_event_loop(loop)
            scheduled = loop.create_task(self._schedule(jobs, reports))
            try:
                loop.run_until_complete(scheduled)
            except BaseException as err:  # noqa: BLE001 - handed to the main thread
                outcome["error"] = err
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        worker = threading.Thread(target=work, name="kernels", daemon=True)
        worker.start()
        try:
            while worker.is_alive():
                worker.join(0.1)
        except KeyboardInterrupt:
            self.log("\ninterrupted: shutting the kernels down ...")
            _quiet_shutdown_logs()
            while scheduled is None and worker.is_alive():
                time.sleep(0.01)
            try:
                loop.call_soon_threadsafe(scheduled.cancel)   # nbclient shuts each kernel down ...
            except RuntimeError:
                pass  # the loop had just finished
            _wait_ignoring_interrupts(worker, GRACE_SECONDS)
            for client in self.clients:                       # ... and what it could not, stops here
                _stop_kernel(client)
            _wait_ignoring_interrupts(worker, 5)
            for report in reports.values():
                if report.status in ("running", "not run"):
                    report.status = "interrupted"
            raise errors.Interrupted("the build was interrupted; every kernel was shut down and no "
                                     "half-run notebook was cached") from None
        error = outcome.get("error")
        if error is not None:
            raise error

    async def _schedule(self, jobs: list[Job], reports: dict) -> None:
        order = list(dict.fromkeys(job.framework.name for job in jobs))
        waiting = {name: collections.deque(j for j in jobs if j.framework.name == name) for name in order}
        running, started = collections.Counter(), collections.Counter()
        tasks: dict[asyncio.Task, Job] = {}
        failures: list[errors.BookError] = []
        total, done = len(jobs), 0
        try:
            while tasks or any(waiting.values()):
                while len(tasks) < self.jobs and any(waiting.values()):
                    name = min((n for n in order if waiting[n]), key=lambda n: (running[n], started[n], order.index(n)))
                    job = waiting[name].popleft()
                    running[name] += 1
                    started[name] += 1
                    tasks[asyncio.ensure_future(self._execute(job, reports[id(job)]))] = job
                finished, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in finished:
                    job = tasks.pop(task)
                    running[job.framework.name] -= 1
                    done += 1
                    if task.exception() is None:
                        self.cache.store(job.notebook, uri=f"{job.page.path}#{job.framework.name}")
                        self.log(f"[{done}/{total}] {job.framework.name} {job.page.path}: done "
                                 f"in {reports[id(job)].seconds:.1f} s")
                        continue
                    failure = task.exception()
                    if not isinstance(failure, errors.BookError):
                        raise failure
                    failures.append(failure)
                    skipped = waiting.pop(job.framework.name, ())
                    waiting[job.framework.name] = collections.deque()
                    for other in skipped:
                        self.log(f"[{job.framework.name}] {other.page.path}: not run (this framework failed)")
        except asyncio.CancelledError:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        errors.raise_all(failures)

    # --- one notebook -------------------------------------------------------------

    async def _execute(self, job: Job, report: NotebookReport) -> None:
        from nbclient import NotebookClient

        name, cells = job.framework.name, code_cells(job.notebook)
        position = {id(cell): n for n, cell in enumerate(cells, 1)}
        current: dict = {}
        report.status, report.cells = "running", []
        started = time.monotonic()

        def on_start(cell, cell_index):
            current.update(cell=cell, started=time.monotonic())

        def on_executed(cell, cell_index, execute_reply):
            seconds = round(time.monotonic() - current["started"], 3)
            number = position[id(cell)]
            failed = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
            report.cells.append(CellReport(number, job.line_of(cell), "failed" if failed else "executed", seconds))
            for output in cell.get("outputs", []):
                if output.get("name") == "stderr":  # not shown (nb_output_stderr), but not hidden from you
                    self.log(f"[{name}] {job.page.path}:{job.line_of(cell)}: stderr: {output['text'].strip()[:300]}")
            self.log(f"[{name}] {job.page.path}: cell {number}/{len(cells)} (line {job.line_of(cell)}) {seconds:.1f} s")

        self.log(f"[{name}] {job.page.path}: executing {len(cells)} cells in kernel {job.framework.kernel}")
        client = NotebookClient(
            job.notebook, kernel_name=job.framework.kernel, timeout=self.timeout,
            record_timing=False,  # timings in cell metadata would change the cache key
            resources={"metadata": {"path": str(job.cwd)}},
            on_cell_start=on_start, on_cell_executed=on_executed)
        self.clients.append(client)
        try:
            # The kernel's own stderr (its log, framework banners) goes to a file, not the terminal.
            with open(self.kernel_log(name), "a") as kernel_log:
                await client.async_execute(stderr=kernel_log)
        except asyncio.CancelledError:
            report.status = "interrupted"
            raise
        except Exception as err:  # noqa: BLE001 - every kind becomes a BookError that says where
            report.status = "failed"
            cell = current.get("cell")
            if cell is not None and not any(c.number == position[id(cell)] for c in report.cells):
                report.cells.append(CellReport(position[id(cell)], job.line_of(cell), "failed",
                                               round(time.monotonic() - current["started"], 3)))
            failure = self._explain(err, job, cell, f"{position[id(cell)]}/{len(cells)}" if cell else None)
            report.error = failure.as_record()
            raise failure from None
        finally:
            report.seconds = round(time.monotonic() - started, 3)
        report.status = "executed"
        job.notebook.metadata[RUN_KEY] = {"seconds": [c.seconds for c in sorted(report.cells, key=lambda c: c.number)]}

    def _explain(self, err: Exception, job: Job, cell, number: str | None) -> errors.BookError:
        """nbclient's exception -> the BookError of its kind, at the cell's source line."""
        from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

        name = job.framework.name
        where = {"path": job.page.path, "line": job.line_of(cell) if cell is not None else None,
                 "framework": name, "cell": number}
        if isinstance(err, CellTimeoutError):
            return errors.CellTimeout(f"ran longer than the timeout of {self.timeout} s", **where)
        if isinstance(err, DeadKernelError):
            return errors.DeadKernel(f"the kernel died ({err})", **where,
                                     fix=f"read the kernel's own log, {self.kernel_log(name)}: the cell may need less "
                                         "memory, or the environment is broken (`make env` repairs it)")
        if isinstance(err, CellExecutionError):
            shown = [o for o in (cell or {}).get("outputs", []) if o.get("output_type") == "error"]
            traceback = "\n".join(shown[-1]["traceback"]) if shown else str(err.traceback)
            tail = "\n".join(ANSI.sub("", traceback).strip().splitlines()[-8:])
            summary = f"{err.ename}: {err.evalue}"
            if err.ename in DATA_ERRORS:
                return errors.DataError(summary, **where)
            missing = MISSING_MODULE.search(err.evalue or "")
            if err.ename in ("ModuleNotFoundError", "ImportError") and missing:
                requirements = job.framework.requirements
                listed = f"requirements/{requirements.name}" if requirements else "its requirements"
                return errors.EnvironmentProblem(
                    summary, **where, detail=tail,
                    fix=f"`{missing.group(1)}` is not importable in the {name} environment: if it is in {listed}, "
                        f"run `make env` (it repairs a broken environment); otherwise add it there")
            return errors.ExecutionError(summary, detail=tail, **where)
        return errors.EnvironmentProblem(f"the {name} kernel ({job.framework.kernel}) could not start or "
                                         f"stopped answering: {type(err).__name__}: {err}", **where,
                                         detail=f"its log: {self.kernel_log(name)}")


GRACE_SECONDS = 10   # for kernels to shut down when asked, after an interrupt


def _wait_ignoring_interrupts(thread: threading.Thread, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while thread.is_alive() and time.monotonic() < deadline:
        try:
            thread.join(0.1)
        except KeyboardInterrupt:
            pass  # already stopping


def _stop_kernel(client) -> None:
    """Stop a kernel nbclient has not shut down (its process group: SIGTERM, then SIGKILL), and drop
    nbclient's own exit-time cleanup of it, which would only report the kernel gone."""
    atexit.unregister(client._cleanup_kernel)
    process = getattr(getattr(getattr(client, "km", None), "provisioner", None), "process", None)
    if process is None or process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 3), (signal.SIGKILL, 3)):
        try:
            os.killpg(process.pid, sig)
            process.wait(wait)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def _quiet_shutdown_logs() -> None:
    """Kernels stopped mid-cell make nbclient and asyncio log their cleanup: not news to a reader."""
    for logger in ("traitlets", "asyncio", "nbclient", "jupyter_client"):
        logging.getLogger(logger).setLevel(logging.CRITICAL)


def seed_data(log) -> None:
    """Copy data sets from the offline mirror ($DATA_MIRROR) into the d2l data cache ($D2L_DATA_DIR)
    when the cached copy is missing or damaged, after checking the mirror's copy (d2l.data.seed_cache)."""
    mirror = os.environ.get("DATA_MIRROR")
    if not mirror:
        return
    from d2l import data
    for name, outcome in data.seed_cache(mirror):
        if outcome != "cached copy verified":
            log(f"[data] {name}: {outcome}")
