"""The build's messages, through `logging`: one logger per module (`logging.getLogger(__name__)`),
under the `bookbuild` logger that the command line sets up.

* Progress is INFO: `-q` shows only warnings and errors, `-v` adds DEBUG.
* A warning has a kind (`warn(logger, "output-cut", ...)`), as Sphinx's have types: build.yml's
  `warnings.silence` hides a kind, `warnings.fatal` makes it fail the build, as Sphinx's `-W` does
  (once the build has done all it can: every fatal warning is reported together).
"""
from __future__ import annotations

import contextlib
import logging
import sys
import threading

from bookbuild.errors import FatalWarning

# Every kind of warning the build gives, and what it means (build.yml names them).
KINDS = {
    "output-cut": "a cell printed more than limits.output_bytes, or showed figures over the limits: cut",
    "cache-dropped": "an execution cache entry could not be read: dropped, and its notebook runs again",
    "library-drift": "the book's #@save definition of a name differs from the hand-written d2l/",
    "config": "a setting the build does not use (e.g. a d2lbook config.ini key it does not know)",
    "label-again": "a page labels its equation with a name an earlier page used: on that page it names its own",
    "file-missing": "a file an eval_rst directive reads (`.. raw:: html` `:file:`) is not in the book: left out",
}

ROOT_LOGGER = "bookbuild"


class _Kinds(logging.Filter):
    """Silenced kinds are dropped; fatal ones are kept for the end of the build."""

    def __init__(self, silence=(), fatal=()):
        super().__init__()
        self.silence, self.fatal, self.fatal_seen = set(silence), set(fatal), []

    def filter(self, record: logging.LogRecord) -> bool:
        kind = getattr(record, "kind", None)
        if kind in self.silence:
            return False
        if kind in self.fatal:
            self.fatal_seen.append(f"{record.getMessage()} [{kind}]")
        return True


_kinds = _Kinds()


def configure(verbosity: int = 0, silence=(), fatal=()) -> None:
    """Messages to stdout, as `print` did: warnings and errors only (-1), progress (0), details (1)."""
    logger = logging.getLogger(ROOT_LOGGER)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = _ToStdout()
    handler.setFormatter(_Format())
    logger.addHandler(handler)
    logger.setLevel({-1: logging.WARNING, 0: logging.INFO}.get(min(verbosity, 1), logging.DEBUG))
    logger.propagate = False
    kinds(silence, fatal)


def kinds(silence=(), fatal=()) -> None:
    """build.yml's `warnings`: which kinds are hidden, which fail the build."""
    global _kinds
    logger = logging.getLogger(ROOT_LOGGER)
    if not logger.handlers:   # the build run from Python (tests, scripts), not from the command line
        configure()
        return kinds(silence, fatal)
    for handler in logger.handlers:
        handler.removeFilter(_kinds)
    _kinds = _Kinds(silence, fatal)
    for handler in logger.handlers:
        handler.addFilter(_kinds)


def warn(logger: logging.Logger, kind: str, message: str) -> None:
    """A warning of a kind (`KINDS`) that build.yml can silence or make fatal."""
    if kind not in KINDS:
        raise ValueError(f"unknown warning kind {kind!r}")   # a bug in the build
    logger.warning(message, extra={"kind": kind})


@contextlib.contextmanager
def given(name: str):
    """The warnings this thread gives through the loggers under `name` while the block runs: a list that fills
    (a stage that skips what it made before asks whether making it warned, which skipping it would not)."""
    found: list[str] = []

    class Note(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.thread == threading.get_ident() and record.levelno >= logging.WARNING:
                found.append(record.getMessage())

    logger, note = logging.getLogger(name), Note()
    logger.addHandler(note)
    try:
        yield found
    finally:
        logger.removeHandler(note)


def fatal_warnings() -> list[FatalWarning]:
    """The warnings of fatal kinds given so far, as errors (and forgets them)."""
    seen, _kinds.fatal_seen = _kinds.fatal_seen, []
    return [FatalWarning(message) for message in seen]


class _ToStdout(logging.StreamHandler):
    """To whatever sys.stdout is when a message is written (a test or the preview may have replaced it)."""

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, value):
        pass


class _Format(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        kind = getattr(record, "kind", None)
        return f"warning: {text} [{kind}]" if kind else text
