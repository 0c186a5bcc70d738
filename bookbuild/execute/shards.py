"""The execute stage's split of the work over CI jobs: `make check TAB=x SHARD=i/n`.

Each job executes the i-th of n shares of the pages with code. Shares are balanced by
time, not by count: each notebook weighs the seconds its cells took when they last ran
(report.json keeps them, for cached cells too; CI restores the previous run's shards' reports into
_build/timings/),
and the pages go, heaviest first, to the share that is lightest so far. A page nobody
has timed yet weighs the median of the timed ones (every page weighs the same when
none is timed: a split by count).
"""
from __future__ import annotations

import json
import os
import statistics
from pathlib import Path

from bookbuild.errors import disk_error

LAST_BUILD = "last-build.json"   # in _build/timings/: the last whole build's report, kept for a split's shards


def last_timings(paths, shard: tuple[int, int]) -> dict[tuple[str, str], float]:
    """The timings a split reads: CI's reports (_build/timings/) and the last finished build's report.json,
    read before this build's "running" report takes its place. A sharded build's report holds only its own
    share, so it is not read; the last whole build's report is kept aside (timings/last-build.json) when a
    split starts, so that every shard of a split run one after another reads the same timings."""
    try:
        last = json.loads(paths.report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        last = None
    whole = isinstance(last, dict) and last.get("status") not in ("running", None) and not last.get("shard")
    if whole and shard[1] > 1:
        kept = paths.timings / LAST_BUILD
        try:
            kept.parent.mkdir(parents=True, exist_ok=True)
            kept.with_suffix(".part").write_text(json.dumps(last), encoding="utf-8")
            os.replace(kept.with_suffix(".part"), kept)
        except OSError as err:
            raise disk_error(err, f"keeping the last build's timings in {kept}") from None
    return timings(*sorted(paths.timings.glob("*.json")), *([paths.report] if whole else []))


def timings(*reports: Path) -> dict[tuple[str, str], float]:
    """{(page, framework): seconds of its cells} from builds' report.json files (a later one wins; a missing
    or unreadable one counts for nothing)."""
    found = {}
    for report in reports:
        try:
            data = json.loads(Path(report).read_text(encoding="utf-8"))
            notebooks = data["notebooks"] if data.get("status") != "running" else []   # a build that never ended
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
        for notebook in notebooks:
            seconds = [c.get("seconds") for c in notebook.get("cells", [])]
            if notebook.get("run", "book") == "book" and seconds and None not in seconds:
                found[(notebook["page"], notebook["framework"])] = round(sum(seconds), 3)
    return found


def split(weights: dict, n: int) -> list[list]:
    """The keys of `weights` in n shares of nearly equal total weight (longest first to the lightest share);
    each share keeps the keys' own order."""
    order = list(weights)
    shares: list[list] = [[] for _ in range(n)]
    load = [0.0] * n
    for key in sorted(order, key=lambda k: -weights[k]):
        lightest = min(range(n), key=lambda i: (load[i], i))
        shares[lightest].append(key)
        load[lightest] += weights[key]
    return [sorted(share, key=order.index) for share in shares]


def shard_of(pages: list, shard: tuple[int, int], frameworks: list[str], timed: dict) -> list:
    """The pages with code of the i-th of n shares, balanced by their frameworks' last seconds."""
    i, n = shard
    with_code = [p for p in pages if p.has_code]
    if n == 1:
        return with_code
    seconds = {p.path.as_posix(): [timed[(p.path.as_posix(), fw)] for fw in frameworks
                                   if (p.path.as_posix(), fw) in timed] for p in with_code}
    known = [sum(s) for s in seconds.values() if len(s) == len(frameworks)]
    guess = statistics.median(known) if known else 1.0
    weights = {p.path.as_posix(): sum(seconds[p.path.as_posix()]) if len(seconds[p.path.as_posix()]) == len(frameworks)
               else guess for p in with_code}
    chosen = set(split(weights, n)[i - 1])
    return [p for p in with_code if p.path.as_posix() in chosen]
