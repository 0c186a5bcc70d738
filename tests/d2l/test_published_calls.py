"""The pinned environment runs the book's own code as it is published: whole pages of d2l-tr whose
calls decide the pins (requirements/<framework>.txt), read as the build reads them and executed
verbatim, with the library the book's `#@save` cells make of the pages they name:

* pandas.md: pandas 1.x (`fillna(mean())` beside a text column, 0/1 `get_dummies`, into tensors);
* ndarray.md: `float(a)` and `int(a)` of a one-element array (numpy before 2.4);
* sgd.md: `d2l.show_trace_2d` plots a list of Python numbers and one-element tensors (numpy before 1.24);
* probability.md: tensorflow_probability in TensorFlow, torch.distributions in PyTorch.
"""
import os
import sys
import types
from pathlib import Path

import matplotlib
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))  # the build's dialect and library readers need only the standard library

from bookbuild.library.saved import page_saved  # noqa: E402
from bookbuild.read import dialect  # noqa: E402

BOOK = REPO_ROOT.parent / 'shared' / 'book' / 'd2l-tr'
PAGES = {  # page: the pages whose #@save code it calls (in toc order)
    'chapter_preliminaries/pandas.md': [],
    'chapter_preliminaries/ndarray.md': [],
    'chapter_preliminaries/probability.md': ['chapter_preliminaries/calculus.md'],
    'chapter_optimization/sgd.md': ['chapter_preliminaries/calculus.md', 'chapter_optimization/gd.md'],
}


def read(page):
    if not (BOOK / page).is_file():
        pytest.fail(f'the Turkish book is missing: {BOOK / page}', pytrace=False)
    return dialect.read(BOOK, Path(page), tuple(os.environ['D2L_FRAMEWORKS'].split()))


def library(d2l, framework, pages):
    """The d2l module as a build of these pages makes it: ours, then their saved code (the book's wins)."""
    module = types.ModuleType(d2l.__name__)
    module.__dict__.update(vars(d2l))
    module.d2l = module
    for page in pages:
        for saved in page_saved(read(page), framework):
            exec(compile(saved.code, str(BOOK / page), 'exec'), module.__dict__)
    return module


@pytest.mark.parametrize('page', sorted(PAGES))
def test_the_page_runs_verbatim(page, d2l, framework, tmp_path, monkeypatch):
    matplotlib.use('agg')
    work = tmp_path / 'book' / Path(page).parent   # pandas.md writes ../data/house_tiny.csv
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    namespace = {'__name__': '__main__'}
    cells = [block for block in read(page).blocks if block.kind == 'code' and framework in (block.tabs or [framework])]
    assert cells
    for number, cell in enumerate(cells, 1):
        code = '\n'.join(line for line in cell.source.splitlines() if not line.lstrip().startswith('%'))
        exec(compile(code, f'{page}, cell {number} (line {cell.line})', 'exec'), namespace)
        if namespace.get('d2l') is d2l:   # the page imported the library: the build's, with the book's code
            namespace['d2l'] = library(d2l, framework, PAGES[page])
    matplotlib.pyplot.close('all')
