"""The build's bookkeeping: its report, and the lock that lets one build run at a time.

Stages add to one `BuildReport`; `recorded` writes it to `_build/report.json` when the
build starts ("running": a build that was killed shows as such) and on every outcome
(done, failed, interrupted), atomically, and prints a summary.
"""
from __future__ import annotations

import contextlib
import dataclasses
import enum
import json
import logging
import sys
import time
import typing
from pathlib import Path

from bookbuild.errors import BookError, ErrorRecord, Interrupted, StorageError, disk_error
from bookbuild.whole import write_whole

logger = logging.getLogger(__name__)


class CellStatus(enum.StrEnum):
    CACHED = "cached"
    EXECUTED = "executed"
    FAILED = "failed"


class NotebookStatus(enum.StrEnum):
    CACHED = "cached"
    EXECUTED = "executed"
    LOADED = "loaded"                # executed elsewhere (`make merge`)
    NOT_RUN = "not run"              # waiting for a kernel
    RUNNING = "running"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    NOT_EXECUTED = "not executed"    # the build was told not to run it (--execute none)

    @property
    def ran(self) -> bool:
        """Whether the notebook ran to its end (now, earlier, or elsewhere)."""
        return self in (NotebookStatus.CACHED, NotebookStatus.EXECUTED, NotebookStatus.LOADED)


class RunKind(enum.StrEnum):
    BOOK = "book"
    RESEEDED = "reseeded"            # another seed, for the agreement stage only


class BuildStatus(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


@dataclasses.dataclass
class CellReport:
    number: int                # 1-based among the notebook's code cells
    line: int                  # of the cell's first code line in the page
    status: CellStatus
    seconds: float | None      # of the run that produced its outputs (a cached cell keeps its run's)


@dataclasses.dataclass
class NotebookReport:
    page: str
    framework: str
    status: NotebookStatus
    seconds: float = 0.0       # wall time of this build's execution (0 when cached)
    cells: list[CellReport] = dataclasses.field(default_factory=list)
    error: ErrorRecord | None = None
    run: RunKind = RunKind.BOOK


class Recorded(typing.Protocol):
    def as_record(self) -> dict: ...


@dataclasses.dataclass
class BuildReport:
    command: str
    status: BuildStatus = BuildStatus.RUNNING
    notebooks: list[NotebookReport] = dataclasses.field(default_factory=list)
    agreement: list[Recorded] = dataclasses.field(default_factory=list)   # the agreement stage's groups
    # where the book's #@save definition differs from our hand-written one: {name, framework, ours, book}
    library: list[dict] = dataclasses.field(default_factory=list)
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)
    error: ErrorRecord | None = None
    site: str | None = None    # what the site folder holds after this build
    shard: str | None = None   # "i/n": this build executed only that share of the pages (`make check SHARD=`)
    started: float = dataclasses.field(default_factory=time.monotonic)

    @contextlib.contextmanager
    def stage(self, name: str):
        """Times a stage into `seconds`."""
        started = time.monotonic()
        try:
            yield
        finally:
            self.seconds[name] = round(time.monotonic() - started, 3)

    def add(self, *executions, agreement=()) -> None:
        """The notebook reports of these executions (None: a run that was not needed), and the groups judged."""
        self.notebooks += [r for execution in executions if execution is not None for r in execution.reports]
        self.agreement += list(agreement)

    def as_json(self) -> dict:
        data = {field.name: getattr(self, field.name) for field in dataclasses.fields(self) if field.name != "started"}
        data["notebooks"] = [dataclasses.asdict(r) for r in self.notebooks]
        data["agreement"] = [group.as_record() for group in self.agreement]
        return data

    def write(self, path: Path) -> None:
        """Whole or not at all: a .part renamed into place, never left behind."""
        self.seconds["total"] = round(time.monotonic() - self.started, 3)
        try:
            write_whole(path, json.dumps(self.as_json(), indent=1, ensure_ascii=False) + "\n")
        except OSError as err:
            raise disk_error(err, "writing the build report", path) from None

    def summary(self) -> str:
        lines = []
        for r in self.notebooks:
            if r.status is NotebookStatus.CACHED and not r.error:
                continue
            cells = " ".join(f"{c.number}:{c.status if c.seconds is None else f'{c.seconds:.1f}s'}" for c in r.cells)
            framework = r.framework + (" (seed)" if r.run is RunKind.RESEEDED else "")
            lines.append(f"  {r.page:40} {framework:18} {r.status:11} {r.seconds:6.1f} s  {cells}")
        cached = sum(r.status is NotebookStatus.CACHED for r in self.notebooks)
        if cached:
            lines.append(f"  {cached} notebook(s) cached")
        groups = [group.as_record() for group in self.agreement]
        if groups:
            statuses = dict.fromkeys(("agree", "disagree", "not comparable", "expected to differ"), 0)
            for a in groups:
                statuses[a["status"]] += 1
            lines.append("  tabs: " + ", ".join(f"{n} {s}" for s, n in statuses.items() if n or s == "agree"))
        reseeded = [r for r in self.notebooks if r.run is RunKind.RESEEDED]
        if reseeded:   # what measuring the seed cost: the reseeded runs' kernels, and the cells they ran
            ran = [r for r in reseeded if r.status is not NotebookStatus.CACHED]
            lines.append(f"  another seed: {len(reseeded)} notebook(s) ({len(ran)} run, {len(reseeded) - len(ran)} "
                         f"cached), {sum(len(r.cells) for r in ran)} cells, {sum(r.seconds for r in ran):.1f} s")
        for a in groups:
            if a["status"] in ("disagree", "expected to differ"):
                lines.append(f"  tabs {a['status']} at {a['page']}:{a['line']}: {a['detail']}")
        for d in self.library:
            lines.append(f"  warning: {d['book']}: [{d['framework']}] the book's {d['name']} differs from ours "
                         f"at {d['ours']} (the library takes the book's)")
        lines.append("  " + ", ".join(f"{stage} {s:.1f} s" for stage, s in self.seconds.items()))
        return "\n".join(lines)


