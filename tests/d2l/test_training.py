"""Training: Timer, Accumulator, train_2d's printed lines, and train_ch11 against
a NumPy implementation of the same updates."""
import re
import time

import numpy
import pytest
from chapter_code import concise_trainer, gd_2d_with, momentum_2d_with, momentum_from_scratch

LOSS_LINE = re.compile(r'^loss: (\d+\.\d{3}), (\d+\.\d{3}) sec/epoch$')


def test_timer_records_each_interval():
    from d2l.training import Timer
    timer = Timer()
    time.sleep(0.02)
    first = timer.stop()
    timer.start()
    time.sleep(0.01)
    second = timer.stop()
    assert first >= 0.02 and second >= 0.01
    assert timer.times == [first, second]
    assert timer.sum() == pytest.approx(first + second)
    assert timer.avg() == pytest.approx((first + second) / 2)
    assert timer.cumsum() == pytest.approx([first, first + second])


def test_accumulator_sums_numbers_and_scalar_tensors(d2l):
    metric = d2l.Accumulator(2)
    metric.add(d2l.tensor(1.5), 2)
    metric.add(0.25, d2l.tensor(3))
    assert (metric[0], metric[1]) == (1.75, 5.0)
    metric.reset()
    assert metric.data == [0.0, 0.0]


def points_of_linear_recurrence(matrix, start, steps=20):
    """The points x_t = matrix^t start, t = 0..steps, by NumPy matrix powers."""
    return [numpy.linalg.matrix_power(matrix, t) @ start for t in range(steps + 1)]


def expected_2d_trace(eta, beta):
    """Momentum on f_2d = 0.1 x1^2 + 2 x2^2 from (-5, -2); beta = 0 is gradient descent.

    Each coordinate with gradient c x follows the linear map
    (x, v) -> ((1 - eta c) x - eta beta v, c x + beta v).
    """
    traces = []
    for c, start in ((0.2, -5.0), (4.0, -2.0)):
        matrix = numpy.array([[1 - eta * c, -eta * beta], [c, beta]])
        traces.append([x for x, _ in points_of_linear_recurrence(matrix, numpy.array([start, 0.0]))])
    return list(zip(*traces, strict=True))


@pytest.mark.parametrize('eta', [0.4, 0.6])
def test_train_2d_of_gradient_descent_prints_the_final_point(d2l, capsys, eta):
    results = d2l.train_2d(gd_2d_with(eta))
    expected = expected_2d_trace(eta, beta=0.0)
    x1, x2 = expected[-1]
    assert capsys.readouterr().out == f'epoch 20, x1: {x1:f}, x2: {x2:f}\n'
    assert len(results) == 21 and results[0] == (-5, -2)
    numpy.testing.assert_allclose(results, expected, rtol=1e-12)


@pytest.mark.parametrize('eta, beta', [(0.6, 0.5), (0.6, 0.25)])
def test_train_2d_of_momentum_prints_the_final_point(d2l, capsys, eta, beta):
    results = d2l.train_2d(momentum_2d_with(eta, beta))
    expected = expected_2d_trace(eta, beta)
    x1, x2 = expected[-1]
    assert capsys.readouterr().out == f'epoch 20, x1: {x1:f}, x2: {x2:f}\n'
    numpy.testing.assert_allclose(results, expected, rtol=1e-12)


def test_train_2d_passes_f_grad_to_the_trainer(d2l, capsys):
    def f_2d_grad(x1, x2):
        return 0.2 * x1, 4 * x2

    def gd_2d(x1, x2, s1, s2, f_grad):
        g1, g2 = f_grad(x1, x2)
        return x1 - 0.1 * g1, x2 - 0.1 * g2, 0, 0

    results = d2l.train_2d(gd_2d, steps=5, f_grad=f_2d_grad)
    assert len(results) == 6
    x1, x2 = -5 * 0.98 ** 5, -2 * 0.6 ** 5
    assert capsys.readouterr().out == f'epoch 5, x1: {x1:f}, x2: {x2:f}\n'


def test_linreg_and_squared_loss(d2l):
    X = numpy.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=numpy.float32)
    w = numpy.array([[0.5], [-1.0]], dtype=numpy.float32)
    y = numpy.array([0.0, 1.0, -2.0], dtype=numpy.float32)
    y_hat = d2l.linreg(d2l.tensor(X), d2l.tensor(w), d2l.tensor([0.25]))
    numpy.testing.assert_allclose(d2l.numpy(y_hat), X @ w + 0.25)
    loss = d2l.squared_loss(y_hat, d2l.tensor(y))
    numpy.testing.assert_allclose(d2l.numpy(loss), (X @ w + 0.25 - y[:, None]) ** 2 / 2)


