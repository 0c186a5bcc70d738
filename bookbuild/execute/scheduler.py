"""The execute stage's scheduling: notebooks in their frameworks' kernels, `jobs` at once.

A free slot goes to the framework with the fewest kernels running (then the fewest started), so one slow
framework cannot starve the others; the book's own runs go before the reseeded runs (the agreement stage's),
which a job's end may add (`then`: a page's tabs that have run can decide them while its others still run).
A failing cell stops only its own notebook; every other notebook still runs.

A book's run that ends well leaves its kernel parked while its page may still ask for a reseeded run of its
framework (one waits, or another tab of the page has yet to end): that run then starts in it (kernel_session),
without a kernel's start and the page's imports. At most `jobs` kernels are parked, the oldest shut down first.

Kernels run on an event loop in a worker thread: Ctrl-C (or SIGTERM) reaches the main thread, which cancels
the loop's tasks and waits while every kernel shuts down (and stops those that do not: process_cleanup).
The kernels' Unix sockets live in a folder of this run's own, removed when it ends, however it ends: a
kernel that was killed leaves no socket behind.
"""
from __future__ import annotations

import asyncio
import collections
import logging
import shutil
import tempfile
import threading
import time
from pathlib import Path

from bookbuild import errors
from bookbuild.execute import jupyter_adapter, process_cleanup
from bookbuild.execute.jobs import Job
from bookbuild.execute.jupyter_adapter import SOCKET_PATH_BYTES, SOCKET_SUFFIX_BYTES
from bookbuild.execute.kernel_session import Kernel, KernelSettings, run_notebook
from bookbuild.report import NotebookStatus, RunKind

logger = logging.getLogger(__name__)

GRACE_SECONDS = 10                # for kernels to shut down when asked, after an interrupt


def socket_folder() -> Path:
    """A new folder for a run's kernel sockets: in the temporary folder, or in /tmp where that one's path
    leaves no room for a socket's name (AF_UNIX paths are short)."""
    base = tempfile.gettempdir()
    if len(base.encode()) + len("/d2l-kernels-12345678") + SOCKET_SUFFIX_BYTES > SOCKET_PATH_BYTES:
        base = "/tmp"
    return Path(tempfile.mkdtemp(prefix="d2l-kernels-", dir=base))


