"""The verdict on one group of tabs: agree, disagree, or not comparable (noise).

Each output is compared as series of values (a group's printed values; each curve's y and
x), point by point between tabs:

1. Whatever the seed, a tab disagrees where its value is not finite and another's is, and
   where its values are `magnitude` times larger than another's (root mean squares): a
   diverging or broken tab.
2. Values no seed moves must agree within `rtol`/`atol`, point by point. Before the seed is
   measured every value counts as one no seed moves: a group that agrees so is done; one
   that differs is measured (`needs_seed`), by running its tabs again with another seed.
3. Where another seed moves the values, each tab's spread S (root mean square of what the
   seed moved, halved: the spread of one run) and size V are measured; a tab with S >=
   `noise` * V is noise, and a group is "not comparable" only when every tab is noise.
   Otherwise a tab disagrees if it lies farther from every other tab (root mean square over
   the points, each tab's two runs averaged) than `spread_factor` times the spread of the
   others, with some point outside rtol/atol as well. A tab is judged by the others' noise:
   its own spread counts with theirs (one run's spread of one value is a rough measure, and
   two tabs' is better) unless it is wild: as large as the others' values while its own are
   twice theirs or more (a diverging tab's spread is as wild as its divergence).
   `spread_factor` holds where the spread is measured on many values; measured on a few
   independent ones (a noisy trajectory that stops moving after some steps is one value per
   tab, however many points it has), one run's spread is a poor measure, and the distance
   allowed grows as Student's t distribution's does with few degrees of freedom. A distance
   held on several independent values (an offset over a curve's first steps) is judged as
   Fisher's F distribution says, with the spread's values counted no more than the distance's
   from each tab; never below `spread_factor`.
"""
from __future__ import annotations

import dataclasses
import enum
import functools
import itertools
import math
import statistics

import numpy

from bookbuild.agreement import figures
from bookbuild.agreement.numbers import numbers


@dataclasses.dataclass
class Shown:
    """What one framework's cells of a group show."""
    lines: list[str] = dataclasses.field(default_factory=list)        # printed, line by line
    figures: int = 0
    curves: list[dict] = dataclasses.field(default_factory=list)      # every series of every figure
    timings: int = 0                                                  # results marked as timings

    @property
    def empty(self) -> bool:
        return not (self.lines or self.figures or self.timings)


class Status(enum.StrEnum):
    """A group's verdict (its value is what report.json says)."""
    AGREE = "agree"
    DISAGREE = "disagree"
    NOT_COMPARABLE = "not comparable"      # another seed moves every tab as much as they differ
    EXPECTED = "expected to differ"        # named, with its reason, in the page's .agreement.yml


@dataclasses.dataclass(frozen=True)
class Verdict:
    status: Status
    detail: str
    needs_seed: bool = False  # disagrees where the seed was not measured: measure it, then judge again


def series(output: Shown, units) -> list[tuple[str, list]]:
    """[(name, values)]: the printed values (None where never compared), then each curve's."""
    printed = [("printed numbers", [v for line in output.lines for v in numbers(line, units)])] \
        if output.lines else []
    return printed + figures.named_values(output.curves, units)


def _rms(values) -> float:
    values = list(values)
    return math.sqrt(sum(v * v for v in values) / len(values)) if values else 0.0


def _independent(shifts: list[float]) -> float:
    """How many independent values a series of what the seed moved holds: its points, fewer where they move
    together: n / τ, τ = 1 + 2 Σ r(l) its integrated autocorrelation time (r(l): the autocorrelation at lag l,
    about the seed's mean, zero; summed while positive). A trajectory that stops moving gives about one."""
    moves = numpy.asarray(shifts, dtype=float)
    power = float(moves @ moves)
    if len(moves) < 2 or power == 0:
        return 1.0
    lags = numpy.correlate(moves, moves, "full")[len(moves):] / power   # lags 1, 2, ...
    negative = numpy.flatnonzero(lags <= 0)
    together = 1 + 2 * float(lags[:negative[0] if len(negative) else len(lags)].sum())
    return min(float(len(moves)), max(1.0, len(moves) / together))


@functools.lru_cache(maxsize=256)
def _f_quantile(tail: float, values: float, freedom: float) -> float:
    """f such that Fisher's F with (`values`, `freedom`) degrees has F > f with probability `tail` (with one
    value: the square of Student's t with `freedom` degrees, both its tails). Written in the angle θ (f =
    freedom / values · tan²θ), its density is proportional to sin(θ)^(values - 1) cos(θ)^(freedom - 1) on
    (0, π/2)."""
    theta = numpy.linspace(0.0, math.pi / 2, 20001)
    density = numpy.sin(theta) ** (values - 1) * numpy.cos(theta) ** (freedom - 1)
    above = numpy.concatenate([numpy.cumsum(((density[1:] + density[:-1]) / 2)[::-1])[::-1], [0.0]])
    angle = numpy.interp(-tail, -above / above[0], theta)   # `above` falls as θ grows
    return freedom / values * math.tan(angle) ** 2


