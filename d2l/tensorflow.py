"""The d2l library for TensorFlow: `from d2l import tensorflow as d2l`.

Only what TensorFlow does its own way lives here (tensor aliases, devices, the
model, its gradients and parameter updates); plots, timing, data download and
the training loop come from the shared modules. Importing this module seeds
every RNG with int(D2L_SEED) when that env variable is set.
"""
import os
import sys
from pathlib import Path

# The preface's TensorFlow imports (#@save), which the book's saved code uses as this module's globals.
import numpy as np  # noqa: F401
import tensorflow as tf

from . import training
from .common import *  # noqa: F401,F403  (the framework-neutral API, and the preface's imports)
from .common import (
    DATA_HUB,  # used here
    device_helpers,
)
from .data import airfoil_iter, fashion_mnist_files, sha1_of  # by name: the preface saves `data`

# The book's saved code calls this module d2l (d2l.DATA_HUB[...] = ...), as its preface's #@save cell
# `d2l = sys.modules[__name__]` does in a book that holds the preface.
d2l = sys.modules[__name__]

# The book's framework-neutral names for tensor functions.
reshape = tf.reshape
ones_like = tf.ones_like
ones = tf.ones
zeros_like = tf.zeros_like
zeros = tf.zeros
tensor = tf.constant
arange = tf.range
meshgrid = tf.meshgrid
sin = tf.sin
sinh = tf.sinh
cos = tf.cos
cosh = tf.cosh
tanh = tf.tanh
linspace = tf.linspace
exp = tf.exp
log = tf.math.log
normal = tf.random.normal
rand = tf.random.uniform
matmul = tf.matmul
reduce_sum = tf.reduce_sum
reduce_mean = tf.reduce_mean
argmax = tf.argmax
int32 = tf.int32
int64 = tf.int64
float32 = tf.float32
concat = tf.concat
stack = tf.stack
abs = tf.abs
eye = tf.eye
sigmoid = tf.sigmoid
expand_dims = tf.expand_dims
transpose = tf.transpose
numpy = lambda x, *args, **kwargs: x.numpy(*args, **kwargs)
size = lambda x, *args, **kwargs: tf.size(x, *args, **kwargs).numpy()
astype = lambda x, *args, **kwargs: tf.cast(x, *args, **kwargs)


def cpu():
    """The CPU device (a context manager)."""
    return tf.device('/CPU:0')


def gpu(i=0):
    """The i-th GPU device (a context manager)."""
    return tf.device(f'/GPU:{i}')


def num_gpus():
    """How many GPUs there are."""
    return len(tf.config.list_physical_devices('GPU'))


try_gpu, try_all_gpus = device_helpers(cpu, gpu, num_gpus)


def seed(n):
    """Seed Python's, NumPy's, TensorFlow's and Keras's random number generators with n."""
    training.seed_python_and_numpy(n)
    tf.keras.utils.set_random_seed(n)


def linreg(X, w, b):
    """The linear regression model X w + b."""
    return tf.matmul(X, w) + b


def squared_loss(y_hat, y):
    """Half the squared error of each example (y is reshaped like y_hat)."""
    return (y_hat - tf.reshape(y, tf.shape(y_hat))) ** 2 / 2


def evaluate_loss(net, data_iter, loss):
    """The mean of `loss` over every example of `data_iter`."""
    return training.mean_loss(net, data_iter, loss, lambda y, out: tf.reshape(y, tf.shape(out)))


def load_array(data_arrays, batch_size, is_train=True):
    """A tf.data pipeline of minibatches.

    For training it reshuffles every epoch with TensorFlow's RNG, reproducible
    after `seed`, over the whole data set: a smaller shuffle buffer (upstream
    d2l's 1000) draws the first minibatches from the first examples only, and
    the early losses then differ from the other frameworks' tabs.
    """
    dataset = tf.data.Dataset.from_tensor_slices(data_arrays)
    if is_train:
        dataset = dataset.shuffle(buffer_size=len(data_arrays[0]))
    return dataset.batch(batch_size)


def fashion_mnist():
    """tf.keras's own Fashion-MNIST loader, `(x_train, y_train), (x_test, y_test)`, over the files
    `d2l.download` has (D2L_DATA_DIR, else DATA_MIRROR, else the network): Keras reads its cache
    (~/.keras/datasets/fashion-mnist in Keras 2, whatever KERAS_HOME says) and downloads what is not
    there, so each checked file is
    put there first, by Keras' own get_file from the local copy (Keras checks MD5 or SHA-256 only, so
    a file already there is checked here, against DATA_HUB's SHA-1, and replaced if it differs)."""
    for part, path in fashion_mnist_files().items():
        for _ in range(2):   # a file that fails the check is fetched once more
            cached = tf.keras.utils.get_file(os.path.basename(path), origin=Path(path).resolve().as_uri(),
                                             cache_subdir=os.path.join('datasets', 'fashion-mnist'))
            if sha1_of(cached) == DATA_HUB[f'fashion_mnist_{part}'][1]:
                break
            os.remove(cached)
    return tf.keras.datasets.fashion_mnist.load_data()


