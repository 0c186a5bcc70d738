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

import logging
from pathlib import Path

from bookbuild.agreement.verdicts import Shown, Verdict, compare_group
from bookbuild.in_kernel import PLOT_DATA, TIMING
from bookbuild.read.dialect import Run, cell_id, runs

__all__ = ["PLOT_DATA", "TIMING", "Shown", "check", "compare", "compare_group", "disagreements"]

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


def compare(source, execution, config, spreads=None, measured_lines=None) -> list[dict]:
    """One entry per compared group of every page: {page, line, frameworks, status, detail, seeds,
    needs_seed}. `spreads`: an Execution of reseeded runs, used for the groups of `measured_lines`
    ({page: {line}}: those that disagreed without the seed); `seeds` names the frameworks measured."""
    entries = []
    for page in source.pages:
        if not page.has_code or page.path not in execution.notebooks:
            continue
        notebooks = execution.notebooks[page.path]
        reseeded = spreads.notebooks.get(page.path, {}) if spreads else {}
        expected = source.expected.get(page.path, [])
        for run, outputs in groups(page, notebooks, lambda name, path=page.path: execution.ran(path, name)):
            reason = next((e.reason for e in expected if e.matches(run)), None)
            seeds = [name for name in outputs if name in reseeded and spreads.ran(page.path, name)
                     and _has_cells(reseeded[name], run, name)] \
                if run.line in (measured_lines or {}).get(page.path, ()) else []
            if reason:
                verdict = Verdict("expected to differ", reason)
            else:
                again = {name: shown([c for _, c in run.cells(reseeded, name)]) for name in seeds}
                verdict = compare_group(outputs, config.agreement, again)
            entries.append({"page": page.path.as_posix(), "line": run.line, "frameworks": list(outputs),
                            "status": verdict.status, "detail": verdict.detail, "seeds": seeds,
                            "needs_seed": verdict.needs_seed, "cells": {name: [c.get("id") for _, c in
                                                                               run.cells(notebooks, name)]
                                                                        for name in outputs}})
    return entries


def to_measure(entries: list[dict]) -> dict:
    """{page path: {framework: the id of the last cell its reseeded run needs}}: the frameworks of every
    group that disagrees where the seed was not measured, up to the last such group's cells."""
    until: dict = {}
    for entry in entries:
        if entry["needs_seed"]:
            page = until.setdefault(Path(entry["page"]), {})
            for name in entry["frameworks"]:
                page[name] = entry["cells"][name][-1]   # entries come in page order: the last one wins
    return until


def check(source, execution, config, measure):
    """(entries, the reseeded Execution or None): the groups compared, measuring the seed's spread where a
    group disagrees without it. `measure(until)` runs (or, for notebooks executed elsewhere, loads) the
    reseeded runs that `to_measure` names, and returns them as an Execution."""
    entries = compare(source, execution, config)
    until = to_measure(entries)
    if not until:
        return _public(entries), None
    differing = ", ".join(f"{page.as_posix()} ({', '.join(names)})" for page, names in until.items())
    logger.info(f"[agreement] tabs differ on {len(until)} page(s); running them with another seed to see what "
                f"chance moves: {differing}")
    spreads = measure(until)
    measured_lines: dict = {}
    for entry in entries:
        if entry["needs_seed"]:
            measured_lines.setdefault(Path(entry["page"]), set()).add(entry["line"])
    entries = compare(source, execution, config, spreads, measured_lines)
    for entry in entries:
        if entry["needs_seed"]:
            entry["detail"] += (" (another seed was not measured: the notebooks were executed elsewhere, without "
                                "their reseeded runs)" if not spreads.reports else
                                " (another seed was not measured in every tab: " +
                                ", ".join(n for n in entry["frameworks"] if n not in entry["seeds"]) + ")")
    return _public(entries), spreads


def _public(entries: list[dict]) -> list[dict]:
    """The entries as report.json keeps them: `cells` was for measuring only."""
    return [{k: v for k, v in entry.items() if k != "cells"} for entry in entries]


def disagreements(entries: list[dict]) -> list:
    from bookbuild.errors import DisagreementError

    return [DisagreementError(f"the tabs {', '.join(e['frameworks'])} compute different results: {e['detail']}",
                              path=e["page"], line=e["line"]) for e in entries if e["status"] == "disagree"]
