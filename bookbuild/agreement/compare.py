"""Between execute and merge: do the tabs of each group compute the same thing?

Each framework's tab of a group computes the same thing in its own library, so what
its cells show should agree:

* the same printed lines, their numbers equal within build.yml's tolerance
  (`agreement: rtol, atol`);
* the same figures, and the same curves in them: the d2l library writes each figure's
  data series into the notebook beside the image (PLOT_DATA), point for point;
* never timings: a number followed by a timing or throughput unit
  (`agreement: timing_units`), every number after such a unit on its line
  ("performance in Gigaflops: 1.2, 3.4"), and what d2l's Timer returns (it marks
  its results, TIMING) measure the machine, not the code.

Randomness is measured, not guessed: where tabs differ, the pipeline runs the page
once more in kernels that draw other random numbers (another D2L_SEED), and each
value may differ between tabs by `spread_factor` times what the seed moved it.
A value that the seed moves by `noise` of itself is not comparable (a noisy
trajectory), with the reason; a training curve that seeds move by 1-2% still
catches a tab that is 10% off.

Printed outputs of another shape (a tensor's repr differs between libraries) are
"not comparable", not failures; a tab that draws more or fewer figures disagrees.
A page may list groups that are expected to differ, with the reason, beside it in
`<page>.agreement.yml` (read.py reads it): the report shows them so.
"""
from __future__ import annotations

import logging
import dataclasses
import functools
import math
import re

from bookbuild.read.dialect import runs

logger = logging.getLogger(__name__)

# Written by the d2l library (d2l/plotting.py, d2l/training.py): a figure's data series, and a
# result of d2l's Timer. The same strings are declared there; tests/build check they match.
PLOT_DATA = "application/vnd.d2l.plot+json"
TIMING = "application/vnd.d2l.timing+json"
NUMBER = re.compile(r"(?<![\w.])[-+−]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.])")


@dataclasses.dataclass
class Shown:
    """What one framework's cells of a group show."""
    lines: list[str] = dataclasses.field(default_factory=list)        # printed, line by line
    figures: int = 0
    curves: list[dict] = dataclasses.field(default_factory=list)      # {"label", "x", "y", ...} of every figure
    timings: int = 0                                                  # results of d2l's Timer (not compared)

    @property
    def empty(self) -> bool:
        return not (self.lines or self.figures or self.timings)


def shown(cells) -> Shown:
    """What the cells printed (stdout and text results, blank lines dropped) and drew."""
    found, text = Shown(), []
    for cell in cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                text.append(output.get("text", ""))
            elif output.get("output_type") in ("execute_result", "display_data"):
                if any(k.startswith("image/") for k in data):
                    found.figures += 1
                    for axes in (data.get(PLOT_DATA) or {}).get("axes", []):
                        found.curves += axes.get("lines", [])
                elif TIMING in data:
                    found.timings += 1
                elif "text/plain" in data:
                    text.append(data["text/plain"] + "\n")
    found.lines = [line.strip() for line in "".join(text).splitlines() if line.strip()]
    return found


@functools.lru_cache(maxsize=8)
def _unit_patterns(units: tuple[str, ...]) -> tuple[re.Pattern, re.Pattern | None]:
    """(a unit right after a number, a throughput unit on its own), made once per set of units: a page
    prints thousands of lines."""
    unit = "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True))
    # Only throughput units head a list of numbers ("in Gigaflops: ..."); a lone "s" or "ms" does not.
    rates = "|".join(re.escape(u) for u in units if re.search(r"flops|/", u, re.I))
    return (re.compile(rf"\s*(?:{unit})(?![\w/])"),
            re.compile(rf"(?<![\w/])(?:{rates})(?![\w/])") if rates else None)


def numbers(line: str, units: tuple[str, ...]) -> list[float | None]:
    """The line's numbers in order; None for a timing: a number followed by a unit, or any number after a
    unit that no number precedes ("performance in Gigaflops: element 0.5")."""
    after_number, rate = _unit_patterns(tuple(units))
    found, timing_from = [], None
    for match in rate.finditer(line) if rate else ():
        if not re.search(r"\d\.?\s*$", line[:match.start()]):
            timing_from = match.end()
            break
    for match in NUMBER.finditer(line):
        timing = after_number.match(line, match.end()) or (timing_from is not None and match.start() >= timing_from)
        found.append(None if timing else float(match.group().replace("−", "-")))
    return found


@dataclasses.dataclass
class Series:
    """One output of one framework, as numbers: a curve's y (or x) values, or all the numbers the
    group printed. Tabs are compared series by series."""
    name: str                           # "printed numbers", "curve 2 (loss) y", ...
    values: list                        # None where a value is not a number (a timing, NaN)


