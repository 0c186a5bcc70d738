"""The execute stage's failures: what nbclient and jupyter_client raise -> the BookError that says where.

A cell's error names the page's line of the failing call and the innermost frame; a timeout, a dead kernel,
a kernel the build does not know or whose program is gone say what to do. Only those explicit kinds are
translated: any other exception, even one raised inside jupyter_client or nbclient, is a bug in the build
and is not disguised as advice to run `make env`.
"""
from __future__ import annotations

import re
from pathlib import Path

from bookbuild import errors
from bookbuild.execute.jobs import Job
from bookbuild.execute.jupyter_adapter import KernelEndedAtStart, KernelExecutableMissing

DATA_ERRORS = {"DownloadError", "UnknownDataSetError"}
MISSING_MODULE = re.compile(r"No module named '([\w.]+)'")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
FRAME = re.compile(r"^(?:Cell In\[(?P<count>\d+)\], line (?P<cell_line>\d+)|File (?P<file>.+?):(?P<line>\d+))"
                   r"(?:, in (?P<function>.+))?$", re.M)


def explain(err: Exception, job: Job, cell, number: str | None, timeout: int, kernel_log: Path) -> errors.BookError:
    """nbclient's and jupyter_client's exceptions of the kinds that say what went wrong (a cell's error, a
    timeout, a dead kernel, a kernel the build does not know or whose program is gone) -> the BookError of
    their kind, at the page's line. Anything else, wherever it was raised, is a bug in the build: raised as
    it is (exit 3, with its traceback)."""
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
    if isinstance(err, NoSuchKernel):
        return errors.EnvironmentProblem(f"there is no {name} kernel ({job.kernel}) among the build's kernels",
                                         **where, fix="run `make env`: it makes the environments and their kernels")
    if isinstance(err, KernelExecutableMissing):
        return errors.EnvironmentProblem(f"the {name} kernel ({job.kernel}) could not start: its program "
                                         f"{err.executable} is missing", **where, detail=f"its log: {kernel_log}",
                                         fix="run `make env`: it makes the environments again")
    if isinstance(err, KernelEndedAtStart):
        return errors.EnvironmentProblem(f"the {name} kernel ({job.kernel}) ended as it started: {err}", **where,
                                         detail=f"its log: {kernel_log}",
                                         fix=f"read the kernel's own log, {kernel_log}; `make env` repairs a "
                                             "broken environment")
    raise err


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
