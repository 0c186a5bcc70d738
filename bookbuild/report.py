"""The build report: what ran, how long, what failed, whether the tabs agree.

Stages add to one `BuildReport`; the pipeline writes it to `_build/report.json`
on every outcome (done, failed, interrupted), atomically, and prints a summary.
"""
from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path


@dataclasses.dataclass
class CellReport:
    number: int                # 1-based among the notebook's code cells
    line: int                  # of the cell's first code line in the page
    status: str                # "cached", "executed" or "failed"
    seconds: float | None      # of the run that produced its outputs (a cached cell keeps its run's)


@dataclasses.dataclass
class NotebookReport:
    page: str
    framework: str
    status: str                # "cached", "executed", "loaded", "failed", "interrupted" or "not run"
    seconds: float = 0.0       # wall time of this build's execution (0 when cached)
    cells: list[CellReport] = dataclasses.field(default_factory=list)
    error: dict | None = None


@dataclasses.dataclass
class BuildReport:
    command: str
    status: str = "running"    # then "done", "failed" or "interrupted"
    notebooks: list[NotebookReport] = dataclasses.field(default_factory=list)
    agreement: list[dict] = dataclasses.field(default_factory=list)
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)
    error: dict | None = None
    site: str | None = None    # what the site folder holds after this build
    started: float = dataclasses.field(default_factory=time.monotonic)

    def timed(self, stage: str, since: float) -> None:
        self.seconds[stage] = round(time.monotonic() - since, 3)

    def as_json(self) -> dict:
        data = dataclasses.asdict(self)
        data.pop("started")
        return data

    def write(self, path: Path) -> None:
        self.seconds["total"] = round(time.monotonic() - self.started, 3)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".json.part")
        temporary.write_text(json.dumps(self.as_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(temporary, path)

    def summary(self) -> str:
        lines = []
        for r in self.notebooks:
            if r.status == "cached" and not r.error:
                continue
            cells = " ".join(f"{c.number}:{c.status if c.seconds is None else f'{c.seconds:.1f}s'}" for c in r.cells)
            lines.append(f"  {r.page:40} {r.framework:11} {r.status:11} {r.seconds:6.1f} s  {cells}")
        cached = sum(r.status == "cached" for r in self.notebooks)
        if cached:
            lines.append(f"  {cached} notebook(s) cached")
        disagreements = [a for a in self.agreement if a["status"] == "disagree"]
        if self.agreement:
            counts = {s: sum(a["status"] == s for a in self.agreement) for s in ("agree", "disagree", "not comparable")}
            lines.append("  tabs: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
        for a in disagreements:
            lines.append(f"  tabs disagree at {a['page']}:{a['line']}: {a['detail']}")
        lines.append("  " + ", ".join(f"{stage} {s:.1f} s" for stage, s in self.seconds.items()))
        return "\n".join(lines)