def series(output: Shown, units) -> list[Series]:
    """The output's series: its printed numbers (timings left out), then each curve's y and x values
    (x left out where its axis measures time: a label such as "time (sec)")."""
    found = [Series("printed numbers", [v for line in output.lines for v in numbers(line, units)])] \
        if output.lines else []
    timing = re.compile(rf"(?<![\w/])(?:{'|'.join(re.escape(u) for u in units)})(?![\w/])")
    for number, curve in enumerate(output.curves, 1):
        label = curve.get("label") or ""
        name = f"curve {number}" + (f" ({label})" if label and not label.startswith("_") else "")
        found.append(Series(f"{name} y", [v if _finite(v) else None for v in curve.get("y", [])]))
        if not timing.search(curve.get("xlabel") or ""):
            found.append(Series(f"{name} x", [v if _finite(v) else None for v in curve.get("x", [])]))
    return found


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _rms(values) -> float:
    values = list(values)
    return math.sqrt(sum(v * v for v in values) / len(values)) if values else 0.0


@dataclasses.dataclass
class Verdict:
    status: str     # "agree", "disagree", "not comparable" or "expected to differ"
    detail: str


def _compare_series(name: str, book: dict[str, list], again: dict[str, list], settings):
    """("agree" | "disagree" | "noisy", detail, how many values were compared) for one series of every
    framework. `again`: the same series under another seed, for the frameworks where it was measured.

    Values that no seed moves must agree within rtol/atol, point by point. Values that the seed moves
    are judged as a whole: S, the root mean square of what the seed moved them by (halved: the spread
    of one run), against their size V (noise: S >= noise * V) and against D, how far two tabs' runs lie
    apart (root mean square over the points): tabs disagree if D > spread_factor * S and some point
    lies outside rtol/atol as well. One point of a noisy curve can lie anywhere; a curve cannot."""
    names = list(book)
    points = [i for i in range(len(book[names[0]])) if all(book[n][i] is not None for n in names)]
    seeded = [n for n in names if n in again and all(again[n][i] is not None for i in points)]
    moving = [i for i in points if any(abs(book[n][i] - again[n][i]) > 1e-9 * (1 + abs(book[n][i]))
                                       for n in seeded)]
    fixed = [i for i in points if i not in moving]
    worst = None
    for i in fixed:
        found = [book[n][i] for n in names]
        allowed = settings.atol + settings.rtol * max(abs(v) for v in found)
        gap = max(found) - min(found)
        if gap > allowed and (worst is None or gap / allowed > worst[0]):
            worst = (gap / allowed, i, found, f"allowed: {allowed:.3g}")
    if worst is None and moving:
        spread = _rms(abs(book[n][i] - again[n][i]) / math.sqrt(2) for n in seeded for i in moving)
        size = _rms(book[n][i] for n in names for i in moving)
        if spread >= settings.noise * size:
            verb, it = ("move", "them") if name == "printed numbers" else ("moves", "it")
            return "noisy", (f"{name} {verb} with the seed as much as the tabs differ (another seed moves {it} by "
                             f"{spread:.3g}; the values are of size {size:.3g})"), 0
        mean = {n: [(book[n][i] + again[n][i]) / 2 if n in seeded else book[n][i] for i in moving] for n in names}
        apart = max(_rms(a - b for a, b in zip(mean[x], mean[y])) for x in names for y in names if x < y)
        beyond = [(max(book[n][i] for n in names) - min(book[n][i] for n in names)) /
                  (settings.atol + settings.rtol * max(abs(book[n][i]) for n in names)) for i in moving]
        if apart > settings.spread_factor * spread and max(beyond) > 1:
            i = moving[beyond.index(max(beyond))]
            worst = (max(beyond), i, [book[n][i] for n in names],
                     f"the tabs lie {apart:.3g} apart, another seed moves them by {spread:.3g}")
    if worst is not None:
        _, i, found, why = worst
        where = name if name == "printed numbers" else name.rsplit(" ", 1)[0]
        return "disagree", (f"{where}, {'number' if name == 'printed numbers' else 'point'} {i + 1}"
                            f"{'' if name == 'printed numbers' else ' ' + name.rsplit(' ', 1)[1]}: " +
                            ", ".join(f"{n} {v:.6g}" for n, v in zip(names, found)) + f" ({why})"), len(points)
    return "agree", "", len(points)