def load_data_fashion_mnist(batch_size, resize=None):
    """The book's Fashion-MNIST pipelines (train shuffled, test), images optionally resized."""
    mnist_train, mnist_test = fashion_mnist()
    process = lambda X, y: (tf.expand_dims(X, axis=3) / 255, tf.cast(y, dtype='int32'))
    resize_fn = lambda X, y: (tf.image.resize_with_pad(X, resize, resize) if resize else X, y)
    return (tf.data.Dataset.from_tensor_slices(process(*mnist_train)).batch(batch_size)
            .shuffle(len(mnist_train[0])).map(resize_fn),
            tf.data.Dataset.from_tensor_slices(process(*mnist_test)).batch(batch_size).map(resize_fn))


def get_data_ch11(batch_size=10, n=1500):
    """The first n airfoil examples, standardized: (shuffled data_iter, feature_dim)."""
    return airfoil_iter(load_array, tf.constant, batch_size, n)


def train_ch11(trainer_fn, states, hyperparams, data_iter, feature_dim,
               num_epochs=2):
    """Train linear regression from scratch with `trainer_fn(params, grads, states, hyperparams)`.

    The weights start N(0, 0.01^2) (TensorFlow's RNG), the bias at 0; both are
    tf.Variables that `trainer_fn` updates in place from the minibatch
    gradients it is given. Prints the final loss and the training seconds per
    epoch; returns (seconds at each evaluation, losses).
    """
    w = tf.Variable(tf.random.normal(shape=(feature_dim, 1), mean=0, stddev=0.01),
                    trainable=True)
    b = tf.Variable(tf.zeros(1), trainable=True)
    net, loss = lambda X: linreg(X, w, b), squared_loss

    # The gradients in one compiled graph (eager TensorFlow spends milliseconds per op);
    # `trainer_fn` stays plain Python: readers' trainers may keep Python state.
    @tf.function(reduce_retracing=True)
    def gradients(X, y):
        with tf.GradientTape() as tape:
            l = tf.reduce_mean(loss(net(X), y))
        return tape.gradient(l, [w, b])

    def train_step(X, y):
        trainer_fn([w, b], gradients(X, y), states, hyperparams)

    whole_data = training.as_one_batch(data_iter, lambda parts: tf.concat(parts, axis=0))
    return training.fit_ch11(train_step, lambda: evaluate_loss(net, whole_data, loss),
                             data_iter, num_epochs)


def train_concise_ch11(trainer_fn, hyperparams, data_iter, num_epochs=2):
    """Train linear regression with a Keras optimizer `trainer_fn(**hyperparams)`.

    Prints like `train_ch11`; the loss is half the squared error, as in `train_ch11`.
    Returns nothing, as in the book: a cell ending with this call shows only
    the printed line and the figure.
    """
    net = tf.keras.Sequential([tf.keras.layers.Dense(
        1, kernel_initializer=tf.random_normal_initializer(stddev=0.01))])
    optimizer = trainer_fn(**hyperparams)
    # Per-example losses: evaluate_loss averages them over the whole data set.
    loss = tf.keras.losses.MeanSquaredError(reduction='none')

    @tf.function(reduce_retracing=True)
    def train_step(X, y):
        with tf.GradientTape() as tape:
            out = net(X)
            # Half the squared error, as MXNet's L2Loss and `train_ch11`: the same gradients, so the same
            # learning rate trains alike in every framework (upstream d2l trains on the whole error here).
            l = tf.reduce_mean(loss(tf.reshape(y, tf.shape(out)), out)) / 2
        grads = tape.gradient(l, net.trainable_variables)
        optimizer.apply_gradients(zip(grads, net.trainable_variables))

    # MeanSquaredError has no 1/2 factor: halve it to compare with `train_ch11`.
    whole_data = training.as_one_batch(data_iter, lambda parts: tf.concat(parts, axis=0))
    training.fit_ch11(train_step, lambda: evaluate_loss(net, whole_data, loss) / 2,
                      data_iter, num_epochs)


training.seed_from_environment(seed)
