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
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TypedDict

CONTROLS = re.compile(r"(\x1b\[[0-9;]*m)|([\x00-\x08\x0b-\x1f\x7f-\x9f])")


def escape_controls(text: str, keep_colours: bool = False) -> str:
    """Control characters (BEL, VT, a terminal's escape codes, ...) written out as `\\x07`, so that a cell's
    output cannot ring, clear or retitle a terminal, nor break the PDF; line breaks and tabs stay, and with
    `keep_colours` the colours of a traceback (the page shows them)."""
    def escape(match) -> str:
        if match.group(1):
            return match.group(1) if keep_colours else "\\x1b" + match.group(1)[1:]
        return f"\\x{ord(match.group(2)):02x}"
    return CONTROLS.sub(escape, text)


class Where(TypedDict):
    """Where in the source an error is, passed on as `SourceError(..., **where)`."""
    path: Path
    line: int | None


class CellWhere(Where):
    """Where a cell's error is: the page's line, the framework and the cell."""
    framework: str
    cell: str | None


class ErrorRecord(TypedDict, total=False):
    """An error as report.json and the execution cache keep it (`BookError.as_record`; `from_record` reads it)."""
    kind: str                         # the BookError subclass's `kind`; "bug" for any other exception
    path: str | None
    line: int | None
    framework: str | None
    cell: str | None
    message: str
    fix: str | None
    detail: str                       # kept in the cache only (the report has it in the message's reading)
    errors: list[ErrorRecord]         # kind "several": each error of a BookErrors


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
        text = f"{self.where} {escape_controls(self.message)}" if self.where else escape_controls(self.message)
        if self.detail:
            text += "\n" + "\n".join("  " + line for line in escape_controls(self.detail.rstrip()).splitlines())
        if self.fix:
            text += f"\n  what to do: {self.fix}"
        return text

    def as_record(self) -> ErrorRecord:
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


class UsageError(BookError):
    """The command line (a make variable: TAB=, JOBS=, TIMEOUT=, PORT=, HOST=) asks for what cannot be."""
    kind = "command line"
    fix = "correct the command line"


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


class LibraryDrift(BookError):
    """d2l/ is not what the book's #@save cells define (nbdev's "Notebooks and library are not in sync")."""
    kind = "library"
    fix = "run `make lib`: it writes the library the book defines into d2l/ (keeping the part above its mark)"


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
    """An OSError met while writing, as one line that says what the build was doing, and what to do about
    that error: a full disk, a folder where the build writes a file, a folder it may not write into."""
    if err.errno in NO_SPACE:
        return StorageError(f"no space left on device while {doing}", path=path,
                            fix="free space on that disk, then build again: nothing half-written was kept")
    # a rename names the file it moves, then where to: that is the folder in the way
    where = (err.filename2 if err.errno == errno.EISDIR and err.filename2 else err.filename) or path
    if err.errno == errno.EISDIR:
        return StorageError(f"is a folder, where the build writes a file, while {doing}", path=where,
                            fix="remove that folder (the build makes the file itself), then build again")
    if err.errno == errno.ENOTDIR:
        return StorageError(f"is a file, where the build makes a folder, while {doing}", path=where,
                            fix="remove that file (the build makes the folder itself), then build again")
    return StorageError(f"{err.strerror or err} while {doing}", path=where)


def no_space_in(err: BaseException) -> bool:
    """Whether a full disk caused `err`: an OSError, or an error that carries one only as text (shutil.copytree's
    Error gathers the errors of the files it could not copy, without an errno; Sphinx's warnings, likewise)."""
    if isinstance(err, OSError) and err.errno in NO_SPACE:
        return True
    return any(f"[Errno {code}]" in str(err) for code in NO_SPACE)


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

    def as_record(self) -> ErrorRecord:
        return {"kind": "several", "errors": [e.as_record() for e in self.errors]}


def from_record(record: ErrorRecord) -> BookError:
    """The error a record (`as_record`, with its `detail`) was made from: a failure kept in the cache."""
    kinds: dict[str, type[BookError]] = {}
    found: list[type[BookError]] = [BookError]
    while found:
        cls = found.pop()
        kinds.setdefault(cls.kind, cls)
        found += cls.__subclasses__()
    return kinds.get(record.get("kind", ""), BookError)(
        record["message"], path=record.get("path"), line=record.get("line"), framework=record.get("framework"),
        cell=record.get("cell"), detail=record.get("detail", ""), fix=record.get("fix"))


def raise_all(errors: Sequence[BaseException]) -> None:
    """Raise what was collected: one error as itself, several as `BookErrors`. Anything that is not a
    `BookError` is a bug in the build, never a user's error: the first is raised as it is."""
    if bugs := [err for err in errors if not isinstance(err, BookError)]:
        raise bugs[0]
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise BookErrors([err for err in errors if isinstance(err, BookError)])  # all are, by now
