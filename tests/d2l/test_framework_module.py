"""The framework module's names: tensor aliases, devices and seeding."""
import importlib.util
import random

import numpy
import pytest

# What the chapters call besides the training functions tested elsewhere.
PUBLIC_NAMES = [
    'use_svg_display', 'set_figsize', 'set_axes', 'plot', 'plt', 'Animator', 'Timer',
    'Accumulator', 'show_trace_2d', 'train_2d', 'linreg', 'squared_loss', 'evaluate_loss',
    'load_array', 'get_data_ch11', 'train_ch11', 'train_concise_ch11', 'download',
    'DATA_HUB', 'DATA_URL', 'numpy', 'arange', 'zeros', 'ones', 'tensor', 'reshape',
    'reduce_sum', 'reduce_mean', 'normal', 'matmul', 'exp', 'log', 'size', 'try_gpu', 'seed']


@pytest.mark.parametrize('name', PUBLIC_NAMES)
def test_module_provides(d2l, name):
    assert hasattr(d2l, name)


def test_shared_code_is_shared_not_copied(d2l):
    from d2l import data, plotting, training
    assert d2l.Animator is plotting.Animator and d2l.train_2d is training.train_2d
    assert d2l.DATA_HUB is data.DATA_HUB and d2l.download is data.download


def test_tensor_aliases(d2l):
    x = d2l.arange(6)
    numpy.testing.assert_array_equal(d2l.numpy(x), numpy.arange(6))
    assert isinstance(d2l.numpy(x), numpy.ndarray)
    matrix = d2l.reshape(d2l.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), (2, 3))
    numpy.testing.assert_array_equal(d2l.numpy(matrix), [[1, 2, 3], [4, 5, 6]])
    assert float(d2l.reduce_sum(matrix)) == 21.0
    assert float(d2l.reduce_mean(matrix)) == 3.5
    assert d2l.size(matrix) == 6
    product = d2l.matmul(matrix, d2l.ones((3, 1)))
    numpy.testing.assert_array_equal(d2l.numpy(product), [[6], [15]])
    numpy.testing.assert_array_equal(d2l.numpy(d2l.zeros((2, 1))), [[0], [0]])
    numpy.testing.assert_allclose(d2l.numpy(d2l.exp(d2l.zeros(2))), [1, 1])


def test_chapter_figure_values(d2l):
    """The chapter plots beta ** d2l.numpy(d2l.arange(40))."""
    x = d2l.numpy(d2l.arange(40))
    # MXNet's arange is float32: the powers are float32 too.
    numpy.testing.assert_allclose(0.9 ** x, 0.9 ** numpy.arange(40.0), rtol=1e-5)


def test_normal_draws_with_the_given_scale(d2l, framework):
    draw = {'pytorch': lambda: d2l.normal(0.0, 0.01, size=(1000, 1)),
            'tensorflow': lambda: d2l.normal(shape=(1000, 1), stddev=0.01),
            'mxnet': lambda: d2l.normal(scale=0.01, size=(1000, 1))}[framework]
    values = d2l.numpy(draw())
    assert values.shape == (1000, 1)
    assert 0.008 < values.std() < 0.012 and abs(values.mean()) < 0.002


def test_try_gpu_falls_back_to_the_cpu(d2l, framework):
    beyond_the_last_gpu = d2l.num_gpus()
    if framework == 'tensorflow':
        with d2l.try_gpu(beyond_the_last_gpu):
            assert d2l.ones(1).device.endswith('CPU:0')
    else:
        assert d2l.try_gpu(beyond_the_last_gpu) == d2l.cpu()
    assert len(d2l.try_all_gpus()) == max(d2l.num_gpus(), 1)


def test_seed_seeds_python_numpy_and_the_framework(d2l, framework):
    draw = {'pytorch': lambda: d2l.numpy(d2l.normal(0.0, 1.0, size=(3,))),
            'tensorflow': lambda: d2l.numpy(d2l.normal(shape=(3,))),
            'mxnet': lambda: d2l.numpy(d2l.normal(size=(3,)))}[framework]

    def draws(seed):
        d2l.seed(seed)
        return random.random(), numpy.random.rand(), draw().tolist()

    assert draws(5) == draws(5)
    first, other = draws(5), draws(6)
    assert all(a != b for a, b in zip(first, other, strict=True))


def test_D2L_SEED_seeds_on_import(d2l, d2l_module_name, monkeypatch):
    """Importing the module seeds every generator with D2L_SEED. Its code runs again into a new module
    object, as an import in a new kernel runs it (a new interpreter would import the framework again:
    seconds for TensorFlow); sys.modules keeps the module the other tests use."""
    monkeypatch.setenv('D2L_SEED', '3')
    random.seed(0)
    numpy.random.seed(0)
    spec = importlib.util.find_spec(d2l_module_name)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    drawn = [random.random(), numpy.random.rand()]
    random.seed(3)
    numpy.random.seed(3)
    assert drawn == [random.random(), numpy.random.rand()]
