"""The book's saved code runs in this library whether or not a build's toc holds the preface: every name
the preface's `#@save` cells bind for this framework (d2l-tr's chapter_preface/index.md, read as the
build reads it) is bound here, to the same module; a module the environment cannot import is bound to
one whose use fails naming it."""
import ast
import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))  # the build's dialect and library readers need only the standard library

from bookbuild.library.saved import page_saved  # noqa: E402
from bookbuild.read import dialect  # noqa: E402

BOOK = REPO_ROOT.parent / 'shared' / 'book' / 'd2l-tr'
PREFACE = Path('chapter_preface/index.md')


def preface_statements(framework):
    """The statements of the preface's saved code for `framework`, one by one."""
    if not (BOOK / PREFACE).is_file():
        pytest.fail(f'the preface of the Turkish book is missing: {BOOK / PREFACE}', pytrace=False)
    frameworks = tuple(os.environ['D2L_FRAMEWORKS'].split())   # build.yml's, set by `make test-d2l`
    page = dialect.read(BOOK, PREFACE, frameworks)
    code = '\n'.join(saved.code for saved in page_saved(page, framework))
    return [ast.get_source_segment(code, node) for node in ast.parse(code).body]


def test_the_preface_binds_its_imports_in_the_library(d2l, framework):
    statements = preface_statements(framework)
    assert any(s.startswith('import ') for s in statements)   # the book's preface still saves its imports
    unavailable, namespace = [], {'__name__': d2l.__name__}   # as the library's own globals
    for statement in statements:
        before = dict(namespace)
        try:
            exec(statement, namespace)
        except (ImportError, RuntimeError):   # RuntimeError: a package built for another torch
            unavailable.append(statement)
            continue
        for name, value in namespace.items():
            if name != '__builtins__' and before.get(name) is not value:
                assert getattr(d2l, name, None) is value, f'{statement}: d2l.{name} is not what the preface binds'
    for statement in unavailable:
        for name in (alias.asname or alias.name.split('.')[0] for alias in ast.parse(statement).body[0].names):
            with pytest.raises(ModuleNotFoundError) as error:
                _ = getattr(d2l, name).anything
            assert error.value.name.split('.')[0] == statement.split()[1].split('.')[0]