def test_load_array_batches_in_order_unless_training(d2l):
    features = numpy.arange(46, dtype=numpy.float32).reshape(23, 2)
    labels = numpy.arange(23, dtype=numpy.float32)
    in_order = d2l.load_array((d2l.tensor(features), d2l.tensor(labels)), 5, is_train=False)
    batches = [(d2l.numpy(X), d2l.numpy(y)) for X, y in in_order]
    assert [len(y) for _, y in batches] == [5, 5, 5, 5, 3]
    numpy.testing.assert_array_equal(numpy.concatenate([X for X, _ in batches]), features)
    numpy.testing.assert_array_equal(numpy.concatenate([y for _, y in batches]), labels)

    shuffled = d2l.load_array((d2l.tensor(features), d2l.tensor(labels)), 5, is_train=True)
    order = numpy.concatenate([d2l.numpy(y) for _, y in shuffled])
    assert sorted(order) == list(labels) and list(order) != list(labels)
    assert len(shuffled) == 5


def test_get_data_ch11_serves_the_standardized_airfoil_data(d2l):
    from d2l.data import read_airfoil
    data_iter, feature_dim = d2l.get_data_ch11(batch_size=10)
    assert feature_dim == 5 and len(data_iter) == 150
    batches = [(d2l.numpy(X), d2l.numpy(y)) for X, y in data_iter]
    assert {(X.shape, y.shape) for X, y in batches} == {((10, 5), (10,))}
    assert all(X.dtype == y.dtype == numpy.float32 for X, y in batches)
    features, labels = read_airfoil(1500)
    served = numpy.column_stack([numpy.concatenate([X for X, _ in batches]),
                                 numpy.concatenate([y for _, y in batches])])
    expected = numpy.column_stack([features, labels])
    # The same rows, shuffled.
    assert not numpy.array_equal(served, expected)
    numpy.testing.assert_array_equal(served[numpy.lexsort(served.T)],
                                     expected[numpy.lexsort(expected.T)])


def test_evaluate_loss_averages_over_every_example(d2l):
    from d2l.data import read_airfoil
    features, labels = read_airfoil(1500)
    data_iter, _ = d2l.get_data_ch11(batch_size=7)  # 1500 = 214 * 7 + 2: a short last batch
    w = d2l.zeros((5, 1))
    b = d2l.zeros(1)
    loss = d2l.evaluate_loss(lambda X: d2l.linreg(X, w, b), data_iter, d2l.squared_loss)
    assert loss == pytest.approx(numpy.mean(labels.astype(numpy.float64) ** 2) / 2, rel=1e-5)


