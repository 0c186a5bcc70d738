"""The execute stage's engine: run notebooks in their frameworks' kernels, `jobs` at once.

nbclient runs each notebook in a fresh kernel. A free slot goes to the framework
with the fewest kernels running (then the fewest started), so one slow framework
cannot starve the others. A failing cell stops only its own notebook, which
keeps what ran before it and the error; every other notebook still runs.

Kernels run on an event loop in a worker thread: Ctrl-C (or SIGTERM) reaches the
main thread, which cancels the loop's tasks and waits while every kernel shuts
down. Each kernel runs under its own reaper (reaper.py), which every process its
cells start falls back to when its parent exits: when the kernel ends, they are
stopped, whatever session or environment they started in.

nbclient's and jupyter_client's errors become BookErrors that say where (the
line of the failing call in the page, and the innermost frame); any other
exception is a bug in the build and is not disguised.
"""
from __future__ import annotations

import asyncio
import atexit
import collections
import dataclasses
import functools
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import nbformat

from bookbuild import errors
from bookbuild.config import Framework
from bookbuild.read.dialect import Page, block_index
from bookbuild.report import CellReport, CellStatus, NotebookReport, NotebookStatus

logger = logging.getLogger(__name__)

DATA_ERRORS = {"DownloadError", "UnknownDataSetError"}
MISSING_MODULE = re.compile(r"No module named '([\w.]+)'")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
FRAME = re.compile(r"^(?:Cell In\[(?P<count>\d+)\], line (?P<cell_line>\d+)|File (?P<file>.+?):(?P<line>\d+))"
                   r"(?:, in (?P<function>.+))?$", re.M)
REAPER = Path(__file__).with_name("reaper.py")   # runs each kernel, and ends what its cells started with it
GRACE_SECONDS = 10                # for kernels to shut down when asked, after an interrupt
STDERR_LINES = 12                 # of one stderr output shown in the build's log


@dataclasses.dataclass
class Job:
    page: Page
    framework: Framework
    notebook: nbformat.NotebookNode   # filled with outputs in place
    cwd: Path                     # the kernel's working directory (notebooks.working_folder)
    kernel: str                   # the kernel to run it in (the framework's, or its reseeded twin)
    report: NotebookReport

    @property
    def uri(self) -> str:
        return f"{self.page.path.as_posix()}#{self.kernel}"

    def block(self, cell):
        return self.page.blocks[block_index(cell)]

    def line_of(self, cell, line_in_cell: int = 1) -> int:
        block = self.block(cell)
        lines = block.lines or (block.line,)
        return lines[min(max(line_in_cell, 1), len(lines)) - 1]


def code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


