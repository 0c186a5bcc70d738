"""The d2l library for MXNet: `from d2l import mxnet as d2l`.

Only what MXNet does its own way lives here (tensor aliases, devices, the
model, its gradients and parameter updates); plots, timing, data download and
the training loop come from the shared modules. Importing this module turns on
MXNet's NumPy interface (npx.set_np(): the book's MXNet code uses
mxnet.np arrays) and seeds every RNG with int(D2L_SEED) when that env
variable is set.
"""
import os
import sys

# The preface's MXNet imports (#@save), which the book's saved code uses as this module's globals.
import mxnet
from mxnet import autograd, context, gluon, image, init, np, npx  # noqa: F401
from mxnet.gluon import nn, rnn  # noqa: F401

from . import training
from .common import *  # noqa: F401,F403  (the framework-neutral API, and the preface's imports)
from .common import DATA_HUB, DATA_URL, device_helpers  # used here
from .data import FASHION_MNIST, airfoil_iter, fashion_mnist_files  # by name: the preface saves `data`

# The book's saved code calls this module d2l (d2l.DATA_HUB[...] = ...), as its preface's #@save cell
# `d2l = sys.modules[__name__]` does in a book that holds the preface.
d2l = sys.modules[__name__]

npx.set_np()


# MXNet's NumPy arrays do not speak NumPy's array protocol: `numpy.asarray(a)` wraps one in an array
# of objects, so Matplotlib rejects it (`plt.contour(x1, x2, f(x1, x2))`: "ufunc 'isfinite' not
# supported"), and NumPy functions that MXNet does not implement refuse a mix of both kinds. The
# book's own code hands MXNet arrays to Matplotlib, as the published edition did; these two methods
# let it: an MXNet array converts to its NumPy copy, and what MXNet cannot do NumPy does.
def _array(self, dtype=None, copy=None):
    values = self.asnumpy()
    return values if dtype is None else values.astype(dtype, copy=False)


def _as_numpy(value):
    if isinstance(value, np.ndarray):
        return value.asnumpy()
    if isinstance(value, (list, tuple)):
        return type(value)(_as_numpy(v) for v in value)
    return value


_mxnet_array_function = np.ndarray.__array_function__


def _array_function(self, func, types, args, kwargs):
    result = _mxnet_array_function(self, func, types, args, kwargs)
    if result is NotImplemented:
        return func(*_as_numpy(args), **{k: _as_numpy(v) for k, v in kwargs.items()})
    return result


if not hasattr(np.ndarray, '__array__'):
    np.ndarray.__array__ = _array
    np.ndarray.__array_function__ = _array_function

# The book's framework-neutral names for tensor functions.
size = lambda a: a.size
transpose = lambda a: a.T
ones_like = np.ones_like
ones = np.ones
zeros_like = np.zeros_like
zeros = np.zeros
tensor = np.array
arange = np.arange
meshgrid = np.meshgrid
sin = np.sin
sinh = np.sinh
cos = np.cos
cosh = np.cosh
tanh = np.tanh
linspace = np.linspace
exp = np.exp
log = np.log
normal = np.random.normal
rand = np.random.rand
matmul = np.dot
int32 = np.int32
int64 = np.int64
float32 = np.float32
concat = np.concatenate
stack = np.stack
abs = np.abs
eye = np.eye
numpy = lambda x, *args, **kwargs: x.asnumpy(*args, **kwargs)
reshape = lambda x, *args, **kwargs: x.reshape(*args, **kwargs)
to = lambda x, *args, **kwargs: x.as_in_context(*args, **kwargs)
reduce_sum = lambda x, *args, **kwargs: x.sum(*args, **kwargs)
reduce_mean = lambda x, *args, **kwargs: x.mean(*args, **kwargs)
argmax = lambda x, *args, **kwargs: x.argmax(*args, **kwargs)
astype = lambda x, *args, **kwargs: x.astype(*args, **kwargs)
expand_dims = lambda x, *args, **kwargs: np.expand_dims(x, *args, **kwargs)


def cpu():
    """The CPU device."""
    return npx.cpu()


def gpu(i=0):
    """The i-th GPU device."""
    return npx.gpu(i)


def num_gpus():
    """How many GPUs there are."""
    return npx.num_gpus()


try_gpu, try_all_gpus = device_helpers(cpu, gpu, num_gpus)


def seed(n):
    """Seed Python's, NumPy's and MXNet's random number generators with n."""
    training.seed_python_and_numpy(n)
    mxnet.random.seed(n)


def linreg(X, w, b):
    """The linear regression model X w + b."""
    return np.dot(X, w) + b