def airfoil_batches(d2l, n, batch_size=10, seed=0):
    """The first n examples of the airfoil data as a plain list of (X, y) batches, in one seeded random order."""
    from d2l.data import read_airfoil
    features, labels = read_airfoil(n)
    order = numpy.random.RandomState(seed).permutation(len(labels))
    return [(d2l.tensor(features[rows]), d2l.tensor(labels[rows]))
            for rows in numpy.split(order, len(order) // batch_size)]


def numpy_momentum_training(w, b, batches, lr, momentum, num_epochs):
    """The chapter's from-scratch momentum training, in float64 NumPy.

    Returns the final (w, b) and the loss on all batches after every 200 examples.
    """
    X_all = numpy.concatenate([X for X, _ in batches])
    y_all = numpy.concatenate([y for _, y in batches])[:, None]
    v_w, v_b = numpy.zeros_like(w), numpy.zeros_like(b)
    losses, examples = [], 0
    for _ in range(num_epochs):
        for X, y in batches:
            error = X @ w + b - y[:, None]
            grad_w, grad_b = X.T @ error / len(y), error.mean(axis=0)
            v_w = momentum * v_w + grad_w
            v_b = momentum * v_b + grad_b
            w, b = w - lr * v_w, b - lr * v_b
            examples += len(y)
            if examples % 200 == 0:
                losses.append(float(numpy.mean((X_all @ w + b - y_all) ** 2 / 2)))
    return w, b, losses


@pytest.mark.parametrize('lr, momentum', [(0.02, 0.5), (0.005, 0.9)])
def test_train_ch11_matches_numpy(d2l, framework, capsys, display_calls, lr, momentum):
    init_momentum_states, sgd_momentum = momentum_from_scratch(framework, d2l)
    batches = airfoil_batches(d2l, n=500)   # 50 batches: an epoch ends between two losses (every 200)
    params_seen = []

    def recording_sgd_momentum(params, *rest):
        if not params_seen:  # before the first update: the initial weights
            params_seen.append([d2l.numpy(p).astype(numpy.float64) for p in params])
            params_seen.append(params)
        sgd_momentum(params, *rest)

    seconds, losses = d2l.train_ch11(recording_sgd_momentum, init_momentum_states(5),
                                     {'lr': lr, 'momentum': momentum}, batches, 5, 2)

    (w0, b0), final_params = params_seen
    assert w0.shape == (5, 1) and 0 < numpy.std(w0) < 0.05 and b0.tolist() == [0.0]
    batches64 = [(d2l.numpy(X).astype(numpy.float64), d2l.numpy(y).astype(numpy.float64))
                 for X, y in batches]
    w, b, expected_losses = numpy_momentum_training(w0, b0, batches64, lr, momentum, 2)
    numpy.testing.assert_allclose(d2l.numpy(final_params[0]), w, rtol=1e-4, atol=1e-6)
    numpy.testing.assert_allclose(d2l.numpy(final_params[1]), b, rtol=1e-4, atol=1e-6)
    assert len(losses) == len(seconds) == 2 * 500 // 200
    numpy.testing.assert_allclose(losses, expected_losses, rtol=1e-4)
    assert expected_losses[-1] < 0.26  # it did learn: the loss starts at 0.42 (w = 0)

    [line] = capsys.readouterr().out.splitlines()
    printed_loss, _ = LOSS_LINE.match(line).groups()
    assert printed_loss == f'{losses[-1]:.3f}'
    assert seconds == sorted(seconds) and seconds[0] > 0
    assert display_calls['display'] == []  # D2L_ANIMATE=0: no intermediate frames


def test_train_ch11_records_the_final_loss_between_evaluations(d2l, framework, capsys):
    """150 examples in minibatches of 7 (the last one of 3): no 200-example mark is reached."""
    init_momentum_states, sgd_momentum = momentum_from_scratch(framework, d2l)
    data_iter, feature_dim = d2l.get_data_ch11(batch_size=7, n=150)
    seconds, losses = d2l.train_ch11(sgd_momentum, init_momentum_states(feature_dim),
                                     {'lr': 0.02, 'momentum': 0.5}, data_iter, feature_dim,
                                     num_epochs=1)
    from d2l.data import read_airfoil
    _, labels = read_airfoil(150)
    assert len(seconds) == len(losses) == 1
    assert 0 < losses[0] < numpy.mean(labels ** 2) / 2  # below the loss of w = 0, b = 0
    printed_loss, _ = LOSS_LINE.match(capsys.readouterr().out.strip()).groups()
    assert printed_loss == f'{losses[0]:.3f}'


class FakeClock:
    """A stand-in for the `time` module whose clock moves only when told to."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        return self.now


def test_sec_per_epoch_counts_training_time_only(d2l, framework, capsys, monkeypatch):
    """Each minibatch update takes 0.01 s and each plot update 5 s, on a fake clock."""
    from d2l import training
    clock = FakeClock()
    monkeypatch.setattr(training, 'time', clock)
    add_point = training.Animator.add

    def slow_add(self, x, y):
        clock.now += 5.0
        add_point(self, x, y)

    monkeypatch.setattr(training.Animator, 'add', slow_add)
    init_momentum_states, sgd_momentum = momentum_from_scratch(framework, d2l)

    def timed_sgd_momentum(*args):
        clock.now += 0.01
        sgd_momentum(*args)

    data_iter, feature_dim = d2l.get_data_ch11(batch_size=10, n=400)  # 40 minibatches an epoch
    seconds, losses = d2l.train_ch11(timed_sgd_momentum, init_momentum_states(feature_dim),
                                     {'lr': 0.02, 'momentum': 0.5}, data_iter, feature_dim,
                                     num_epochs=2)
    _, per_epoch = LOSS_LINE.match(capsys.readouterr().out.strip()).groups()
    assert per_epoch == '0.400'
    # Training seconds when the loss was evaluated: every 20 minibatches.
    assert seconds == pytest.approx([0.2, 0.4, 0.6, 0.8])


def test_sec_per_epoch_is_at_least_the_time_spent_updating(d2l, framework, capsys):
    """With a real clock: a trainer sleeping 4 ms per minibatch makes epochs last >= 0.16 s."""
    init_momentum_states, sgd_momentum = momentum_from_scratch(framework, d2l)
    data_iter, feature_dim = d2l.get_data_ch11(batch_size=10, n=400)  # 40 minibatches
    pause, num_epochs = 0.004, 2

    def slow_sgd_momentum(*args):
        time.sleep(pause)
        sgd_momentum(*args)

    started = time.perf_counter()
    d2l.train_ch11(slow_sgd_momentum, init_momentum_states(feature_dim),
                   {'lr': 0.02, 'momentum': 0.5}, data_iter, feature_dim, num_epochs)
    elapsed = time.perf_counter() - started
    _, per_epoch = LOSS_LINE.match(capsys.readouterr().out.strip()).groups()
    assert len(data_iter) * pause - 0.0005 <= float(per_epoch) <= elapsed / num_epochs + 0.0005


def test_train_concise_ch11_as_the_chapter_calls_it(d2l, framework, capsys, monkeypatch):
    from d2l import training
    animators = []
    make_animator = training.Animator

    def recording_animator(*args, **kwargs):
        animators.append(make_animator(*args, **kwargs))
        return animators[-1]

    monkeypatch.setattr(training, 'Animator', recording_animator)
    trainer, hyperparams = concise_trainer(framework)
    data_iter, _ = d2l.get_data_ch11(batch_size=10)
    # None: the chapter's cell ends with this call, and Jupyter would show a result.
    assert d2l.train_concise_ch11(trainer, hyperparams, data_iter) is None

    [animator] = animators
    losses = animator.Y[0]
    assert len(losses) == 2 * 1500 // 200           # two epochs by default, in every framework
    # From 0.5 (w = 0) down to the chapter's ~0.25.
    assert all(0.2 < loss < 0.5 for loss in losses) and losses[-1] < 0.3
    [line] = capsys.readouterr().out.splitlines()
    printed_loss, per_epoch = LOSS_LINE.match(line).groups()
    assert printed_loss == f'{losses[-1]:.3f}' and float(per_epoch) > 0


def plain_sgd(framework):
    """The framework's own plain SGD with learning rate 0.1, as train_concise_ch11 takes it."""
    if framework == 'pytorch':
        import torch
        return torch.optim.SGD, {'lr': 0.1}
    if framework == 'tensorflow':
        import tensorflow as tf
        return tf.keras.optimizers.SGD, {'learning_rate': 0.1}
    return 'sgd', {'learning_rate': 0.1}


def test_train_concise_ch11_takes_the_steps_of_train_ch11(d2l, framework, capsys):
    """The same learning rate trains alike in every framework: the framework's optimizer follows the
    gradient of half the squared error, as train_ch11 (and MXNet's L2Loss) does."""
    features, labels = d2l.read_airfoil(1500)
    data_iter, _ = d2l.get_data_ch11(batch_size=1500)   # one batch: the shuffle does not matter
    trainer, hyperparams = plain_sgd(framework)
    d2l.train_concise_ch11(trainer, hyperparams, data_iter, num_epochs=3)
    printed, _ = LOSS_LINE.match(capsys.readouterr().out.strip()).groups()
    X = numpy.hstack([features.astype(numpy.float64), numpy.ones((1500, 1))])
    theta = numpy.zeros(6)
    for _ in range(3):
        theta -= 0.1 * X.T @ (X @ theta - labels) / 1500
    expected = numpy.mean((X @ theta - labels) ** 2) / 2     # 0.409; twice the gradient would give 0.351
    assert float(printed) == pytest.approx(expected, abs=0.025)   # the weights start N(0, 0.01²), not at 0


def test_seed_makes_training_repeatable(d2l, framework, capsys):
    init_momentum_states, sgd_momentum = momentum_from_scratch(framework, d2l)

    def train(seed):
        d2l.seed(seed)
        data_iter, feature_dim = d2l.get_data_ch11(batch_size=10, n=400)
        return d2l.train_ch11(sgd_momentum, init_momentum_states(feature_dim),
                              {'lr': 0.02, 'momentum': 0.5}, data_iter, feature_dim, num_epochs=1)[1]

    first, again, other = train(0), train(0), train(1)
    assert first == again
    assert first != other


def test_train_2d_and_show_trace_2d_take_one_element_tensors(d2l, capsys):
    """Noisy gradient steps (the book's SGD section) turn x1, x2 into tensors of shape (1,)."""
    def noisy_gd(x1, x2, s1, s2):
        shift = d2l.tensor([0.5])
        return x1 - 0.1 * 2 * x1 + shift, x2 - 0.1 * 4 * x2 - shift, 0, 0

    results = d2l.train_2d(noisy_gd, steps=3)
    x1, x2 = -5.0, -2.0
    for _ in range(3):
        x1, x2 = x1 - 0.2 * x1 + 0.5, x2 - 0.4 * x2 - 0.5
    assert capsys.readouterr().out == f'epoch 3, x1: {x1:f}, x2: {x2:f}\n'
    d2l.show_trace_2d(lambda a, b: a ** 2 + 2 * b ** 2, results)
    line = d2l.plt.gca().get_lines()[0]
    assert numpy.allclose(line.get_xdata()[-1], x1) and numpy.allclose(line.get_ydata()[-1], x2)
    d2l.plt.close('all')
