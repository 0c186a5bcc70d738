"""What the execute stage hands on, on the ground floor: the agreement and merge stages read it."""
from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from pathlib import Path

import nbformat

from bookbuild.errors import BookError
from bookbuild.report import NotebookReport


@dataclasses.dataclass(frozen=True)
class Execution:
    """What the execute stage hands on: every notebook (executed, cached, loaded, or as split where it did not
    run), a report per notebook it ran or took, and the failures (the pipeline raises them at the end)."""
    notebooks: Mapping[Path, Mapping[str, nbformat.NotebookNode]]   # a failed one holds outputs up to its error
    reports: tuple[NotebookReport, ...] = ()
    failures: tuple[BookError, ...] = ()

    def ran(self, page: Path, framework: str) -> bool:
        """Whether this notebook ran to its end (cached, executed or loaded)."""
        return (page.as_posix(), framework) in self._ran

    @functools.cached_property
    def _ran(self) -> frozenset[tuple[str, str]]:   # asked of every tab of every code run: not a scan each time
        return frozenset((r.page, r.framework) for r in self.reports if r.status.ran)