class Kernels:
    """Runs jobs; `run` fills each job's notebook and report, and returns the failures."""

    def __init__(self, kernel_dirs: list[Path], timeout: int, jobs: int, log_dir: Path,
                 env: dict[str, str] | None = None, startup: str = ""):
        self.kernel_dirs, self.timeout, self.jobs = tuple(str(d) for d in kernel_dirs), timeout, jobs
        self.env = env or {}   # for every kernel, on top of this process's environment and its kernelspec's
        self.startup = startup   # code each kernel runs silently before the first cell (bookbuild/in_kernel.py)
        self.log_dir = log_dir
        self.clients: list = []   # every nbclient started, to stop what an interrupt leaves running

    def run(self, jobs: list[Job], on_success, on_failure=None, then=None) -> list[errors.BookError]:
        """Run every job; `on_success(job)` as each one ends well, `on_failure(job, error)` as one fails (the
        caller caches both); then `then(job)`, which may return more jobs to run (added to `jobs`)."""
        sockets = socket_folder()
        try:
            settings = KernelSettings(self.kernel_dirs, self.timeout, self.log_dir, sockets, self.env, self.startup)
            return self._run(jobs, settings, on_success, on_failure, then)
        finally:
            shutil.rmtree(sockets, ignore_errors=True)

    def _run(self, jobs: list[Job], settings: KernelSettings, on_success, on_failure, then) -> list[errors.BookError]:
        loop = asyncio.new_event_loop()
        outcome: dict = {}
        scheduled = None  # the task, created in the worker thread

        def work():
            nonlocal scheduled
            asyncio.set_event_loop(loop)
            scheduled = loop.create_task(self._schedule(jobs, settings, on_success, on_failure, then))
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
        process_cleanup.quiet_shutdown_logs()
        while scheduled() is None and worker.is_alive():
            time.sleep(0.01)
        try:
            loop.call_soon_threadsafe(scheduled().cancel)   # nbclient shuts each kernel down ...
        except RuntimeError:
            pass  # the loop had just finished
        process_cleanup.wait_ignoring_interrupts(worker, GRACE_SECONDS)
        for client in self.clients:                         # ... and what it could not, stops here
            process_cleanup.stop_kernel(client)
        process_cleanup.wait_ignoring_interrupts(worker, 5)
        for job in jobs:
            if job.report.status in (NotebookStatus.RUNNING, NotebookStatus.NOT_RUN):
                job.report.status = NotebookStatus.INTERRUPTED
        raise errors.Interrupted("the build was interrupted; every kernel was shut down and no "
                                 "half-run notebook was cached") from None

    async def _schedule(self, jobs: list[Job], settings: KernelSettings, on_success,
                        on_failure=None, then=None) -> list[errors.BookError]:
        order: list[str] = []                                          # frameworks, as they come
        waiting: dict[tuple[bool, str], collections.deque[Job]] = {}   # (reseeded, framework): its jobs
        running: collections.Counter[str] = collections.Counter()   # per framework
        started: collections.Counter[str] = collections.Counter()
        tasks: dict[asyncio.Task, Job] = {}
        parked: collections.OrderedDict[tuple[Path, str], Kernel] = collections.OrderedDict()   # oldest first
        closing: set[asyncio.Task] = set()   # parked kernels being shut down
        failures: list[errors.BookError] = []
        book_runs_left: collections.Counter[Path] = collections.Counter()   # per page: waiting or running
        done = 0

        def key(job: Job) -> tuple[Path, str]:
            return job.page.path, job.framework.name

        def wanted(place: tuple[Path, str]) -> bool:
            """Whether a reseeded run may still start in the kernel parked for `place`: one waits for it, or
            a book's run of its page has yet to end (its tabs then decide)."""
            return book_runs_left[place[0]] > 0 or any(key(job) == place for job in waiting.get((True, place[1]), ()))

        def close(place: tuple[Path, str]) -> None:
            closing.add(asyncio.ensure_future(jupyter_adapter.shut_down(parked.pop(place).client)))

        def take(queue: collections.deque[Job]) -> Job:
            """The queue's first job, or before it a reseeded run whose kernel is parked."""
            found = next((job for job in queue if job.report.run is RunKind.RESEEDED and key(job) in parked), None)
            if found is None:
                return queue.popleft()
            queue.remove(found)
            return found

        def wait(job: Job) -> None:
            if job.framework.name not in order:
                order.append(job.framework.name)
            key = (job.report.run is RunKind.RESEEDED, job.framework.name)
            waiting.setdefault(key, collections.deque()).append(job)
            if job.report.run is RunKind.BOOK:
                book_runs_left[job.page.path] += 1

        for job in jobs:
            wait(job)
        try:
            while tasks or any(waiting.values()):
                while len(tasks) < self.jobs and any(waiting.values()):
                    reseeded, name = min((key for key, queue in waiting.items() if queue), key=lambda key: (
                        key[0], running[key[1]], started[key[1]], order.index(key[1])))
                    job = take(waiting[reseeded, name])
                    running[name] += 1
                    started[name] += 1
                    kernel = parked.pop(key(job), None) if reseeded else None
                    tasks[asyncio.ensure_future(run_notebook(job, settings, self.clients, kernel,
                                                             keep=not reseeded))] = job
                finished, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in finished:
                    job = tasks.pop(task)
                    running[job.framework.name] -= 1
                    if job.report.run is RunKind.BOOK:
                        book_runs_left[job.page.path] -= 1
                    done += 1
                    failure = task.exception()
                    if failure is None and task.result() is not None:
                        parked[key(job)] = task.result()
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
                    more = then(job) if then else []
                    jobs += more
                    for each in more:
                        wait(each)
                    seed = " (seed)" if job.report.run is RunKind.RESEEDED else ""
                    logger.info(f"[{done}/{len(jobs)}] {job.framework.name}{seed} {job.page.path}: {verdict} "
                                f"in {job.report.seconds:.1f} s")
                for place in [place for place in parked if not wanted(place)]:
                    close(place)
                while len(parked) > self.jobs:   # their memory: the oldest go first
                    close(next(iter(parked)))
        except BaseException:   # an interrupt, a full disk, a bug: stop every kernel before it goes on
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            for place in list(parked):
                close(place)
            await asyncio.gather(*closing, return_exceptions=True)
        return failures