class Kernels:
    """Runs jobs; `run` fills each job's notebook and report, and returns the failures."""

    def __init__(self, kernel_dirs: list[Path], timeout: int, jobs: int, log_dir: Path,
                 env: dict[str, str] | None = None, startup: str = ""):
        self.kernel_dirs, self.timeout, self.jobs = [str(d) for d in kernel_dirs], timeout, jobs
        self.env = env or {}   # for every kernel, on top of this process's environment and its kernelspec's
        self.startup = startup   # code each kernel runs silently before the first cell (bookbuild/in_kernel.py)
        self.log_dir = log_dir
        self.clients: list = []   # every nbclient started, to stop what an interrupt leaves running

    def kernel_log(self, framework: str) -> Path:
        return self.log_dir / f"kernel-{framework}.log"

    def run(self, jobs: list[Job], on_success, on_failure=None) -> list[errors.BookError]:
        """Run every job; `on_success(job)` as each one ends well, `on_failure(job, error)` as one fails (the
        caller caches both)."""
        loop = asyncio.new_event_loop()
        outcome: dict = {}
        scheduled = None  # the task, created in the worker thread

        def work():
            nonlocal scheduled
            asyncio.set_event_loop(loop)
            scheduled = loop.create_task(self._schedule(jobs, on_success, on_failure))
            try:
                outcome["failures"] = loop.run_until_complete(scheduled)
            except BaseException as err:  # noqa: BLE001 - handed to the main thread, raised there
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
            self._interrupt(worker, loop, lambda: scheduled, jobs)
        if "error" in outcome:
            raise outcome["error"]
        return outcome["failures"]

    def _interrupt(self, worker, loop, scheduled, jobs) -> None:
        logger.info("\ninterrupted: shutting the kernels down ...")
        _quiet_shutdown_logs()
        while scheduled() is None and worker.is_alive():
            time.sleep(0.01)
        try:
            loop.call_soon_threadsafe(scheduled().cancel)   # nbclient shuts each kernel down ...
        except RuntimeError:
            pass  # the loop had just finished
        _wait_ignoring_interrupts(worker, GRACE_SECONDS)
        for client in self.clients:                         # ... and what it could not, stops here
            _stop_kernel(client)
        _wait_ignoring_interrupts(worker, 5)
        for job in jobs:
            if job.report.status in (NotebookStatus.RUNNING, NotebookStatus.NOT_RUN):
                job.report.status = NotebookStatus.INTERRUPTED
        raise errors.Interrupted("the build was interrupted; every kernel was shut down and no "
                                 "half-run notebook was cached") from None

    async def _schedule(self, jobs: list[Job], on_success, on_failure=None) -> list[errors.BookError]:
        order = list(dict.fromkeys(job.framework.name for job in jobs))
        waiting = {name: collections.deque(j for j in jobs if j.framework.name == name) for name in order}
        running: collections.Counter[str] = collections.Counter()   # per framework
        started: collections.Counter[str] = collections.Counter()
        tasks: dict[asyncio.Task, Job] = {}
        failures: list[errors.BookError] = []
        done = 0
        try:
            while tasks or any(waiting.values()):
                while len(tasks) < self.jobs and any(waiting.values()):
                    name = min((n for n in order if waiting[n]), key=lambda n: (running[n], started[n], order.index(n)))
                    job = waiting[name].popleft()
                    running[name] += 1
                    started[name] += 1
                    tasks[asyncio.ensure_future(self._execute(job))] = job
                finished, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in finished:
                    job = tasks.pop(task)
                    running[job.framework.name] -= 1
                    done += 1
                    failure = task.exception()
                    if failure is None:
                        on_success(job)
                        verdict = "done"
                    elif isinstance(failure, errors.BookError):
                        failures.append(failure)       # only this notebook stops; the others run on
                        if on_failure:
                            on_failure(job, failure)
                        verdict = "FAILED"
                    else:
                        raise failure                  # a bug in the build
                    logger.info(f"[{done}/{len(jobs)}] {job.framework.name} {job.page.path}: {verdict} "
                             f"in {job.report.seconds:.1f} s")
        except BaseException:   # an interrupt, a full disk, a bug: stop every kernel before it goes on
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return failures

    # --- one notebook -------------------------------------------------------------

    async def _execute(self, job: Job) -> None:
        from nbclient import NotebookClient

        name, cells, report = job.framework.name, code_cells(job.notebook), job.report
        position = {id(cell): n for n, cell in enumerate(cells, 1)}
        current: dict = {}
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
            if self.startup:
                reply = await client.async_wait_for_reply(client.kc.execute(self.startup, silent=True))
                if reply["content"]["status"] != "ok":   # our own code: a bug in the build, not in the page
                    raise RuntimeError(f"the kernel's start-up code failed: {reply['content'].get('evalue')}")

        client = NotebookClient(
            job.notebook, kernel_name=job.kernel, timeout=self.timeout,
            kernel_manager_class=_kernel_manager(tuple(self.kernel_dirs)),   # only the build's kernels
            record_timing=False,  # timings in cell metadata would change the cache key
            resources={"metadata": {"path": str(job.cwd)}},
            on_notebook_start=prepare, on_cell_start=on_start, on_cell_executed=on_executed)
        self.clients.append(client)
        try:
            # The kernel's own stderr (its log, framework banners) goes to a file, not the terminal.
            with open(self.kernel_log(name), "a") as kernel_log:
                await client.async_execute(stderr=kernel_log, env={**os.environ, **self.env})
        except asyncio.CancelledError:
            report.status = NotebookStatus.INTERRUPTED
            raise
        except Exception as err:  # noqa: BLE001 - sorted by `explain`: ours to translate, or a bug
            report.status = NotebookStatus.FAILED
            cell = current.get("cell")
            if cell is not None and not any(c.number == position[id(cell)] for c in report.cells):
                report.cells.append(CellReport(position[id(cell)], job.line_of(cell), CellStatus.FAILED,
                                               round(time.monotonic() - current["started"], 3)))
            failure = explain(err, job, cell, f"{position[id(cell)]}/{len(cells)}" if cell else None,
                              self.timeout, self.kernel_log(name))
            report.error = failure.as_record()
            raise failure from None
        finally:
            report.seconds = round(time.monotonic() - started, 3)
            # nbclient has shut its kernel down (or never started one): its exit-time cleanup has nothing
            # left to do but fail on a kernel manager that is gone.
            atexit.unregister(client._cleanup_kernel)
        report.status = NotebookStatus.EXECUTED