def beyond_noise(factor: float, freedom: float, values: float = 1.0) -> float:
    """How many times a spread measured on `freedom` independent values a distance held on `values`
    independent values may be: `factor` for a spread measured exactly, more for fewer values (as far out in
    Fisher's F distribution, Student's t for one value, as `factor` is in the normal one), never less."""
    tail = 2 * (1 - statistics.NormalDist().cdf(factor))
    return max(factor, math.sqrt(_f_quantile(tail, round(values, 1), round(freedom, 1))))


def _beyond(values: list[float], settings) -> float:
    """How far apart the values lie, in units of what rtol/atol allow (> 1: outside)."""
    return (max(values) - min(values)) / (settings.atol + settings.rtol * max(abs(v) for v in values))


def _where(name: str, i: int, names, values, why: str) -> str:
    point = f"number {i + 1}" if name == "printed numbers" else f"point {i + 1} {name.rsplit(' ', 1)[1]}"
    where = name if name == "printed numbers" else name.rsplit(" ", 1)[0]
    return f"{where}, {point}: " + ", ".join(f"{n} {v:.6g}" for n, v in zip(names, values, strict=True)) + f" ({why})"


def judge(name: str, book: dict[str, list], again: dict[str, list], settings) -> tuple[str, str, int, bool]:
    """(status "agree" | "disagree" | "noisy", detail, how many values were compared, whether the verdict
    waits for the seed) for one series of every framework. `again`: the same series under another seed,
    for the frameworks where it was measured."""
    names = list(book)
    points = [i for i in range(len(book[names[0]])) if all(book[n][i] is not None for n in names)]
    for i in points:                                                           # 1. not finite
        values = [book[n][i] for n in names]
        finite = [math.isfinite(v) for v in values]
        if any(finite) and not all(finite):
            return "disagree", _where(name, i, names, values, "not a finite number in every tab"), len(points), False
    points = [i for i in points if math.isfinite(book[names[0]][i])]
    size = {n: _rms(book[n][i] for i in points) for n in names}
    for x, y in itertools.permutations(names, 2):                              # 1. orders of magnitude
        if size[x] > settings.atol and size[x] >= settings.magnitude * size[y]:
            i = max(points, key=lambda i: abs(book[x][i]) - abs(book[y][i]))
            return "disagree", _where(name, i, names, [book[n][i] for n in names],
                                      f"{x} is {size[x] / max(size[y], 1e-300):.3g} times larger"), len(points), False
    seeded = [n for n in names if n in again and len(again[n]) == len(book[n])
              and all(again[n][i] is not None and math.isfinite(again[n][i]) for i in points)]
    moving = [i for i in points if any(abs(book[n][i] - again[n][i]) > 1e-9 * (1 + abs(book[n][i])) for n in seeded)]
    worst = None
    for i in (i for i in points if i not in moving):                          # 2. values no seed moves
        values = [book[n][i] for n in names]
        if _beyond(values, settings) > 1 and (worst is None or _beyond(values, settings) > worst[0]):
            allowed = settings.atol + settings.rtol * max(abs(v) for v in values)
            worst = (_beyond(values, settings), _where(name, i, names, values, f"allowed: {allowed:.3g}"))
    if worst is not None:
        return "disagree", worst[1], len(points), len(seeded) < len(names)
    if not moving:
        return "agree", "", len(points), False
    shifts = {n: [book[n][i] - again[n][i] for i in moving] for n in seeded}
    moved = {n: [abs(s) / math.sqrt(2) for s in shifts[n]] for n in seeded}
    spread = {n: _rms(moved[n]) for n in seeded}
    moved_size = {n: _rms(book[n][i] for i in moving) for n in names}
    if all(spread[n] >= settings.noise * moved_size[n] for n in seeded):      # 3. every tab is noise
        verb, it = ("move", "them") if name == "printed numbers" else ("moves", "it")
        widest = max(seeded, key=lambda n: spread[n])
        return "noisy", (f"{name} {verb} with the seed as much as the tabs differ (another seed moves {it} by "
                         f"{spread[widest]:.3g}; the values are of size {moved_size[widest]:.3g})"), 0, False
    mean = {n: [(book[n][i] + again[n][i]) / 2 if n in seeded else book[n][i] for i in moving] for n in names}
    for x in names:                                                            # 3. judged by the others' noise
        others = [n for n in names if n != x]
        if not any(n in seeded for n in others):
            continue
        scale = max(moved_size[n] for n in others)
        wild = spread[x] >= scale and moved_size[x] >= 2 * scale if x in seeded else True
        tame = x in seeded and not wild   # its own spread may count too
        judges = [n for n in others if n in seeded] + ([x] if tame else [])
        noise = _rms(v for n in judges for v in moved[n])
        apart = {y: _rms(a - b for a, b in zip(mean[x], mean[y], strict=True)) for y in others}
        beyond = {y: [_beyond([book[x][i], book[y][i]], settings) for i in moving] for y in others}
        nearest = min(others, key=lambda n: apart[n])
        # The distance to the nearest tab holds `held` independent values: an offset over several steps of
        # a curve is more than chance on one of them. The spread it is judged by counts as many at most from
        # each tab: where the distance is one value (where a trajectory stopped), what the seed moved
        # elsewhere (its first, quick steps) does not measure the noise of that value.
        held = _independent([a - b for a, b in zip(mean[x], mean[nearest], strict=True)])
        allowed = beyond_noise(settings.spread_factor, sum(min(held, _independent(shifts[n])) for n in judges), held)
        if all(apart[y] > allowed * noise and max(beyond[y]) > 1 for y in others):
            ratio = apart[nearest] / max(noise, 1e-300)
            if worst is None or ratio > worst[0]:
                i = moving[beyond[nearest].index(max(beyond[nearest]))]
                worst = (ratio, _where(name, i, names, [book[n][i] for n in names],
                                       f"{x} lies {apart[nearest]:.3g} from the nearest tab, another seed moves "
                                       f"{'them' if x in judges else 'the others'} by {noise:.3g}"))
    if worst is not None:
        return "disagree", worst[1], len(points), False
    return "agree", "", len(points), False


