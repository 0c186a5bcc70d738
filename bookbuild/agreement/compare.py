"""Between execute and merge: do the tabs of each group compute the same thing?

Each framework's tab of a group computes the same thing in its own library, so what its cells
show should agree: the same printed values (numbers.py reads them where they are: inside
framework reprs, never timings or addresses), the same figures and the same series in them
(figures.py; every build kernel writes them beside each figure, in_kernel.py), equal within
build.yml's tolerance (`agreement: rtol, atol`). verdicts.py judges a group; this module finds
the groups of every page and measures what chance moves:

* A group is judged without the seed first. Where it disagrees for a reason the seed could
  explain, its page runs once more in kernels that draw other random numbers (another
  D2L_SEED), in the frameworks of those groups only, each stopping after the last cell such a
  group needs; then those groups are judged again. Groups that agree are done: the same
  verdict whether or not the seed was measured.
* A tab whose notebook failed is left out, from the groups and from the seed measurement: a
  verdict on two tabs never depends on a third.
* The reseeded runs are written beside the executed notebooks (`_build/executed/<framework>/
  <page>.reseeded.ipynb`); CI's per-framework jobs make them for all their pages, and `make
  merge` judges with them, as a local build does.

A page may list groups that are expected to differ, with the reason, beside it in
`<page>.agreement.yml` (read.py reads it): the report shows them so.
"""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from pathlib import Path

from bookbuild.agreement.verdicts import Shown, Status, Verdict, compare_group
from bookbuild.errors import DisagreementError
from bookbuild.executed import Execution
from bookbuild.in_kernel import PLOT_DATA, TIMING
from bookbuild.source import Run, cell_id, runs

__all__ = ["PLOT_DATA", "TIMING", "Agreement", "Group", "Shown", "Status", "check", "compare", "compare_group",
           "needs_seed"]

logger = logging.getLogger(__name__)


def shown(cells) -> Shown:
    """What the cells printed (stdout and text results, blank lines dropped) and drew."""
    from bookbuild.agreement.figures import series_of

    found, text = Shown(), []
    for cell in cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                text.append(output.get("text", ""))
            elif output.get("output_type") in ("execute_result", "display_data"):
                if any(k.startswith("image/") for k in data):
                    found.figures += 1
                    found.curves += series_of(data.get(PLOT_DATA))
                elif TIMING in data:
                    found.timings += 1
                elif "text/plain" in data:
                    text.append(data["text/plain"] + "\n")
    found.lines = [line.strip() for line in "".join(text).splitlines() if line.strip()]
    return found


def groups(page, notebooks: dict, usable) -> list[tuple[Run, dict[str, Shown]]]:
    """(run, {framework: what it shows}) of every code run of the page where two tabs or more show
    something; `usable(framework)`: whether that framework's notebook ran to its end."""
    found = []
    for run in runs(page):
        if run.kind != "code":
            continue
        outputs = {name: shown([cell for _, cell in run.cells(notebooks, name)]) for name in notebooks
                   if usable(name) and run.cells(notebooks, name)}
        outputs = {name: out for name, out in outputs.items() if not out.empty} if \
            len({out.figures for out in outputs.values()}) == 1 else outputs
        if len(outputs) >= 2:
            found.append((run, outputs))
    return found


def _has_cells(notebook, run, name) -> bool:
    ids = {cell.get("id") for cell in notebook.cells}
    return all(cell_id(i) in ids for i, block in run.blocks if name in block.tabs)


@dataclasses.dataclass(frozen=True)
class Group:
    """One compared tab group of a page, with its verdict, as report.json keeps it."""
    page: str                           # the page's path, posix
    line: int                           # of the group's first block
    frameworks: tuple[str, ...]         # those compared (a tab whose notebook failed is left out)
    status: Status
    detail: str
    seeds: tuple[str, ...] = ()         # the frameworks whose reseeded runs were measured
    needs_seed: bool = False            # disagrees where the seed was not measured
    # {framework: the ids of its cells}, for measuring only: not part of the record
    cells: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict, compare=False, repr=False)

    def as_record(self) -> dict:
        return {"page": self.page, "line": self.line, "frameworks": list(self.frameworks),
                "status": self.status.value, "detail": self.detail, "seeds": list(self.seeds),
                "needs_seed": self.needs_seed}


