"""Stage 3, execute: run every framework's notebooks in that framework's kernel.

Caching is jupyter-cache's: a notebook whose code cells and kernelspec (which
carries the environment fingerprint, see split.py) match a cached one gets that
one's outputs, and no kernel starts. The rest run through nbclient, the
frameworks side by side (one asyncio task each, one kernel at a time per
framework), with a line of progress per cell. The first failing cell stops the
build with the page, line, framework, cell and error.
"""
from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import time
from pathlib import Path

import nbformat
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from bookbuild.dialect import Page
from bookbuild.split import block_index

DEFAULT_TIMEOUT = 600  # seconds a cell may take


class ExecutionError(Exception):
    """A cell failed; the message starts with `file:line: [framework] cell i/n`."""


@dataclasses.dataclass
class Job:
    page: Page
    framework: object          # config.Framework
    notebook: nbformat.NotebookNode
    cwd: Path                  # the kernel's working directory: the page's folder


@dataclasses.dataclass
class CellReport:
    number: int                # 1-based among the notebook's code cells
    line: int                  # of the cell's first code line in the page
    status: str                # "cached" or "executed"
    seconds: float | None = None


@dataclasses.dataclass
class NotebookReport:
    page: str
    framework: str
    status: str                # "cached", "executed" or "failed"
    seconds: float = 0.0
    cells: list[CellReport] = dataclasses.field(default_factory=list)


def code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


class Executor:
    """Cache lookups, then parallel execution of what the cache does not have."""

    def __init__(self, cache_dir: Path, jupyter_path: str, timeout: int = DEFAULT_TIMEOUT, log=print):
        self.cache = get_cache(str(cache_dir))
        self.cache_dir = Path(cache_dir)
        self.jupyter_path = jupyter_path
        self.timeout = timeout
        self.log = log

    def kernel_log(self, framework: str) -> Path:
        return self.cache_dir / f"kernel-{framework}.log"

    def run(self, jobs: list[Job]) -> list[NotebookReport]:
        """Fill every job's notebook with outputs; return one report per job."""
        reports = {id(job): NotebookReport(str(job.page.path), job.framework.name, "cached") for job in jobs}
        misses = []
        for job in jobs:
            if not code_cells(job.notebook):
                continue
            try:
                _, job.notebook = self.cache.merge_match_into_notebook(
                    job.notebook, nb_meta=("kernelspec", "language_info"), cell_meta=())
                cells = code_cells(job.notebook)
                reports[id(job)].cells = [CellReport(n, job.page.blocks[block_index(c)].line, "cached")
                                          for n, c in enumerate(cells, 1)]
                self.log(f"[{job.framework.name}] {job.page.path}: cached, {len(cells)} cells")
            except KeyError:
                misses.append(job)
        if misses:
            # Kernels are looked up on JUPYTER_PATH when nbclient starts them.
            os.environ["JUPYTER_PATH"] = os.pathsep.join(
                p for p in (self.jupyter_path, os.environ.get("JUPYTER_PATH")) if p)
            asyncio.run(self._run_frameworks(misses, reports))
        return [reports[id(job)] for job in jobs]

    async def _run_frameworks(self, jobs: list[Job], reports: dict) -> None:
        by_framework: dict[str, list[Job]] = {}
        for job in jobs:
            by_framework.setdefault(job.framework.name, []).append(job)
        # Every framework runs to its end even when another fails: what succeeded is
        # cached, and all failures are reported at once.
        results = await asyncio.gather(*(self._run_queue(queue, reports) for queue in by_framework.values()),
                                       return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        for failure in failures:
            if not isinstance(failure, ExecutionError):
                raise failure
        if failures:
            raise ExecutionError("\n\n".join(map(str, failures)))

    async def _run_queue(self, jobs: list[Job], reports: dict) -> None:
        for job in jobs:  # one kernel at a time per framework: a fresh one per page; a failure ends the queue
            await self._execute(job, reports[id(job)])
            self.cache.cache_notebook_bundle(
                CacheBundleIn(job.notebook, uri=f"{job.page.path}#{job.framework.name}"),
                check_validity=False, overwrite=True)

    async def _execute(self, job: Job, report: NotebookReport) -> None:
        name, cells = job.framework.name, code_cells(job.notebook)
        position = {id(cell): n for n, cell in enumerate(cells, 1)}
        current: dict = {}
        report.status = "executed"
        started = time.monotonic()

        def line_of(cell) -> int:
            return job.page.blocks[block_index(cell)].line

        def on_start(cell, cell_index):
            current.update(cell=cell, started=time.monotonic())

        def on_executed(cell, cell_index, execute_reply):
            seconds = time.monotonic() - current["started"]
            number = position[id(cell)]
            report.cells.append(CellReport(number, line_of(cell), "executed", round(seconds, 3)))
            for output in cell.get("outputs", []):
                if output.get("name") == "stderr":  # not shown (nb_output_stderr), but not hidden from you
                    self.log(f"[{name}] {job.page.path}:{line_of(cell)}: stderr: {output['text'].strip()[:300]}")
            self.log(f"[{name}] {job.page.path}: cell {number}/{len(cells)} (line {line_of(cell)}) "
                     f"{seconds:.1f} s")

        self.log(f"[{name}] {job.page.path}: executing {len(cells)} cells in kernel {job.framework.kernel}")
        client = NotebookClient(
            job.notebook, kernel_name=job.framework.kernel, timeout=self.timeout,
            record_timing=False,  # timings in cell metadata would change the cache key
            resources={"metadata": {"path": str(job.cwd)}},
            on_cell_start=on_start, on_cell_executed=on_executed)
        try:
            # The kernel's own stderr (its log, framework banners) goes to a file, not the terminal.
            with open(self.kernel_log(name), "a") as kernel_log:
                await client.async_execute(stderr=kernel_log)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
            report.status = "failed"
            cell = current.get("cell")
            where = f"{job.page.path}:{line_of(cell)}" if cell else str(job.page.path)
            which = f"cell {position[id(cell)]}/{len(cells)}" if cell else "kernel"
            raise ExecutionError(f"{where}: [{name}] {which} failed: {_summary(err)}\n"
                                 f"Fix the code of that cell (or `make check TAB={name}` to run "
                                 f"only this framework).") from None
        finally:
            report.seconds = round(time.monotonic() - started, 3)
        self.log(f"[{name}] {job.page.path}: done in {report.seconds:.1f} s")


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _summary(err: Exception) -> str:
    if isinstance(err, CellExecutionError):
        tail = "\n".join(ANSI.sub("", str(err.traceback)).strip().splitlines()[-12:])
        return f"{err.ename}: {err.evalue}\n{tail}"
    if isinstance(err, CellTimeoutError):
        return f"timed out ({err})"
    return f"the kernel died ({err})"