def compare_group(outputs: dict[str, Shown], settings, spreads: dict[str, Shown] | None = None) -> Verdict:
    """The verdict for one group: {framework: what it shows}; `spreads`: what some of the same frameworks
    show under another seed (those where it was measured)."""
    names = list(outputs)
    drawn = {name: outputs[name].figures for name in names}
    if len(set(drawn.values())) > 1:
        return Verdict(Status.DISAGREE, "the tabs draw different numbers of figures (" +
                       ", ".join(f"{name} {n}" for name, n in drawn.items()) + ")")
    mine = {name: series(outputs[name], settings.timing_units) for name in names}
    again = {name: series(shown, settings.timing_units) for name, shown in (spreads or {}).items() if name in names}
    curves = {name: [len(c.get("y", [])) for c in outputs[name].curves] for name in names}
    if len({tuple(c) for c in curves.values()}) > 1:
        return Verdict(Status.DISAGREE, "the tabs' figures hold different curves (" + ", ".join(
            f"{name}: {len(c)} curve{'s' * (len(c) != 1)} of {'/'.join(map(str, c)) or 0} points"
            for name, c in curves.items()) + ")")
    compared, notes = [], []
    for k, (series_name, _) in enumerate(mine[names[0]]):
        book = {name: mine[name][k][1] for name in names}
        if series_name == "printed numbers" and len({len(v) for v in book.values()}) > 1:
            notes.append("printed values not comparable (" +
                         ", ".join(f"{n}: {_count(len(v), 'value')}" for n, v in book.items()) + ")")
            continue
        measured = {name: again[name][k][1] for name in again
                    if k < len(again[name]) and again[name][k][0] == series_name}
        status, detail, count, needs_seed = judge(series_name, book, measured, settings)
        if status == "disagree":
            return Verdict(Status.DISAGREE, detail, needs_seed)
        if status == "noisy":
            notes.append(detail)
        elif count:
            compared.append((series_name, count))
    parts = []
    printed = sum(c for n, c in compared if n == "printed numbers")
    if printed:
        parts.append(f"{_count(len(outputs[names[0]].lines), 'line')} × {len(names)} frameworks, "
                     f"{_count(printed, 'number')}")
    curve_points = [c for n, c in compared if n.endswith(" y")]
    if curve_points:
        parts.append(f"{_count(len(curve_points), 'curve')} of {'/'.join(map(str, sorted(set(curve_points))))} "
                     f"points × {len(names)} frameworks")
    if not parts:
        timings = any(outputs[n].timings for n in names) or any(
            None in values for n in names for s, values in mine[n] if s == "printed numbers")
        return Verdict(Status.NOT_COMPARABLE, "; ".join(notes) or ("only timings" if timings else "nothing to compare"))
    return Verdict(Status.AGREE, "; ".join(parts + notes))


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
