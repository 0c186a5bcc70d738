"""Fixtures for the d2l library tests, which run once per framework, each in its
own environment:

    make test-d2l

D2L_FRAMEWORK names a framework of build.yml and D2L_MODULE its `d2l_module`, the
module under test (`make test-d2l` sets both, and D2L_FRAMEWORKS, from build.yml).
The airfoil data comes from ../shared/data next to the checkout, copied into a
temporary D2L_DATA_DIR so the tests never download anything.

Only the standard library and pytest are imported here: this file is also
loaded by a plain `pytest` in the build environment, which has no NumPy.
"""
import importlib
import os
import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA_DIR = REPO_ROOT.parent / 'shared' / 'data'
AIRFOIL_FILE = 'airfoil_self_noise.dat'

if not os.environ.get('D2L_FRAMEWORK'):
    # Without a framework environment the test modules cannot even be imported:
    # collect only test_environment.py, whose one test fails saying what to do.
    collect_ignore_glob = [path.name for path in Path(__file__).parent.glob('test_*.py')
                           if path.name != 'test_environment.py']


@pytest.fixture(scope='session')
def framework():
    """The framework under test, and its module: D2L_FRAMEWORK and D2L_MODULE, which
    `make test-d2l` sets from build.yml (as `python -m bookbuild frameworks --table` reads it)."""
    name, module = os.environ.get('D2L_FRAMEWORK'), os.environ.get('D2L_MODULE')
    if not (name and module):
        pytest.fail('run the library tests through `make test-d2l`: it sets D2L_FRAMEWORK and D2L_MODULE '
                    'from build.yml and picks the framework\'s environment', pytrace=False)
    return name


@pytest.fixture(scope='session')
def d2l_module_name(framework):
    """The name of the module under test: 'd2l.' + build.yml's d2l_module (e.g. d2l.torch)."""
    return 'd2l.' + os.environ['D2L_MODULE']


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
