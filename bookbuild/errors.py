"""The build's errors: one family, each saying where and what to do.

Every stage raises a `BookError` subclass for anything a maintainer can fix
(bad source, bad build.yml, a broken environment, missing data, a failing
cell, a render problem). The command line prints the message and exits with
2; any other exception is a bug in the build and shows its traceback.

A message reads, as compilers' do:

    chapter_optimization/momentum.md:135: [tensorflow] cell 5/12: ZeroDivisionError: division by zero
      <detail: the traceback's last lines, the log's tail, ...>
      what to do: fix the code of that cell, then `make html` ...
"""
from __future__ import annotations

import errno


class BookError(Exception):
    """Base of every error a maintainer can act on. `fix` is the one thing to do about it."""

    kind = "error"
    fix = ""

    def __init__(self, message: str, *, path=None, line: int | None = None, framework: str | None = None,
                 cell: str | None = None, detail: str = "", fix: str | None = None):
        super().__init__(message)
        self.message, self.path, self.line = message, path, line
        self.framework, self.cell, self.detail = framework, cell, detail
        if fix is not None:
            self.fix = fix

    @property
    def where(self) -> str:
        """`file:line: [framework] cell i/n` — as much of it as is known."""
        parts = []
        if self.path is not None:
            parts.append(f"{self.path}:{self.line}:" if self.line else f"{self.path}:")
        if self.framework:
            parts.append(f"[{self.framework}]")
        if self.cell:
            parts.append(f"cell {self.cell}:")
        return " ".join(parts)

    def __str__(self) -> str:
        text = f"{self.where} {self.message}" if self.where else self.message
        if self.detail:
            text += "\n" + "\n".join("  " + line for line in self.detail.rstrip().splitlines())
        if self.fix:
            text += f"\n  what to do: {self.fix}"
        return text

    def as_record(self) -> dict:
        """For report.json."""
        return {"kind": self.kind, "path": None if self.path is None else str(self.path), "line": self.line,
                "framework": self.framework, "cell": self.cell, "message": self.message, "fix": self.fix}


class SourceError(BookError):
    """A page breaks the dialect, or names a label, citation, image or page that does not exist."""
    kind = "source"
    fix = "correct the source at that line"


class ConfigError(BookError):
    """build.yml says something the build cannot follow."""
    kind = "configuration"
    fix = "correct build.yml"


class EnvironmentProblem(BookError):
    """A framework's (or the build's) environment is missing, outdated or broken."""
    kind = "environment"
    fix = "run `make env`: it rebuilds the environments that are missing, outdated or broken"


class DataError(BookError):
    """A data set a cell reads is missing or damaged."""
    kind = "data"
    fix = ("put the file in the data mirror (DATA_MIRROR, default ../shared/data) or in D2L_DATA_DIR; "
           "the build copies it after checking its SHA-1")


class CacheError(BookError):
    """The execution cache cannot be read."""
    kind = "cache"
    fix = "remove the damaged cache (`rm -rf _build/cache`): the next build executes every page once more"


class ExecutionError(BookError):
    """A cell raised an exception (nbclient's CellExecutionError)."""
    kind = "cell error"
    fix = "fix the code of that cell, then build again"

    def __init__(self, message: str, **where):
        framework = where.get("framework")
        if type(self) is ExecutionError and framework and "fix" not in where:
            where["fix"] = f"{self.fix} (`make check TAB={framework}` runs only this framework)"
        super().__init__(message, **where)


class CellTimeout(ExecutionError):
    """A cell ran longer than the timeout (nbclient's CellTimeoutError)."""
    kind = "cell timeout"
    fix = "make the cell faster, or allow more time: `timeout:` in build.yml, or `make html TIMEOUT=<seconds>`"


class DeadKernel(ExecutionError):
    """The kernel died while a cell ran (nbclient's DeadKernelError): a crash or out of memory."""
    kind = "dead kernel"
    fix = ("read the kernel's log in _build/cache/: the cell may need less memory, "
           "or the environment is broken (`make env` repairs it)")


class DisagreementError(BookError):
    """The tabs of a group printed different things (the strict agreement check)."""
    kind = "tab disagreement"
    fix = ("make the tabs compute the same thing, or loosen `agreement:` in build.yml "
           "(rtol/atol) if the difference is expected")


class RenderError(BookError):
    """Sphinx (or LaTeX) could not turn the staged pages into the site or the PDF."""
    kind = "render"
    fix = "correct the source at that line; the last good site is kept"


NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


class StorageError(BookError):
    """The disk is full, or a folder the build writes to is not writable."""
    kind = "storage"
    fix = "free space on that disk, or make the folder writable, then build again: nothing half-written was kept"


def disk_error(err: OSError, doing: str, path=None) -> StorageError:
    """An OSError met while writing, as one line that says what the build was doing."""
    if err.errno in NO_SPACE:
        return StorageError(f"no space left on device while {doing}", path=path)
    return StorageError(f"{err.strerror or err} while {doing}", path=path or err.filename)


class ToolchainError(BookError):
    """A program the build needs (TeX for the PDF, Node for math) is missing."""
    kind = "toolchain"


class Interrupted(BookError):
    """Ctrl-C or SIGTERM: kernels were shut down, the cache and the last good site are intact."""
    kind = "interrupted"
    fix = "build again: only what is missing executes"


class FatalWarning(BookError):
    """A warning of a kind that build.yml's `warnings.fatal` makes an error."""
    kind = "warning"
    fix = "mend what it says, or take its kind out of build.yml's `warnings.fatal`"


class BookErrors(BookError):
    """Several independent errors (e.g. two frameworks failing), reported at once."""

    def __init__(self, errors: list[BookError]):
        super().__init__(f"{len(errors)} errors")
        self.errors = errors
        self.kind = errors[0].kind

    def __str__(self) -> str:
        """Each one as an error of its own (the command line writes `error: ` before the first)."""
        return "\n\nerror: ".join(map(str, self.errors))

    def as_record(self) -> dict:
        return {"kind": "several", "errors": [e.as_record() for e in self.errors]}


def raise_all(errors: list[BaseException]) -> None:
    """Raise what was collected: one error as itself, several as `BookErrors`. Anything that is not a
    `BookError` is a bug in the build, never a user's error: the first is raised as it is."""
    if bugs := [err for err in errors if not isinstance(err, BookError)]:
        raise bugs[0]
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise BookErrors(errors)