def compare_group(outputs: dict[str, Shown], settings, spreads: dict[str, Shown] | None = None) -> Verdict:
    """The verdict for one group: {framework: what it shows}; `spreads`: what the same frameworks show
    under another seed (None, or some frameworks missing: not measured)."""
    names = list(outputs)
    figures = {name: outputs[name].figures for name in names}
    if len(set(figures.values())) > 1:
        return Verdict("disagree", "the tabs draw different numbers of figures (" +
                       ", ".join(f"{name} {n}" for name, n in figures.items()) + ")")
    mine = {name: series(outputs[name], settings.timing_units) for name in names}
    again = {name: series(spreads[name], settings.timing_units) for name in names if spreads and name in spreads}
    curves = {name: [len(c.get("y", [])) for c in outputs[name].curves] for name in names}
    if len({tuple(c) for c in curves.values()}) > 1:
        return Verdict("disagree", "the tabs' figures hold different curves (" + ", ".join(
            f"{name}: {len(c)} curve{'s' * (len(c) != 1)} of {'/'.join(map(str, c)) or 0} points"
            for name, c in curves.items()) + ")")
    compared, notes, printed = [], [], bool(outputs[names[0]].lines)
    for k, first in enumerate(mine[names[0]]):
        book = {name: mine[name][k].values for name in names}
        if first.name == "printed numbers" and (len({len(v) for v in book.values()}) > 1 or
                                                len({len(outputs[n].lines) for n in names}) > 1):
            notes.append("printed lines not comparable (" +
                         ", ".join(f"{n}: {_count(len(outputs[n].lines), 'line')}" for n in names) + ")")
            printed = False
            continue
        measured = {name: again[name][k].values for name in again
                    if k < len(again[name]) and again[name][k].name == first.name
                    and len(again[name][k].values) == len(book[name])}
        status, detail, count = _compare_series(first.name, book, measured, settings)
        if status == "disagree":
            return Verdict("disagree", detail)
        if status == "noisy":
            notes.append(detail)
            printed = printed and first.name != "printed numbers"
        elif count:
            compared.append((first.name, count))
    parts = []
    numbers_compared = sum(c for n, c in compared if n == "printed numbers")
    if printed and numbers_compared:
        parts.append(f"{_count(len(outputs[names[0]].lines), 'line')} × {len(names)} frameworks, "
                     f"{_count(numbers_compared, 'number')}")
    curve_points = [c for n, c in compared if n.endswith(" y")]
    if curve_points:
        parts.append(f"{_count(len(curve_points), 'curve')} of {'/'.join(map(str, sorted(set(curve_points))))} "
                     f"points × {len(names)} frameworks")
    if not parts:
        return Verdict("not comparable", "; ".join(notes) or "only timings, or nothing to compare")
    return Verdict("agree", "; ".join(parts + notes))


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def groups(page, notebooks: dict, usable) -> list[tuple[object, dict[str, Shown]]]:
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


def compare(source, execution, config, spreads=None) -> list[dict]:
    """One entry per compared group of every page: {page, line, frameworks, status, detail}.
    `spreads`: an Execution of reseeded runs of some pages (their groups get seed-aware tolerances)."""
    entries = []
    for page in source.pages:
        if not page.has_code or page.path not in execution.notebooks:
            continue
        notebooks = execution.notebooks[page.path]
        measured = spreads and page.path in spreads.notebooks and \
            all(spreads.ran(page.path, name) for name in notebooks)
        expected = source.expected.get(page.path, [])
        for run, outputs in groups(page, notebooks, lambda name: execution.ran(page.path, name)):
            verdict = None
            reason = next((e.reason for e in expected if e.matches(run)), None)
            if reason:
                verdict = Verdict("expected to differ", reason)
            else:
                again = {name: shown([c for _, c in run.cells(spreads.notebooks[page.path], name)])
                         for name in outputs} if measured else None
                verdict = compare_group(outputs, config.agreement, again)
            entries.append({"page": page.path.as_posix(), "line": run.line, "frameworks": list(outputs),
                            "status": verdict.status, "detail": verdict.detail, "seeds": bool(measured)})
    return entries


def pages_to_measure(source, entries: list[dict]) -> list:
    """The pages where tabs disagree before the seed was measured: run them once more, reseeded."""
    disagreeing = {e["page"] for e in entries if e["status"] == "disagree" and not e["seeds"]}
    return [page for page in source.pages if page.path.as_posix() in disagreeing]


def check(source, execution, config, measure):
    """(entries, the reseeded Execution or None): the groups compared, measuring the seed's spread on the
    pages where tabs differ. `measure(pages)` runs pages in the reseeded kernels (execute.execute); None
    where there are no kernels (CI's merge job): tabs that differ are then reported unmeasured."""
    entries = compare(source, execution, config)
    pages = pages_to_measure(source, entries)
    if not pages:
        return entries, None
    if measure is None:
        for entry in entries:
            if entry["status"] == "disagree":
                entry["detail"] += " (another seed was not measured: the notebooks were executed elsewhere)"
        return entries, None
    logger.info(f"[agreement] tabs differ on {len(pages)} page(s); running them with another seed to see what chance "
        "moves: " + ", ".join(p.path.as_posix() for p in pages))
    spreads = measure(pages)
    return compare(source, execution, config, spreads), spreads


def disagreements(entries: list[dict]) -> list:
    from bookbuild.errors import DisagreementError

    return [DisagreementError(f"the tabs {', '.join(e['frameworks'])} compute different results: {e['detail']}",
                              path=e["page"], line=e["line"]) for e in entries if e["status"] == "disagree"]