@functools.cache
def _kernel_manager(kernel_dirs: tuple[str, ...]):
    """jupyter_client's kernel manager, finding kernels in `kernel_dirs` only (the build's own kernels,
    never the user's, and without changing JUPYTER_PATH for the whole process), talking over sockets."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class BookKernelManager(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _kernel_spec_manager_default(self):
            return KernelSpecManager(kernel_dirs=list(kernel_dirs), parent=self)

        @default("transport")
        def _transport_default(self):
            # Unix sockets, not TCP ports: kernels started side by side by several builds (tests, CI)
            # cannot race for a port, and nothing listens on the network.
            return "ipc"

        def format_kernel_cmd(self, extra_arguments=None):
            # Under the build's Python: the reaper is plain standard library.
            return [sys.executable, str(REAPER), *super().format_kernel_cmd(extra_arguments)]

        @default("ip")
        def _ip_default(self):
            # The sockets' path, absolute: the kernel runs in the page's folder, the build elsewhere.
            return os.path.join(tempfile.gettempdir(), f"d2l-kernel-{uuid.uuid4().hex[:12]}")

    return BookKernelManager


def shortened(text: str, lines: int = STDERR_LINES, width: int = 400) -> str:
    """Text for the log: whole, or cut at a line boundary with a count of what was left out."""
    kept = errors.escape_controls(text.rstrip("\n")).split("\n")   # a cell's escape codes never reach the terminal
    shown = [line if len(line) <= width else f"{line[:width]} … ({len(line) - width} more characters)"
             for line in kept[:lines]]
    if len(kept) > lines:
        shown.append(f"… ({len(kept) - lines} more lines)")
    return "\n".join("    " + line for line in shown)


def explain(err: Exception, job: Job, cell, number: str | None, timeout: int, kernel_log: Path) -> errors.BookError:
    """nbclient's and jupyter_client's exceptions -> the BookError of their kind, at the page's line.
    Anything else is a bug in the build: raised as it is."""
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    name = job.framework.name
    where: errors.CellWhere = {"path": job.page.path, "line": job.line_of(cell) if cell is not None else None,
                               "framework": name, "cell": number}
    if isinstance(err, CellTimeoutError):
        return errors.CellTimeout(f"ran longer than the timeout of {timeout} s", **where)
    if isinstance(err, DeadKernelError):
        return errors.DeadKernel(f"the kernel died ({err})", **where,
                                 fix=f"read the kernel's own log, {kernel_log}: the cell may need less memory, "
                                     "or the environment is broken (`make env` repairs it)")
    if isinstance(err, CellExecutionError):
        shown = [o for o in (cell or {}).get("outputs", []) if o.get("output_type") == "error"]
        traceback = ANSI.sub("", "\n".join(shown[-1]["traceback"]) if shown else str(err.traceback))
        call, innermost = _frames(traceback, job, cell)
        if call:
            where["line"] = call[0]
        detail = "\n".join(filter(None, [f"at {job.page.path}:{call[0]}: {call[1]}" if call else "",
                                         f"innermost: {innermost}" if innermost else ""]))
        summary = f"{err.ename}: {err.evalue}"
        if err.ename in DATA_ERRORS:
            return errors.DataError(summary, **where)
        missing = MISSING_MODULE.search(err.evalue or "")
        if err.ename in ("ModuleNotFoundError", "ImportError") and missing:
            return errors.EnvironmentProblem(summary, **where, detail=detail,
                                             fix=_missing_module_advice(missing.group(1), job, cell))
        return errors.ExecutionError(summary, detail=detail, **where)
    if isinstance(err, NoSuchKernel) or _raised_in(err, ("jupyter_client", "nbclient", "zmq")):
        return errors.EnvironmentProblem(f"the {name} kernel ({job.kernel}) could not start or stopped answering: "
                                         f"{type(err).__name__}: {err}", **where, detail=f"its log: {kernel_log}")
    raise err


def _raised_in(err: BaseException, packages: tuple[str, ...]) -> bool:
    """Whether the innermost frame of `err` is in one of these packages (a kernel that could not start or
    stopped answering), not in the build's own code."""
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and any(f"{os.sep}{p}{os.sep}" in tb.tb_frame.f_code.co_filename for p in packages)


