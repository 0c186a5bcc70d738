"""Figures: SVG output that is identical run after run, plot helpers, and the Animator."""
import numpy
from chapter_code import f_2d, gd_2d_with
from IPython.core.interactiveshell import InteractiveShell
from matplotlib import pyplot as plt
from matplotlib.axes import Axes


def rendered_svg(fig):
    """What Jupyter would show for `fig`: the display formatter's SVG."""
    formatted, _ = InteractiveShell.instance().display_formatter.format(fig)
    return formatted.get('image/svg+xml')


def draw_the_chapter_plot(d2l):
    """The chapter's beta ** t figure, in a new pyplot figure."""
    d2l.set_figsize()
    plt.figure()
    for beta in [0.95, 0.9, 0.6, 0]:
        x = d2l.numpy(d2l.arange(40))
        d2l.plt.plot(x, beta ** x, label=f'beta = {beta:.2f}')
    d2l.plt.xlabel('time')
    d2l.plt.legend()
    return plt.gcf()


def test_figures_are_shown_as_svg(d2l):
    d2l.use_svg_display()
    svg = rendered_svg(draw_the_chapter_plot(d2l))
    assert svg is not None and '<svg' in svg


def test_the_same_figure_renders_to_the_same_svg_bytes(d2l):
    first = rendered_svg(draw_the_chapter_plot(d2l))
    second = rendered_svg(draw_the_chapter_plot(d2l))
    assert first == second
    assert '<dc:date>' not in first


def test_set_figsize_sets_the_size_of_new_figures(d2l):
    d2l.set_figsize((6, 4))
    assert tuple(plt.figure().get_size_inches()) == (6, 4)
    d2l.set_figsize()
    assert tuple(plt.figure().get_size_inches()) == (3.5, 2.5)


def test_set_axes_sets_labels_limits_scales_legend_and_grid(d2l):
    fig, axes = plt.subplots()
    axes.plot([1, 2], [3, 4])
    d2l.set_axes(axes, 'x', 'y', [1, 10], [0.5, 5], 'log', 'linear', ['a line'])
    assert (axes.get_xlabel(), axes.get_ylabel()) == ('x', 'y')
    assert axes.get_xlim() == (1, 10) and axes.get_ylim() == (0.5, 5)
    assert (axes.get_xscale(), axes.get_yscale()) == ('log', 'linear')
    assert [t.get_text() for t in axes.get_legend().get_texts()] == ['a line']
    assert all(line.get_visible() for line in axes.get_xgridlines())


def test_plot_draws_each_curve_against_x(d2l):
    x = numpy.arange(5.0)
    d2l.plot(x, [x ** 2, 2 * x], 'x', 'f(x)', legend=['x^2', '2x'])
    axes = plt.gca()
    lines = axes.get_lines()
    assert len(lines) == 2
    numpy.testing.assert_array_equal(lines[0].get_xdata(), x)
    numpy.testing.assert_array_equal(lines[0].get_ydata(), x ** 2)
    numpy.testing.assert_array_equal(lines[1].get_ydata(), 2 * x)
    assert axes.get_xlabel() == 'x' and axes.get_ylabel() == 'f(x)'


def test_plot_of_y_alone_uses_the_index_as_x(d2l):
    d2l.plot([3.0, 1.0, 2.0])
    [line] = plt.gca().get_lines()
    numpy.testing.assert_array_equal(line.get_xdata(), [0, 1, 2])
    numpy.testing.assert_array_equal(line.get_ydata(), [3, 1, 2])


def test_show_trace_2d_draws_the_path_over_contours(d2l, capsys):
    results = d2l.train_2d(gd_2d_with(0.4))
    d2l.show_trace_2d(f_2d, results)
    axes = plt.gca()
    [path] = axes.get_lines()
    numpy.testing.assert_allclose(path.get_xdata(), [x1 for x1, _ in results])
    numpy.testing.assert_allclose(path.get_ydata(), [x2 for _, x2 in results])
    assert axes.get_xlabel() == 'x1' and axes.get_ylabel() == 'x2'
    assert any(type(artist).__name__.endswith('ContourSet') for artist in axes.get_children())