@contextlib.contextmanager
def recorded(paths, command: str):
    """The report of the build run inside: "running" at once, then its outcome, whatever it is."""
    report = BuildReport(command)
    report.write(paths.report)
    try:
        try:
            yield report
        except KeyboardInterrupt:
            raise Interrupted("the build was interrupted; the last good site is kept") from None
        report.status = BuildStatus.DONE
    except BookError as err:
        report.status = BuildStatus.INTERRUPTED if isinstance(err, Interrupted) else BuildStatus.FAILED
        report.error = err.as_record()
        raise
    except BaseException as err:
        report.status = BuildStatus.FAILED
        report.error = {"kind": "bug", "message": f"{type(err).__name__}: {err}"}
        raise
    finally:
        failure = sys.exc_info()[1]
        site = paths.site("html")
        report.site = str(site) if site.is_dir() else None
        try:
            report.write(paths.report)
        except StorageError as err:
            if failure is None:
                raise
            # the first error is the one
            logger.warning(f"\nthe build report could not be written either: {err.message}")
        finally:
            logger.info(f"\nBuild report ({paths.report}):\n{report.summary()}")


@contextlib.contextmanager
def build_lock(paths):
    """One build at a time per checkout: a second one waits, and says so."""
    from filelock import FileLock, Timeout

    if paths.lock.is_dir():
        raise StorageError("is a folder, where the build keeps its lock file", path=paths.lock,
                           fix=f"remove that folder (`rm -r {paths.lock}`): the build makes its lock file itself")
    try:
        paths.out.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(paths.lock))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            logger.info(f"another build is running in this checkout (it holds {paths.lock}); "
                        "waiting for it to finish ...")
            lock.acquire()
    except OSError as err:
        raise StorageError(f"cannot write into {paths.out}: {err.strerror or err}", path=paths.out,
                           fix="build in a writable checkout (the build writes only under _build/)") from None
    try:
        yield
    finally:
        lock.release()
