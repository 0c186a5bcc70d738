"""The book's library from its #@save cells (bookbuild/library): d2lbook's rules (d2lbook itself as the
oracle), the warning where the book's definition differs from ours, the kernels and the wheel using it,
the cache key by the saved code a page uses, `make lib` and `make check`'s drift test."""
from __future__ import annotations

import ast
import re
import shutil
import subprocess
import types
import zipfile
from pathlib import Path

import nbformat
import pytest
from books import INDEX, REFERENCES, ROOT, SHARED, Book

from bookbuild import config as book_config
from bookbuild import environments
from bookbuild.environments import LIBRARY_MARK, python_of
from bookbuild.errors import BookError, LibraryDrift, SourceError
from bookbuild.library import build_library, saved, write_sources
from bookbuild.read import dialect
from bookbuild.report import BuildReport

REAL = book_config.load(ROOT / "build.yml")
D2L_TR = SHARED / "book" / "d2l-tr"

SAVES = """# Kaydedilenler
:label:`sec_saves`

```{.python .input}
#@tab all
#@save
import sys
d2l = sys.modules[__name__]
```

İki katı:

```{.python .input}
#@tab all
def double(x):  #@save
    \"\"\"İki katı.\"\"\"
    return 2 * x

print(double(21))
```

```{.python .input}
#@tab mxnet, pytorch
def triple(x):  #@save
    return 3 * x
```

```{.python .input}
#@tab tensorflow
def triple(x):  #@save
    return x * 3
```

```{.python .input}
#@tab all
raise RuntimeError("bu defter burada durur")
```
"""
USES_DOUBLE = """# İkiler

```{.python .input}
#@tab all
import d2l, os
from importlib import import_module
d2l = import_module("d2l." + os.environ["D2L_MODULE"])
print(d2l.double(5), d2l.__file__)
```
"""
USES_TRIPLE = """# Üçler

```{.python .input}
#@tab all
import os
from importlib import import_module
d2l = import_module("d2l." + os.environ["D2L_MODULE"])
print(d2l.triple(5))
```
"""
NO_D2L = """# Hiç

```{.python .input}
#@tab all
print("yalnız", 7)
```
"""
INDEX_4 = INDEX.replace("ch/page\n", "ch/saves\nch/double\nch/triple\nch/none\n")


def library_book(root: Path) -> Book:
    """Cheap kernels (fixture-library-<framework>) whose d2l modules are only the book's saved code
    (d2l/fixture_<framework>.py: we have no hand-written part for them), so a page imports them without a
    framework."""
    root.mkdir()
    book = Book(root, {"index.md": INDEX_4, "kaynakca.md": REFERENCES, "ch/saves.md": SAVES,
                       "ch/double.md": USES_DOUBLE, "ch/triple.md": USES_TRIPLE, "ch/none.md": NO_D2L})
    text = (root / "build.yml").read_text()
    for fw in REAL.frameworks:
        text = text.replace(f"d2l_module: {fw.d2l_module}\n", f"d2l_module: fixture_{fw.name}\n")
        text = text.replace(f"FIXTURE_FRAMEWORK: {fw.name}\n",
                            f"FIXTURE_FRAMEWORK: {fw.name}\n      D2L_MODULE: fixture_{fw.name}\n")
        # Kernels of their own: the fixture kernels' specs are the project's, and those name its d2l.
        text = text.replace(f"kernel: fixture-{fw.name}\n", f"kernel: fixture-library-{fw.name}\n")
    (root / "build.yml").write_text(text)
    for fw in book.config.frameworks:
        environments.write_kernel(fw, book.config.kernel_env)
    return book