@dataclasses.dataclass(frozen=True)
class Agreement:
    """What the agreement stage hands on: every group judged, and the reseeded runs it measured (None if no
    group needed them), whose reports join the build's."""
    groups: tuple[Group, ...]
    reseeded: Execution | None = None

    def disagreements(self) -> list[DisagreementError]:
        return [DisagreementError(f"the tabs {', '.join(g.frameworks)} compute different results: {g.detail}",
                                  path=g.page, line=g.line) for g in self.groups if g.status is Status.DISAGREE]


def compare(source, execution, config, spreads=None, measured_lines=None) -> list[Group]:
    """One Group per compared group of every page. `spreads`: an Execution of reseeded runs, used for the
    groups of `measured_lines` ({page: {line}}: those that disagreed without the seed); `seeds` names the
    frameworks measured."""
    found = []
    for page in source.pages:
        if page.has_code and page.path in execution.notebooks:
            found += _page(page, execution.notebooks[page.path], lambda name, path=page.path: execution.ran(path, name),
                           source.expected.get(page.path, []), config, spreads, measured_lines)
    return found


def needs_seed(source, path: Path, notebooks: Mapping, config) -> dict[str, str]:
    """{framework: the id of the last cell its reseeded run needs} on one page, judged on `notebooks` alone
    ({framework: its notebook, that ran to its end}): the execute stage starts these runs as soon as two tabs
    of a page have run (a tab that runs later may ask for more)."""
    page = next(p for p in source.pages if p.path == path)
    found = _page(page, notebooks, lambda name: name in notebooks, source.expected.get(path, []), config)
    return to_measure(found).get(path, {})


def _page(page, notebooks, usable, expected, config, spreads=None, measured_lines=None) -> list[Group]:
    found = []
    reseeded = spreads.notebooks.get(page.path, {}) if spreads else {}
    for run, outputs in groups(page, notebooks, usable):
        reason = next((e.reason for e in expected if e.matches(run)), None)
        seeds = [name for name in outputs if name in reseeded and spreads.ran(page.path, name)
                 and _has_cells(reseeded[name], run, name)] \
            if run.line in (measured_lines or {}).get(page.path, ()) else []
        if reason:
            verdict = Verdict(Status.EXPECTED, reason)
        else:
            again = {name: shown([c for _, c in run.cells(reseeded, name)]) for name in seeds}
            verdict = compare_group(outputs, config.agreement, again)
        cells = {name: tuple(str(c.get("id")) for _, c in run.cells(notebooks, name)) for name in outputs}
        found.append(Group(page.path.as_posix(), run.line, tuple(outputs), verdict.status, verdict.detail,
                           tuple(seeds), verdict.needs_seed, cells))
    return found


def to_measure(groups: list[Group]) -> dict:
    """{page path: {framework: the id of the last cell its reseeded run needs}}: the frameworks of every
    group that disagrees where the seed was not measured, up to the last such group's cells."""
    until: dict = {}
    for group in groups:
        if group.needs_seed:
            page = until.setdefault(Path(group.page), {})
            for name in group.frameworks:
                page[name] = group.cells[name][-1]   # groups come in page order: the last one wins
    return until


def check(source, execution: Execution, config, measure: Callable[[dict], Execution]) -> Agreement:
    """Every group compared, measuring the seed's spread where a group disagrees without it. `measure(until)`
    runs (or, for notebooks executed elsewhere, loads) the reseeded runs that `to_measure` names."""
    found = compare(source, execution, config)
    until = to_measure(found)
    if not until:
        return Agreement(tuple(found))
    differing = ", ".join(f"{page.as_posix()} ({', '.join(names)})" for page, names in until.items())
    # Most reseeded runs started (and may have ended) while the book's ran: `measure` waits for those
    logger.info(f"[agreement] tabs differ on {len(until)} page(s); judged with another seed's runs, which show what "
                f"chance moves: {differing}")
    spreads = measure(until)
    measured_lines: dict = {}
    for group in found:
        if group.needs_seed:
            measured_lines.setdefault(Path(group.page), set()).add(group.line)
    found = compare(source, execution, config, spreads, measured_lines)
    return Agreement(tuple(_unmeasured(group, bool(spreads.reports)) for group in found), spreads)


def _unmeasured(group: Group, any_measured: bool) -> Group:
    """The group, its detail saying where the seed could not be measured."""
    if not group.needs_seed:
        return group
    why = (" (another seed was not measured: the notebooks were executed elsewhere, without their reseeded "
           "runs)" if not any_measured else " (another seed was not measured in every tab: " +
           ", ".join(n for n in group.frameworks if n not in group.seeds) + ")")
    return dataclasses.replace(group, detail=group.detail + why)
