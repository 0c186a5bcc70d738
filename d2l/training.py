"""Training helpers shared by every framework: timing, counting, 2-D optimizer
traces, the chapter-11 training loop and seeding of Python's and NumPy's RNGs.

The framework modules supply what differs (tensors, gradients, parameter
updates) as small functions; nothing here imports a deep-learning framework.
"""
import itertools
import os
import random
import time

import numpy

from .plotting import Animator

# The mark of a timing in a notebook's output, for the book build's tab check: a machine's speed is
# not something the tabs must agree on. (bookbuild/in_kernel.py declares the same string.)
TIMING = 'application/vnd.d2l.timing+json'


class Seconds(float):
    """A duration measured by Timer: a float that, shown as a cell's result, says it is a timing."""

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {'text/plain': repr(float(self)), TIMING: {'seconds': float(self)}}


class Timer:
    """Record several running times. Starts on creation."""

    def __init__(self):
        self.times = []
        self.start()

    def start(self):
        """Start (or restart) the timer."""
        self.tik = time.perf_counter()

    def stop(self):
        """Stop the timer, record the time since `start` and return it (seconds)."""
        self.times.append(Seconds(time.perf_counter() - self.tik))
        return self.times[-1]

    def avg(self):
        """The mean of the recorded times."""
        return Seconds(sum(self.times) / len(self.times))

    def sum(self):
        """The sum of the recorded times."""
        return Seconds(sum(self.times))

    def cumsum(self):
        """The running totals of the recorded times."""
        return list(itertools.accumulate(self.times))


class Accumulator:
    """Keep running sums of n values."""

    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        """Add one number (or 0-d tensor) to each sum."""
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def reset(self):
        """Set every sum back to 0."""
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]


def train_2d(trainer, steps=20, f_grad=None):
    """Optimize a 2-D objective with `trainer`, starting from (-5, -2).

    `trainer(x1, x2, s1, s2[, f_grad])` returns the new (x1, x2, s1, s2), where
    s1, s2 is the optimizer's state. Prints the final point and returns every
    point visited, [(x1, x2), ...], ready for `show_trace_2d`.
    """
    x1, x2, s1, s2 = -5, -2, 0, 0
    results = [(x1, x2)]
    for i in range(steps):  # noqa: B007  (the book's train_2d, as it saves it: the last `i` is printed below)
        if f_grad:
            x1, x2, s1, s2 = trainer(x1, x2, s1, s2, f_grad)
        else:
            x1, x2, s1, s2 = trainer(x1, x2, s1, s2)
        results.append((x1, x2))
    print(f'epoch {i + 1}, x1: {scalar(x1):f}, x2: {scalar(x2):f}')
    return results


def scalar(value):
    """A Python float from a number or a one-element array or tensor of any shape
    (a noisy gradient step makes x1 a tensor of shape (1,))."""
    return numpy.asarray(value, dtype=float).item()


def mean_loss(net, data_iter, loss, reshape_like):
    """The mean of `loss` over every example of `data_iter`: the loop behind each
    framework's `evaluate_loss`. `reshape_like(y, out)` shapes the labels like the outputs."""
    metric = Accumulator(2)  # sum of losses, number of losses
    for X, y in data_iter:
        out = net(X)
        losses = numpy.asarray(loss(out, reshape_like(y, out)))
        metric.add(losses.sum(), losses.size)
    return metric[0] / metric[1]


def as_one_batch(data_iter, concat):
    """`data_iter` as a list holding one minibatch of every example.

    The training loop evaluates the loss on the whole data set every 200
    examples; in one pass instead of one per minibatch the value is the same
    (the mean over all examples) and costs a fraction of the time.
    """
    features, labels = zip(*data_iter)
    return [(concat(list(features)), concat(list(labels)))]


# Examples between two evaluations of the loss on the whole data set.
EXAMPLES_PER_EVALUATION = 200


def fit_ch11(train_step, evaluate, data_iter, num_epochs):
    """Run the chapter-11 training loop and plot the loss.

    Calls `train_step(X, y)` for every minibatch of `data_iter` (anything
    iterable again each epoch with a len(), e.g. a list of (X, y) batches),
    and every 200 examples records `evaluate()`, the loss on the whole data
    set, in an Animator; the final loss is also recorded if training ends
    between two evaluations.

    Prints `loss: <last loss>, <seconds> sec/epoch`, where seconds is the time
    spent training (evaluating and plotting excluded) divided by num_epochs.
    Returns (training seconds elapsed at each evaluation, loss at each
    evaluation) as two lists of equal length.
    """
    animator = Animator(xlabel='epoch', ylabel='loss',
                        xlim=[0, num_epochs], ylim=[0.22, 0.35])
    batches_per_epoch = len(data_iter)
    seconds_at_evaluations = []
    train_timer = Timer()  # runs only while training: stopped around evaluations

    def record_loss(epochs_done):  # call with train_timer stopped
        seconds_at_evaluations.append(train_timer.sum())
        animator.add(epochs_done, (evaluate(),))

    examples, batches = 0, 0
    for _ in range(num_epochs):
        for X, y in data_iter:
            train_step(X, y)
            examples += X.shape[0]
            batches += 1
            if examples % EXAMPLES_PER_EVALUATION == 0:
                train_timer.stop()
                record_loss(batches / batches_per_epoch)
                train_timer.start()
    train_timer.stop()
    if examples % EXAMPLES_PER_EVALUATION or not seconds_at_evaluations:
        record_loss(batches / batches_per_epoch)
    print(f'loss: {animator.Y[0][-1]:.3f}, '
          f'{train_timer.sum() / num_epochs:.3f} sec/epoch')
    return seconds_at_evaluations, animator.Y[0]


def seed_python_and_numpy(seed):
    """Seed Python's `random` and NumPy's global random number generator."""
    random.seed(seed)
    numpy.random.seed(seed)


def seed_from_environment(seed):
    """Call `seed(int(D2L_SEED))` if env D2L_SEED is set (the build sets it)."""
    value = os.environ.get('D2L_SEED')
    if value is not None and value.strip():
        seed(int(value))
