"""Figures for every framework: SVG output, axes helpers, 2-D traces and the training Animator.

Nothing here imports a deep-learning framework: plotted values must be Python
numbers or NumPy arrays (or anything Matplotlib accepts).
"""
import os

import numpy
from matplotlib import pyplot as plt
from matplotlib_inline import backend_inline

# A fixed salt makes the ids Matplotlib writes into an SVG (clip paths, glyphs)
# the same on every run, so rebuilding the book gives byte-identical figures.
SVG_HASH_SALT = 'd2l'


def use_svg_display():
    """Show figures in Jupyter as SVG, rendered reproducibly (fixed ids, no date), their text as text."""
    plt.rcParams['svg.hashsalt'] = SVG_HASH_SALT
    # Text as <text> with a list of fonts ending in sans-serif, not as glyph outlines: a third of the
    # bytes, sharp at any zoom, and found by a reader's search and screen reader.
    plt.rcParams['svg.fonttype'] = 'none'
    # Matplotlib writes today's date into each SVG unless told not to.
    backend_inline.set_matplotlib_formats('svg', metadata={'Date': None})


def set_figsize(figsize=(3.5, 2.5)):
    """Use SVG output and make new figures `figsize` inches large."""
    use_svg_display()
    plt.rcParams['figure.figsize'] = figsize


def set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend):
    """Set the labels, limits, scales and legend of Matplotlib `axes`, and draw a grid."""
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_xscale(xscale)
    axes.set_yscale(yscale)
    axes.set_xlim(xlim)
    axes.set_ylim(ylim)
    if legend:
        axes.legend(legend)
    axes.grid()


def plot(X, Y=None, xlabel=None, ylabel=None, legend=None, xlim=None,
         ylim=None, xscale='linear', yscale='linear',
         fmts=('-', 'm--', 'g-.', 'r:'), figsize=(3.5, 2.5), axes=None):
    """Plot one curve or several.

    `X` and `Y` are each one sequence of values or a list of them; with `Y`
    omitted, `X` holds the y values and x is the index.
    """
    def has_one_axis(values):
        return (hasattr(values, 'ndim') and values.ndim == 1
                or isinstance(values, list) and not hasattr(values[0], '__len__'))

    if has_one_axis(X):
        X = [X]
    if Y is None:
        X, Y = [[]] * len(X), X
    elif has_one_axis(Y):
        Y = [Y]
    if len(X) != len(Y):
        X = X * len(Y)
    set_figsize(figsize)
    if axes is None:
        axes = plt.gca()
    axes.cla()
    for x, y, fmt in zip(X, Y, fmts):
        if len(x):
            axes.plot(x, y, fmt)
        else:
            axes.plot(y, fmt)
    set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend)


def show_trace_2d(f, results):
    """Plot the path `results` [(x1, x2), ...] over the contour lines of f(x1, x2).

    `f` is called on NumPy grids, so it must be written with arithmetic
    operators (as the book's 2-D objectives are), not framework functions.
    """
    set_figsize()
    path = numpy.array([[numpy.asarray(x, dtype=float).item() for x in point] for point in results])
    plt.plot(path[:, 0], path[:, 1], '-o', color='#ff7f0e')
    x1, x2 = numpy.meshgrid(numpy.arange(-5.5, 1.0, 0.1),
                            numpy.arange(-3.0, 1.0, 0.1))
    plt.contour(x1, x2, f(x1, x2), colors='#1f77b4')
    plt.xlabel('x1')
    plt.ylabel('x2')


def animation_enabled():
    """Whether Animator redraws while training: yes, unless env D2L_ANIMATE is '0'.

    The book build sets D2L_ANIMATE=0: nobody watches it, and every
    intermediate frame would be one more figure in the notebook's output.
    """
    return os.environ.get('D2L_ANIMATE', '1') != '0'


class Animator:
    """A figure that grows point by point while a model trains.

    In Jupyter each `add` redisplays the figure, replacing the previous frame.
    With D2L_ANIMATE=0 (read when the Animator is made) `add` only updates the
    axes; the figure stays open in pyplot, so the inline backend shows it,
    finished, once at the end of the cell.
    """

    def __init__(self, xlabel=None, ylabel=None, legend=None, xlim=None,
                 ylim=None, xscale='linear', yscale='linear',
                 fmts=('-', 'm--', 'g-.', 'r:'), nrows=1, ncols=1,
                 figsize=(3.5, 2.5)):
        if legend is None:
            legend = []
        use_svg_display()
        self.fig, self.axes = plt.subplots(nrows, ncols, figsize=figsize)
        if nrows * ncols == 1:
            self.axes = [self.axes]
        self.config_axes = lambda: set_axes(
            self.axes[0], xlabel, ylabel, xlim, ylim, xscale, yscale, legend)
        self.X, self.Y, self.fmts, self.limits = None, None, fmts, (xlim, ylim)
        self.animate = animation_enabled()

    def add(self, x, y):
        """Append point(s): `y` is one value or one per curve; `x` one for all or one per curve."""
        if not hasattr(y, '__len__'):
            y = [y]
        n = len(y)
        if not hasattr(x, '__len__'):
            x = [x] * n
        if not self.X:
            self.X = [[] for _ in range(n)]
        if not self.Y:
            self.Y = [[] for _ in range(n)]
        for i, (a, b) in enumerate(zip(x, y)):
            if a is not None and b is not None:
                self.X[i].append(a)
                self.Y[i].append(b)
        if not self.animate:
            self._update()
            return
        self.axes[0].cla()
        for x_values, y_values, fmt in zip(self.X, self.Y, self.fmts):
            self.axes[0].plot(x_values, y_values, fmt)
        self.config_axes()
        # Imported here: only animation needs IPython's display machinery.
        from IPython import display
        display.display(self.fig)
        display.clear_output(wait=True)

    def _update(self):
        """The curves updated in place: only the last frame is shown, and clearing the axes on every add
        costs more than the training steps between two adds (new ticks, grid and legend each time). The
        limits follow the data as a fresh plot's would, then stay fixed as `config_axes` leaves them."""
        axes = self.axes[0]
        if not axes.get_lines():
            for x_values, y_values, fmt in zip(self.X, self.Y, self.fmts):
                axes.plot(x_values, y_values, fmt)
            self.config_axes()
            return
        for line, x_values, y_values in zip(axes.get_lines(), self.X, self.Y):
            line.set_data(x_values, y_values)
        axes.set_autoscale_on(True)
        axes.relim()
        axes.autoscale_view()
        axes.set_xlim(self.limits[0])
        axes.set_ylim(self.limits[1])