def line_of(text: str, start: str, after: int = 0) -> int:
    """The line of `text` (from 1) that starts with `start`, after line `after`."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith(start) and i > after)


def page_text(tmp_path: Path, name: str = "p.md") -> str:
    return (tmp_path / name).read_text(encoding="utf-8")


def page_of(text: str, tmp_path: Path, name: str = "p.md"):
    (tmp_path / name).write_text(text, encoding="utf-8")
    return dialect.read(tmp_path, Path(name), REAL.names)


# --- d2lbook's rules ---------------------------------------------------------------------------

def test_a_block_is_the_text_before_the_mark_the_unindented_lines_then_their_indented_lines(tmp_path):
    page = page_of("""# S
:label:`sec_s`

```{.python .input}
#@save
import a
import b

def not_saved():
    pass
```

```{.python .input}
x = 1
def f(y):  #@save
    return y

def g():
    pass
DATA = (  #@save
    1, 2)
```
""", tmp_path)
    first, second = saved.page_saved(page, "mxnet")
    assert first.code == "import a\nimport b"        # the blank line ends the imports, `def` is not saved
    assert second.code.startswith("def f(y):\n") and "def g" not in second.code and "x = 1" not in second.code
    assert "DATA = (\n    1, 2)" in second.code
    assert [n for n, _ in second.names] == ["f", "DATA"]
    assert dict(second.names)["DATA"] == line_of(page_text(tmp_path), "DATA = (")   # the page's line
    assert 'def f(y):\n    """Defined in :numref:`sec_s`"""\n    return y' in saved.generated([second])
    assert saved.page_saved(page, "pytorch") == []   # no #@tab: the first framework only


def test_a_cell_goes_to_the_frameworks_its_tab_names_and_methods_join_their_class(tmp_path):
    page = page_of("""# S

```{.python .input}
#@tab pytorch, tensorflow
class C:  #@save
    def a(self):
        return 1
```

```{.python .input}
#@tab all
@d2l.add_to_class(C)  #@save
def b(self):
    return 2
```
""", tmp_path)
    assert saved.page_saved(page, "mxnet")[0].code.startswith("@d2l.add_to_class(C)")
    text = saved.generated(saved.page_saved(page, "pytorch"))
    assert text == "class C:\n    def a(self):\n        return 1\n\n    def b(self):\n        return 2"
    with pytest.raises(SourceError, match=r"adds to a class that no page before it saves") as err:
        saved.generated(saved.page_saved(page, "mxnet"))
    assert err.value.line == line_of(page_text(tmp_path), "@d2l.add_to_class")


def test_saved_code_that_is_not_python_on_its_own_is_an_error_at_its_mark(tmp_path):
    page = page_of("# S\n\n```{.python .input}\ndef f():\n    x = 1  #@save\n    return x\n```\n", tmp_path)
    with pytest.raises(SourceError, match="not Python on its own") as err:
        saved.page_saved(page, "mxnet")
    assert (err.value.path, err.value.line) == (Path("p.md"), line_of(page_text(tmp_path), "    x = 1"))


D2LBOOK_LIB = """
import os, sys
from d2lbook import library
pages, out = sys.argv[1].split(","), sys.argv[2]
for tab in ("mxnet", "pytorch", "tensorflow"):
    path = os.path.join(out, tab + ".py")
    open(path, "w").write(library.HEADER)
    library.save_tab(pages, path, tab, "mxnet")
