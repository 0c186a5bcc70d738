"""What every build kernel runs before a notebook's first cell, whatever the page imports.

The execute stage sends this file's text to each kernel once it has started, silently: the
notebook shows nothing of it, and it is part of the cache key (environments.fingerprint).
It imports nothing from the build; the build imports its two output types from here (the
agreement stage reads them, the merge stage drops them from what readers get).

On the ground floor, not in execute/: it runs inside the kernels, and it is a contract between
three stages, each reading one side of it: the execute stage sends it (and the environments'
fingerprint hashes it), the agreement and merge stages read the outputs it marks. Kept in one stage,
the other two would import across.

* Every matplotlib figure a cell shows also carries its data series (PLOT_DATA), read from
  matplotlib itself: the x and y of each line, the points of each scatter, the heights of each
  bar and the values of each image, in every Axes. The book's own plotting code is covered as
  well as d2l's, whichever figure formats the page chose.
* Every SVG figure is written with fixed ids and without a date (`set_matplotlib_formats('svg')`
  alone writes today's), so a rebuild gives the same bytes.
* What a Timer's stop(), sum(), avg() or cumsum() returns as a cell's result is marked a timing
  (TIMING), whoever wrote the Timer: d2l, or the page itself.
"""
import ast
import copy
import re

PLOT_DATA = "application/vnd.d2l.plot+json"
TIMING = "application/vnd.d2l.timing+json"
POINTS = 500                                # a longer series is sampled evenly: enough to compare
SVG_HASH_SALT = "d2l"
SVG_DATE = re.compile(r"\s*<dc:date>[^<]*</dc:date>")
TIMER_METHODS = ("stop", "sum", "avg", "cumsum")
MARK = "__d2l_build_timing__"               # the name the marked results call, hidden from %who


def _numbers(values):
    import numpy

    values = numpy.ma.filled(numpy.ma.asarray(values, dtype=float), numpy.nan).ravel()
    if values.size > POINTS:
        values = values[numpy.linspace(0, values.size - 1, POINTS).round().astype(int)]
    return [float(f"{v:.6g}") if numpy.isfinite(v) else str(v) for v in values]   # "nan", "inf": JSON has none


def plot_data(figure) -> dict:
    """{"axes": [{"xlabel", "ylabel", "series": [{"kind", "label", "x", "y"}]}]} of every Axes."""
    from matplotlib.collections import PathCollection
    from matplotlib.patches import Rectangle

    axes = []
    for ax in figure.axes:
        found: list[dict] = []

        def add(kind, label, x, y, found=found):   # this Axes' list (`add` is called right away)
            try:
                found.append({"kind": kind, "label": str(label), "x": _numbers(x), "y": _numbers(y)})
            except (TypeError, ValueError):
                pass   # not numbers (dates, categories): nothing to compare

        for line in ax.get_lines():
            add("line", line.get_label(), line.get_xdata(), line.get_ydata())
        for points in (c for c in ax.collections if isinstance(c, PathCollection)):
            offsets = points.get_offsets()
            if len(offsets):
                add("points", points.get_label(), offsets[:, 0], offsets[:, 1])
        bars = [p for p in ax.patches if isinstance(p, Rectangle)]
        if bars:
            add("bars", "", [b.get_x() for b in bars], [b.get_height() for b in bars])
        for image in ax.images:
            add("image", image.get_label(), [], image.get_array())
        axes.append({"xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(), "series": found})
    return {"axes": axes}


class _Seconds(float):
    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/plain": repr(float(self)), TIMING: {"seconds": float(self)}}


def _marked(value, owner):
    """`value` as a timing if a Timer returned it."""
    if type(owner).__name__ == "Timer" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return _Seconds(value)
    return value


def _plain_name(node) -> bool:
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


class _TimerResults(ast.NodeTransformer):
    """A cell ending in `<timer>.stop()` (sum, avg, cumsum) shows the result through `_marked`."""

    def visit_Module(self, module):
        last = module.body[-1] if module.body else None
        call = getattr(last, "value", None) if isinstance(last, ast.Expr) else None
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in TIMER_METHODS \
                and _plain_name(call.func.value):   # read twice: only a name (`timer`, `self.timer`) may be
            last.value = ast.copy_location(ast.Call(ast.Name(MARK, ast.Load()),
                                                    [call, copy.deepcopy(call.func.value)], []), call)
            ast.fix_missing_locations(module)
        return module


def install(shell) -> None:
    format_anything = shell.display_formatter.format

    def format(obj, include=None, exclude=None):
        import sys

        figure_module = sys.modules.get("matplotlib.figure")
        if figure_module is None or not isinstance(obj, figure_module.Figure):
            return format_anything(obj, include, exclude)
        import matplotlib

        with matplotlib.rc_context({"svg.hashsalt": SVG_HASH_SALT}):
            data, metadata = format_anything(obj, include, exclude)
        if any(key.startswith("image/") for key in data):
            if isinstance(data.get("image/svg+xml"), str):
                data["image/svg+xml"] = SVG_DATE.sub("", data["image/svg+xml"], count=1)
            data[PLOT_DATA] = plot_data(obj)
        return data, metadata

    shell.display_formatter.format = format
    shell.user_ns[MARK] = shell.user_ns_hidden[MARK] = _marked
    shell.ast_transformers.append(_TimerResults())


def source() -> str:
    """What the execute stage sends each kernel: this file, run apart from the notebook's names."""
    from pathlib import Path

    text = Path(__file__).read_text(encoding="utf-8")
    return (f"exec(compile({text!r}, 'bookbuild/in_kernel.py', 'exec'), "
            "{'__name__': 'bookbuild_in_kernel'})")


if __name__ == "bookbuild_in_kernel":
    from IPython import get_ipython

    install(get_ipython())
