"""The chapter's code, so the tests run the library exactly as the chapter calls it:
its momentum trainers are read from chapter_optimization/momentum.md itself, the
small 2-D objectives (globals there) are restated with their parameters."""
import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))  # bookbuild.read.dialect needs only the standard library

from bookbuild.read import dialect  # noqa: E402


def f_2d(x1, x2):
    return 0.1 * x1 ** 2 + 2 * x2 ** 2


def gd_2d_with(eta):
    """The chapter's gd_2d for the step size `eta` (a global in the chapter)."""
    def gd_2d(x1, x2, s1, s2):
        return (x1 - eta * 0.2 * x1, x2 - eta * 4 * x2, 0, 0)
    return gd_2d


def momentum_2d_with(eta, beta):
    """The chapter's momentum_2d for `eta` and `beta` (globals in the chapter)."""
    def momentum_2d(x1, x2, v1, v2):
        v1 = beta * v1 + 0.2 * x1
        v2 = beta * v2 + 4 * x2
        return x1 - eta * v1, x2 - eta * v2, v1, v2
    return momentum_2d


def momentum_from_scratch(framework, d2l):
    """The chapter's own (init_momentum_states, sgd_momentum) of the `framework` tab,
    read from chapter_optimization/momentum.md by the build's dialect reader."""
    frameworks = tuple(os.environ['D2L_FRAMEWORKS'].split())   # build.yml's, set by `make test-d2l`
    if framework not in frameworks:
        raise ValueError(f'the chapter has no {framework!r} tab')
    page = dialect.read(REPO_ROOT, Path('chapter_optimization/momentum.md'), frameworks)
    cells = [b.source for b in page.blocks if b.kind == 'code' and framework in b.tabs]
    imports = [line for line in cells[0].splitlines() if line.startswith(('import ', 'from '))
               and 'd2l' not in line]
    namespace = {'d2l': d2l}
    exec('\n'.join(imports), namespace)
    for name in ('init_momentum_states', 'sgd_momentum'):
        definition, = [c for c in cells if c.startswith(f'def {name}(')]
        exec(definition, namespace)
    return namespace['init_momentum_states'], namespace['sgd_momentum']


def concise_trainer(framework):
    """The chapter's train_concise_ch11 arguments of the `framework` tab: (trainer, hyperparams)."""
    if framework == 'pytorch':
        import torch
        return torch.optim.SGD, {'lr': 0.005, 'momentum': 0.9}
    if framework == 'tensorflow':
        import tensorflow as tf
        return tf.keras.optimizers.SGD, {'learning_rate': 0.005, 'momentum': 0.9}
    if framework == 'mxnet':
        return 'sgd', {'learning_rate': 0.005, 'momentum': 0.9}
    raise ValueError(f'the chapter has no {framework!r} tab')