"""


def comparable(text: str) -> tuple[list[str], list[str]]:
    """Generated code as d2lbook and we both write it, but for isort's order of each block's imports
    (the build keeps the book's): (the import lines, sorted; every other line, in order)."""
    lines = [line for line in text.split("\n") if line.strip()]
    imports = [line for line in lines if line.startswith(("import ", "from "))]
    return sorted(imports), [line for line in lines if not line.startswith(("import ", "from "))]


def d2lbook_library(pages: list[Path], out: Path) -> dict[str, str]:
    python = python_of("d2lbook")
    if not python.exists():
        pytest.fail(f"{python} is missing: `make test` makes the d2lbook oracle environment", pytrace=False)
    subprocess.run([python, "-c", D2LBOOK_LIB, ",".join(map(str, pages)), str(out)], check=True,
                   capture_output=True, text=True, cwd=out)
    return {tab: (out / f"{tab}.py").read_text().split("# Don't edit it directly\n\n", 1)[1]
            for tab in ("mxnet", "pytorch", "tensorflow")}


def test_the_library_is_what_d2lbook_builds_from_the_real_book(tmp_path, monkeypatch):
    """Chapters 2, 3, 4 and 11 of the Turkish book, with the preface's imports, in toc order."""
    # Only the code cells matter here: the prose is read as it is, not turned into MyST (whose checks
    # some pages of the whole book do not pass yet).
    monkeypatch.setattr(dialect, "to_myst", lambda text, where, first: (text, ()))
    chapters = ["chapter_preface", "chapter_preliminaries", "chapter_linear-networks",
                "chapter_multilayer-perceptrons", "chapter_optimization"]
    order = []
    for chapter in chapters:
        index = dialect.read(D2L_TR, Path(chapter) / "index.md", REAL.names)
        order += [Path(chapter) / "index.md", *[e for e, _ in index.toc if (D2L_TR / e).is_file()]]
    pages = [dialect.read(D2L_TR, path, REAL.names) for path in order]
    theirs = d2lbook_library([D2L_TR / p for p in order], tmp_path)
    for fw in REAL.names:
        ours = saved.generated([s for page in pages for s in saved.page_saved(page, fw)])
        assert comparable(ours) == comparable(theirs[fw]), fw
        assert "def synthetic_data" in ours and "def train_ch11" in ours


# --- the library of a build: ours, with the book's definitions winning ------------------------------

def real_library(tmp_path: Path, text: str, source: Path = ROOT / "d2l"):
    page = page_of(text, tmp_path, "saves.md")
    config = book_config.load(ROOT / "build.yml")
    return build_library(config, types.SimpleNamespace(pages=[page]), source)


LINREG = """# S
:label:`sec_linreg`

```{.python .input}
#@tab all
def linreg(X, w, b):  #@save
    \"\"\"Bizimkinden farklı.\"\"\"
    return d2l.matmul(X, w) - b

def set_figsize(figsize=(3.5, 2.5)):  #@save
    \"\"\"Bizimkinin aynısı (belge dizgisi ve d2l. öneki dışında).\"\"\"
    use_svg_display()
    d2l.plt.rcParams['figure.figsize'] = figsize
```
"""


def test_where_the_books_definition_differs_from_ours_the_build_says_so_and_takes_the_books(tmp_path):
    library = real_library(tmp_path, LINREG)
    for fw in REAL.frameworks:
        module = (ROOT / "d2l" / f"{fw.d2l_module}.py").read_text().splitlines()
        ours = next(i for i, line in enumerate(module, 1) if line.startswith("def linreg("))
        assert {"name": "linreg", "framework": fw.name, "ours": f"d2l/{fw.d2l_module}.py:{ours}",
                "book": f"saves.md:{line_of(LINREG, 'def linreg(')}"} in library.differences
        text = library.modules[fw.name].text
        assert text.index(LIBRARY_MARK) > text.index("def linreg(") and text.count("def linreg(") == 2
    assert not [d for d in library.differences if d["name"] == "set_figsize"]   # the same code: no warning
    summary = BuildReport("html", library=library.differences).summary()   # what the console and report say
    assert f"warning: saves.md:{line_of(LINREG, 'def linreg(')}: [pytorch] the book's linreg differs from ours at " \
           f"d2l/torch.py:" in summary


def test_make_html_warns_where_the_books_definition_differs_from_ours(make_book):
    """A warning (kind library-drift) on the console and in report.json, not an error."""
    book = make_book(LINREG.replace(":label:`sec_linreg`", ":label:`sec_page`"))
    done = book.main("html")
    assert done.returncode == 0, done.stderr
    line = line_of(LINREG, "def linreg(")
    ours = line_of((ROOT / "d2l" / "torch.py").read_text(), "def linreg(")
    assert (f"warning: ch/page.md:{line}: [pytorch] the book's linreg differs from ours at d2l/torch.py:{ours}; "
            "the library takes the book's [library-drift]") in done.stdout
    assert {"name": "linreg", "framework": "pytorch", "ours": f"d2l/torch.py:{ours}",
            "book": f"ch/page.md:{line}"} in book.report()["library"]


def test_make_lib_writes_the_books_library_below_our_part_and_check_names_the_drift(tmp_path):
    source = tmp_path / "d2l"
    shutil.copytree(ROOT / "d2l", source)
    ours = (source / "torch.py").read_text()
    library = real_library(tmp_path, LINREG, source)
    drift = library.drift()
    assert isinstance(drift, LibraryDrift)
    book_line = line_of(LINREG, "def linreg(")
    assert f"d2l/torch.py: linreg is missing (the book saves it at saves.md:{book_line})" in str(drift)

    written = write_sources(library)
    assert sorted(p.name for p in written) == ["mxnet.py", "tensorflow.py", "torch.py"]
    text = (source / "torch.py").read_text()
    assert text.startswith(ours.rstrip("\n") + "\n\n\n" + LIBRARY_MARK)
    ast.parse(text)
    again = real_library(tmp_path, LINREG, source)
    assert again.drift() is None and write_sources(again) == []          # in sync, and nothing to write

    edited = LINREG.replace("return d2l.matmul(X, w) - b", "return d2l.matmul(X, w) + 2 * b")
    drift = real_library(tmp_path, edited, source).drift()
    line = line_of(text, "def linreg(", after=line_of(text, LIBRARY_MARK))
    assert f"d2l/torch.py:{line}: linreg differs from the book's, at saves.md:{book_line}" in str(drift)
    assert "set_figsize" not in str(drift)
    (source / "torch.py").write_text(text + "\ndef stray():\n    pass\n")
    drift = str(real_library(tmp_path, LINREG, source).drift())
    assert re.search(r"d2l/torch.py:\d+: stray is saved by no page of the build", drift)


def test_our_repository_is_in_sync_with_its_book():
    """The build's toc holds Momentum, which saves nothing: the library is our hand-written d2l as it is."""
    from bookbuild.read import book
    library = build_library(REAL, book.read_book(REAL))
    assert library.drift() is None and library.differences == [] and library.keys == {}
    assert all(library.files[Path("d2l") / p.relative_to(ROOT / "d2l")] == p.read_text()
               for p in (ROOT / "d2l").rglob("*.py"))


def test_a_pages_key_holds_the_saved_code_it_calls_and_what_that_calls_ours_included(tmp_path):
    """`train_ch11` is ours, and calls `linreg`: the book's linreg is part of a page calling train_ch11."""
    config = book_config.load(ROOT / "build.yml")
    users = [page_of("# K\n\n```{.python .input}\n#@tab all\nd2l.train_ch11(None, None, {}, None, 5)\n```\n",
                     tmp_path, "trains.md"),
             page_of("# P\n\n```{.python .input}\n#@tab all\nd2l.plot([1], [2])\n```\n", tmp_path, "plots.md")]

    def keys(text):
        book = types.SimpleNamespace(pages=[page_of(text, tmp_path, "saves.md"), *users])
        return build_library(config, book).keys

    before, after = keys(LINREG), keys(LINREG.replace("- b", "+ 0 * b"))
    for fw in REAL.names:
        assert before[(Path("trains.md"), fw)] != after[(Path("trains.md"), fw)]
        assert before[(Path("plots.md"), fw)] == after[(Path("plots.md"), fw)]



def test_the_library_built_last_time_is_kept_for_the_same_code_and_made_again_when_it_changes(tmp_path,
                                                                                             monkeypatch):
    """An edit of the book's prose changes nothing the library is built from: the kept one comes back, nothing is
    composed. An edit of a saved function, or of a page's code (which saved code its notebook uses), builds it
    again, with that function and that key."""
    from bookbuild.library import modules
    config, kept = book_config.load(ROOT / "build.yml"), tmp_path / "library.pickle"
    user = "# K\n\n```{.python .input}\n#@tab all\nd2l.linreg(1, 2, 3)\n```\n"

    def library(text, code=user):
        book = types.SimpleNamespace(pages=[page_of(text, tmp_path, "saves.md"), page_of(code, tmp_path, "k.md")])
        return build_library(config, book, kept=kept)

    first = library(LINREG)
    compose = modules.compose
    monkeypatch.setattr(modules, "compose", lambda *args: pytest.fail("composed again"))
    assert library(LINREG.replace("# S\n", "# S, düzenlendi\n")) == first   # the same lines
    monkeypatch.setattr(modules, "compose", compose)
    other = library(LINREG, user.replace("d2l.linreg(1, 2, 3)", "print(1)"))
    edited = library(LINREG.replace("- b", "+ 0 * b"))
    assert all("+ 0 * b" in edited.modules[fw].text for fw in REAL.names)
    assert all((Path("k.md"), fw) in first.keys and (Path("k.md"), fw) not in other.keys for fw in REAL.names)

# --- kernels, cache key, wheel ------------------------------------------------------------------

def printed(path: Path) -> str:
    return "".join(o.get("text", "") for c in nbformat.read(path, as_version=4).cells for o in c.get("outputs", []))


def executed(report: dict) -> set[tuple[str, str]]:
    return {(r["page"], r["framework"]) for r in report["notebooks"] if r["status"] in ("executed", "failed")
            and r["run"] == "book"}


def test_kernels_import_the_books_library_and_an_edit_reexecutes_only_the_pages_using_it(tmp_path):
    book = library_book(tmp_path / "book")
    with pytest.raises(BookError):   # SAVES stops at its last cell; its saved code is in the library anyway
        book.build()
    assert executed(book.report()) == {(f"ch/{page}.md", fw) for page in ("saves", "double", "triple", "none")
                                       for fw in REAL.names}
    assert {r["page"] for r in book.report()["notebooks"] if r["status"] == "failed"} == {"ch/saves.md"}
    for fw in REAL.names:
        double = printed(book.paths.executed / fw / "ch" / "double.ipynb")
        assert double.startswith("10 ") and f"{book.paths.library}/" in double, fw   # the build's library
        assert printed(book.paths.executed / fw / "ch" / "triple.ipynb") == "15\n"

    wheel = next((book.paths.site("html") / "_d2l").glob("*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        module = archive.read("d2l/fixture_pytorch.py").decode()
    assert "def double(x):" in module and "return 3 * x" in module

    # Without its failing cell (a failed notebook is never cached), and double edited: the pages using it run.
    edited = SAVES.replace('raise RuntimeError("bu defter burada durur")', 'print("bitti")')
    book.write("ch/saves.md", edited.replace("return 2 * x", "return x + x"))
    book.build()
    assert executed(book.report()) == {(page, fw) for page in ("ch/saves.md", "ch/double.md") for fw in REAL.names}
    book.write("ch/saves.md", edited.replace("return 2 * x", "return x + x").replace("return x * 3", "return x+x+x"))
    book.build()
    assert executed(book.report()) == {("ch/saves.md", "tensorflow"), ("ch/triple.md", "tensorflow")}
    assert printed(book.paths.executed / "tensorflow" / "ch" / "triple.ipynb") == "15\n"


def test_check_fails_when_d2l_is_not_the_books_library(tmp_path):
    book = library_book(tmp_path / "book")
    done = book.main("check")
    assert done.returncode == 2
    assert "d2l/ is not the library the book's #@save cells define" in done.stderr
    line = line_of(SAVES, "def double(")
    assert f"d2l/fixture_pytorch.py: double is missing (the book saves it at ch/saves.md:{line})" in done.stderr
    assert "run `make lib`" in done.stderr
