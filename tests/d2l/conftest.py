"""Fixtures for the d2l library tests, which run once per framework, each in its
own environment:

    D2L_FRAMEWORK=pytorch .envs/pytorch/bin/python -m pytest tests/d2l -q

D2L_FRAMEWORK names a framework of build.yml; its `d2l_module` is the module
under test. The airfoil data comes from ../shared/data next to the checkout,
copied into a temporary D2L_DATA_DIR so the tests never download anything.

Only the standard library and pytest are imported here: this file is also
loaded by a plain `pytest` in the build environment, which has no NumPy.
"""
import importlib
import os
import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_CONFIG = REPO_ROOT / 'build.yml'
SHARED_DATA_DIR = REPO_ROOT.parent / 'shared' / 'data'
AIRFOIL_FILE = 'airfoil_self_noise.dat'

if not os.environ.get('D2L_FRAMEWORK'):
    # Without a framework environment the test modules cannot even be imported:
    # collect only test_environment.py, whose one test fails saying what to do.
    collect_ignore_glob = [path.name for path in Path(__file__).parent.glob('test_*.py')
                           if path.name != 'test_environment.py']


def read_d2l_modules(build_yml):
    """Map each framework of build.yml to its `d2l_module`.

    A few lines instead of PyYAML, which the framework environments do not
    have: `frameworks:` is a top-level key, each framework a 2-space-indented
    key, and `d2l_module:` one of its 4-space-indented fields.
    """
    modules, in_frameworks, framework = {}, False, None
    for line in build_yml.read_text().splitlines():
        text = line.split('#', 1)[0].rstrip()
        if not text:
            continue
        indent = len(text) - len(text.lstrip())
        key, _, value = text.strip().partition(':')
        if indent == 0:
            in_frameworks = key == 'frameworks'
        elif in_frameworks and indent == 2:
            framework = key
        elif in_frameworks and indent == 4 and key == 'd2l_module':
            modules[framework] = value.strip().strip('"\'')
    return modules


@pytest.fixture(scope='session')
def framework():
    """The framework under test: env D2L_FRAMEWORK, one of build.yml's frameworks."""
    modules = read_d2l_modules(BUILD_CONFIG)
    name = os.environ.get('D2L_FRAMEWORK')
    if name not in modules:
        pytest.fail(
            f'D2L_FRAMEWORK is {name!r}; set it to one of {sorted(modules)} (from '
            f'build.yml) and run in that framework\'s environment, e.g. '
            f'D2L_FRAMEWORK=pytorch .envs/pytorch/bin/python -m pytest tests/d2l',
            pytrace=False)
    return name


@pytest.fixture(scope='session')
def d2l_module_name(framework):
    """The name of the module under test: 'd2l.' + build.yml's d2l_module (e.g. d2l.torch)."""
    return 'd2l.' + read_d2l_modules(BUILD_CONFIG)[framework]


@pytest.fixture(scope='session')
def d2l(d2l_module_name, data_dir):
    """The d2l module of the framework under test."""
    return importlib.import_module(d2l_module_name)


@pytest.fixture(scope='session')
def data_dir(tmp_path_factory):
    """A D2L_DATA_DIR holding a copy of the airfoil data from ../shared/data."""
    source = SHARED_DATA_DIR / AIRFOIL_FILE
    if not source.is_file():
        pytest.fail(f'the tests need the airfoil data: put {AIRFOIL_FILE} '
                    f'(from http://d2l-data.s3-accelerate.amazonaws.com/) at {source}',
                    pytrace=False)
    cache = tmp_path_factory.mktemp('d2l-data')
    shutil.copy(source, cache / AIRFOIL_FILE)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv('D2L_DATA_DIR', str(cache))
        yield cache


@pytest.fixture(autouse=True)
def like_the_build(monkeypatch):
    """Run every test as the build runs the book: no animation; close figures afterwards."""
    from matplotlib import pyplot as plt
    monkeypatch.setenv('D2L_ANIMATE', '0')
    yield
    plt.close('all')


@pytest.fixture
def display_calls(monkeypatch):
    """Count IPython's display() and clear_output() calls: {'display': [...], 'clear_output': [...]}."""
    from IPython import display
    calls = {'display': [], 'clear_output': []}
    monkeypatch.setattr(display, 'display', lambda *args, **kwargs: calls['display'].append(args))
    monkeypatch.setattr(display, 'clear_output',
                        lambda *args, **kwargs: calls['clear_output'].append(kwargs))
    return calls