def test_animator_without_animation_only_updates_its_open_figure(d2l, display_calls):
    animator = d2l.Animator(xlabel='epoch', legend=['loss'], xlim=[0, 3])
    for epoch in range(1, 4):
        animator.add(epoch, (1.0 / epoch,))
    assert display_calls == {'display': [], 'clear_output': []}
    assert animator.X == [[1, 2, 3]] and animator.Y == [[1.0, 0.5, 1 / 3]]
    numpy.testing.assert_allclose(animator.axes[0].get_lines()[0].get_ydata(), [1, 0.5, 1 / 3])
    # Still open in pyplot: the inline backend shows it once, when the cell ends.
    assert plt.fignum_exists(animator.fig.number)


def test_animator_without_animation_draws_the_last_frame_the_animation_draws(d2l, display_calls, monkeypatch):
    """Not animating, the curves are updated in place (clearing the axes on every add cost more than the
    chapter's training steps): the figure shown at the end is the animation's last frame, byte for byte."""
    def train(animator):
        for step in range(1, 16):
            animator.add(step / 5, (1 / step, None) if step % 5 else (1 / step, 0.3 + step / 50))
        return rendered_svg(animator.fig)

    cleared = []
    clear = Axes.cla
    monkeypatch.setattr(Axes, 'cla', lambda axes: cleared.append(axes) or clear(axes))
    options = dict(xlabel='epoch', ylabel='loss', legend=['train', 'test'], xlim=[0, 3], yscale='log')
    quiet = train(d2l.Animator(**options))
    assert cleared == []
    monkeypatch.delenv('D2L_ANIMATE')
    assert train(d2l.Animator(**options)) == quiet
    assert len(cleared) == 15


def test_animator_animates_when_D2L_ANIMATE_is_unset(d2l, display_calls, monkeypatch):
    monkeypatch.delenv('D2L_ANIMATE')
    animator = d2l.Animator()
    for epoch in range(1, 4):
        animator.add(epoch, (epoch, 2 * epoch))
    assert [args[0] for args in display_calls['display']] == [animator.fig] * 3
    assert display_calls['clear_output'] == [{'wait': True}] * 3
    assert animator.Y == [[1, 2, 3], [2, 4, 6]]


def test_a_timer_result_says_it_is_a_timing(d2l):
    timer = d2l.Timer()
    seconds = timer.stop()
    data, = [InteractiveShell.instance().display_formatter.format(seconds)[0]]
    assert 'application/vnd.d2l.timing+json' in data
    assert data['text/plain'] == repr(float(seconds))
    assert isinstance(timer.sum(), float) and seconds * 2 == float(seconds) * 2


def test_framework_arrays_go_straight_into_matplotlib(d2l):
    """The book's own code hands framework arrays to Matplotlib, as the published edition did
    (gd.md: `d2l.plt.contour(x1, x2, f(x1, x2))` with MXNet arrays)."""
    x1, x2 = d2l.meshgrid(d2l.arange(-5.5, 1.0, 0.1), d2l.arange(-3.0, 1.0, 0.1))
    fig = plt.figure()
    plt.contour(x1, x2, x1 ** 2 + 2 * x2 ** 2, colors='#1f77b4')
    plt.plot(d2l.arange(0.0, 5.0), d2l.arange(0.0, 5.0) ** 2)
    plt.scatter(d2l.arange(0.0, 5.0), d2l.arange(0.0, 5.0))
    plt.hist(d2l.arange(0.0, 5.0))
    plt.bar(d2l.arange(0.0, 3.0), d2l.ones(3))
    assert len(fig.axes[0].get_lines()) == 1
