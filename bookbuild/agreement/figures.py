"""A figure's data series as the agreement stage compares them.

Every build kernel writes them beside each figure it shows (bookbuild/in_kernel.py, PLOT_DATA),
read from matplotlib itself: each Axes' lines, scatters, bars and images. A series' x values
are left out where its axis measures time (an x label such as "time (sec)").
"""
from __future__ import annotations

import math
import re

NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def series_of(plot_data: dict | None) -> list[dict]:
    """The figure's series, each with its axes' labels: {"kind", "label", "x", "y", "xlabel", "ylabel"}."""
    found = []
    for axes in (plot_data or {}).get("axes", []):
        for one in axes.get("series", []):
            found.append({**one, "xlabel": axes.get("xlabel", ""), "ylabel": axes.get("ylabel", "")})
    return found


def _value(value):
    """A point as a float (nan and inf included); None for what is not a number."""
    if isinstance(value, str):
        return NON_FINITE.get(value)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def named_values(curves: list[dict], units) -> list[tuple[str, list]]:
    """[(name, values)] of each curve's y, then its x unless its axis measures time."""
    timing = re.compile(rf"(?<![\w/])(?:{'|'.join(re.escape(u) for u in units)})(?![\w/])")
    found = []
    for number, curve in enumerate(curves, 1):
        label = curve.get("label") or ""
        name = f"curve {number}" + (f" ({label})" if label and not label.startswith("_") else "")
        found.append((f"{name} y", [_value(v) for v in curve.get("y", [])]))
        if curve.get("x") and not timing.search(curve.get("xlabel") or ""):
            found.append((f"{name} x", [_value(v) for v in curve.get("x", [])]))
    return found