def squared_loss(y_hat, y):
    """Half the squared error of each example (y is reshaped like y_hat)."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def evaluate_loss(net, data_iter, loss):
    """The mean of `loss` over every example of `data_iter`."""
    return training.mean_loss(net, data_iter, loss, lambda y, out: y.reshape(out.shape))


def load_array(data_arrays, batch_size, is_train=True):
    """A Gluon DataLoader; for training it reshuffles every epoch with NumPy's global RNG (see `seed`)."""
    dataset = gluon.data.ArrayDataset(*data_arrays)
    return gluon.data.DataLoader(dataset, batch_size, shuffle=is_train)


DATA_HUB['bert.base'] = (DATA_URL + 'bert.base.zip', '7b3820b35da691042e5d34c0971ac3edbd80d3f4')
DATA_HUB['bert.small'] = (DATA_URL + 'bert.small.zip', 'a4e718a47137ccd1809c9107ab4f5edd317bae2c')


class FashionMNIST(gluon.data.vision.FashionMNIST):
    """Gluon's own Fashion-MNIST, over the files `d2l.download` has (D2L_DATA_DIR, else DATA_MIRROR, else
    the network) and checked against DATA_HUB; Gluon checks them against the same SHA-1s and so never
    downloads them itself."""

    def __init__(self, train=True, transform=None):
        self._files = fashion_mnist_files()
        super().__init__(root=os.path.dirname(self._files['train_images']), train=train, transform=transform)

    def _get_data(self):
        self._train_data, self._train_label, self._test_data, self._test_label = (
            (os.path.basename(self._files[part]), DATA_HUB[f'fashion_mnist_{part}'][1]) for part in FASHION_MNIST)
        super()._get_data()


def load_data_fashion_mnist(batch_size, resize=None):
    """The book's Fashion-MNIST iterators (train shuffled, test), images optionally resized. No worker
    processes: the build's kernels run side by side, one core each."""
    dataset = gluon.data.vision
    trans = [dataset.transforms.ToTensor()]
    if resize:
        trans.insert(0, dataset.transforms.Resize(resize))
    trans = dataset.transforms.Compose(trans)
    mnist_train = FashionMNIST(train=True).transform_first(trans)
    mnist_test = FashionMNIST(train=False).transform_first(trans)
    return (gluon.data.DataLoader(mnist_train, batch_size, shuffle=True),
            gluon.data.DataLoader(mnist_test, batch_size, shuffle=False))


def get_data_ch11(batch_size=10, n=1500):
    """The first n airfoil examples, standardized: (shuffled data_iter, feature_dim)."""
    return airfoil_iter(load_array, np.array, batch_size, n)


def train_ch11(trainer_fn, states, hyperparams, data_iter, feature_dim,
               num_epochs=2):
    """Train linear regression from scratch with `trainer_fn(params, states, hyperparams)`.

    The weights start N(0, 0.01^2) (MXNet's RNG), the bias at 0. After each
    minibatch's backward pass `trainer_fn` updates [w, b] in place from their
    .grad. Prints the final loss and the training seconds per epoch; returns
    (seconds at each evaluation, losses).
    """
    w = np.random.normal(scale=0.01, size=(feature_dim, 1))
    b = np.zeros(1)
    w.attach_grad()
    b.attach_grad()
    net, loss = lambda X: linreg(X, w, b), squared_loss

    def train_step(X, y):
        with autograd.record():
            l = loss(net(X), y).mean()
        l.backward()
        trainer_fn([w, b], states, hyperparams)

    whole_data = training.as_one_batch(data_iter, np.concatenate)
    return training.fit_ch11(train_step, lambda: evaluate_loss(net, whole_data, loss),
                             data_iter, num_epochs)


def train_concise_ch11(tr_name, hyperparams, data_iter, num_epochs=2):
    """Train linear regression with the Gluon optimizer named `tr_name` (e.g. 'sgd').

    Prints like `train_ch11`; L2Loss is half the squared error, as in `train_ch11`.
    Returns nothing, as in the book: a cell ending with this call shows only
    the printed line and the figure.
    """
    net = nn.Sequential()
    net.add(nn.Dense(1))
    net.initialize(init.Normal(sigma=0.01))
    trainer = gluon.Trainer(net.collect_params(), tr_name, hyperparams)
    loss = gluon.loss.L2Loss()

    def train_step(X, y):
        with autograd.record():
            l = loss(net(X), y)
        l.backward()
        trainer.step(X.shape[0])

    whole_data = training.as_one_batch(data_iter, np.concatenate)
    training.fit_ch11(train_step, lambda: evaluate_loss(net, whole_data, loss),
                      data_iter, num_epochs)


training.seed_from_environment(seed)
