"""The execute stage's kernel lifecycle: one notebook, run cell by cell in a fresh kernel (nbclient).

The kernel starts under the reaper, with the build's environment for kernels, in the notebook's
working folder; it runs the build's start-up code (bookbuild/in_kernel.py) silently, then every cell,
each timed into the notebook's report; then nbclient shuts it down. A failing cell stops the notebook,
which keeps what ran before it and the error (failures.py says where).
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path

from bookbuild import errors
from bookbuild.execute import jupyter_adapter
from bookbuild.execute.failures import explain
from bookbuild.execute.jobs import Job, code_cells
from bookbuild.report import CellReport, CellStatus, NotebookStatus

logger = logging.getLogger(__name__)

STDERR_LINES = 12                 # of one stderr output shown in the build's log


@dataclasses.dataclass(frozen=True)
class KernelSettings:
    """What every kernel of a build shares."""
    kernel_dirs: tuple[str, ...]         # where the build's kernelspecs are (never the user's)
    timeout: int                         # seconds a cell may run
    log_dir: Path                        # each framework's kernels' own stderr, `kernel-<framework>.log`
    socket_dir: Path                     # the kernels' Unix sockets: the build's, removed when it ends
    env: Mapping[str, str] = dataclasses.field(default_factory=dict)   # on top of this process's and the spec's
    startup: str = ""                    # run silently before the first cell (bookbuild/in_kernel.py)

    def kernel_log(self, framework: str) -> Path:
        return self.log_dir / f"kernel-{framework}.log"


async def run_notebook(job: Job, settings: KernelSettings, clients: list) -> None:
    """Run `job`'s notebook in a fresh kernel, filling it and its report; a failure is raised as the
    BookError of its kind (anything else is a bug, raised as it is). `clients`: every nbclient started, for
    the scheduler to stop what an interrupt leaves running."""
    name, cells, report = job.framework.name, code_cells(job.notebook), job.report
    position = {id(cell): n for n, cell in enumerate(cells, 1)}
    current: dict = {}
    ready = False   # the kernel answered: a failure from now on is not one of starting it
    report.status, report.cells = NotebookStatus.RUNNING, []
    started = time.monotonic()

    def on_start(cell, cell_index):
        current.update(cell=cell, started=time.monotonic())

    def on_executed(cell, cell_index, execute_reply):
        seconds = round(time.monotonic() - current["started"], 3)
        number = position[id(cell)]
        failed = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
        status = CellStatus.FAILED if failed else CellStatus.EXECUTED
        report.cells.append(CellReport(number, job.line_of(cell), status, seconds))
        for output in cell.get("outputs", []):
            if output.get("name") == "stderr":  # not shown on the page (nb_output_stderr), but not hidden from you
                logger.info(f"[{name}] {job.page.path}:{job.line_of(cell)}: stderr:\n{shortened(output['text'])}")
        logger.info(f"[{name}] {job.page.path}: cell {number}/{len(cells)} (line {job.line_of(cell)}) "
                    f"{seconds:.1f} s")

    logger.info(f"[{name}] {job.page.path}: executing {len(cells)} cells in kernel {job.kernel}")

    async def prepare(notebook):
        nonlocal ready
        ready = True
        if settings.startup:
            reply = await client.async_wait_for_reply(client.kc.execute(settings.startup, silent=True))
            if reply["content"]["status"] != "ok":   # our own code: a bug in the build, not in the page
                raise RuntimeError(f"the kernel's start-up code failed: {reply['content'].get('evalue')}")

    client = jupyter_adapter.notebook_client(
        job.notebook, settings.kernel_dirs, settings.socket_dir, kernel_name=job.kernel, timeout=settings.timeout,
        record_timing=False,  # timings in cell metadata would change the cache key
        resources={"metadata": {"path": str(job.cwd)}},
        on_notebook_start=prepare, on_cell_start=on_start, on_cell_executed=on_executed)
    clients.append(client)
    try:
        # The kernel's own stderr (its log, framework banners) goes to a file, not the terminal.
        with open(settings.kernel_log(name), "a") as kernel_log:
            await client.async_execute(stderr=kernel_log, env={**os.environ, **settings.env})
    except asyncio.CancelledError:
        report.status = NotebookStatus.INTERRUPTED
        raise
    except Exception as err:  # noqa: BLE001 - sorted by `explain`: ours to translate, or a bug
        report.status = NotebookStatus.FAILED
        cell = current.get("cell")
        if cell is not None and not any(c.number == position[id(cell)] for c in report.cells):
            report.cells.append(CellReport(position[id(cell)], job.line_of(cell), CellStatus.FAILED,
                                           round(time.monotonic() - current["started"], 3)))
        if not ready:
            err = jupyter_adapter.start_failure(err, client)
        failure = explain(err, job, cell, f"{position[id(cell)]}/{len(cells)}" if cell else None,
                          settings.timeout, settings.kernel_log(name))
        report.error = failure.as_record()
        raise failure from None
    finally:
        report.seconds = round(time.monotonic() - started, 3)
        # nbclient has shut its kernel down (or never started one): its exit-time cleanup has nothing
        # left to do but fail on a kernel manager that is gone.
        jupyter_adapter.forget_exit_cleanup(client)
    report.status = NotebookStatus.EXECUTED


def shortened(text: str, lines: int = STDERR_LINES, width: int = 400) -> str:
    """Text for the log: whole, or cut at a line boundary with a count of what was left out."""
    kept = errors.escape_controls(text.rstrip("\n")).split("\n")   # a cell's escape codes never reach the terminal
    shown = [line if len(line) <= width else f"{line[:width]} … ({len(line) - width} more characters)"
             for line in kept[:lines]]
    if len(kept) > lines:
        shown.append(f"… ({len(kept) - lines} more lines)")
    return "\n".join("    " + line for line in shown)