def _frames(traceback: str, job: Job, cell) -> tuple[tuple[int, str] | None, str | None]:
    """The failing call in the page ((line, code) of the last frame in the failing cell) and the
    innermost frame ("file:line, in function"), from IPython's traceback text."""
    frames = list(FRAME.finditer(traceback))
    if not frames:
        return None, None
    call = None
    count = str((cell or {}).get("execution_count"))
    for frame in frames:
        if frame.group("count") == count:
            line_in_cell = int(frame.group("cell_line"))
            code = cell.source.split("\n")[line_in_cell - 1].strip() if line_in_cell <= len(cell.source.split("\n")) \
                else ""
            call = (job.line_of(cell, line_in_cell), code)
    last = frames[-1]
    if last.group("count") is not None:
        innermost = None if last.group("count") == count else f"cell In[{last.group('count')}], line " \
                                                                f"{last.group('cell_line')}"
    else:
        innermost = f"{last.group('file')}:{last.group('line')}"
    if innermost and last.group("function"):
        innermost += f", in {last.group('function')}"
    return call, innermost


UNAVAILABLE = re.compile(r"^#\s*unavailable:\s*([\w.-]+):\s*(.+)$", re.M)


def unavailable(requirements: Path) -> dict[str, str]:
    """Packages a requirement file says cannot be installed (`# unavailable: <module>: <why>`), and why."""
    return dict(UNAVAILABLE.findall(requirements.read_text(encoding="utf-8")))


def _missing_module_advice(module: str, job: Job, cell) -> str:
    framework = job.framework
    listed = f"requirements/{framework.requirements.name}" if framework.requirements else "its requirements"
    advice = (f"`{module}` is not importable in the {framework.name} environment: if it is in {listed}, "
              f"run `make env` (it repairs a broken environment); otherwise add it there")
    if framework.requirements and (why := unavailable(framework.requirements).get(module.split(".")[0])):
        advice = f"{listed} says `{module.split('.')[0]}` cannot be installed: {why}; this page cannot run here"
    if cell is not None and not job.block(cell).tab_marked:
        advice = (f"this cell has no `#@tab` mark, so it belongs to the first framework of build.yml, "
                  f"{framework.name} (d2lbook's rule): mark it for the framework it is written for "
                  f"(e.g. `#@tab <framework>`), or put that framework first in build.yml; or else " + advice)
    return advice


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
    for name in ("traitlets", "asyncio", "nbclient", "jupyter_client"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
