"""Execute, cache, merge and render on small fixture books (cheap kernels, see conftest)."""
from __future__ import annotations

import logging
import re

import nbformat
import pytest
from books import INDEX, REFERENCES, Book, Workbench, made_once

from bookbuild import errors
from bookbuild.config import data_mirror

PAGE = """# Sayfa
:label:`sec_page`

Giriş, bkz. :numref:`sec_page` ve :numref:`sec_sgd`; :cite:`Polyak.1964`.

```{.python .input}
#@tab all
import os, sys
fw = os.environ["FIXTURE_FRAMEWORK"]
print("shared", 6 * 7)
```

Ara metin.

```{.python .input}
print("mxnet", sys.version_info[0])
```

```{.python .input}
#@tab pytorch
print("pytorch", 1 + 1)
```

```{.python .input}
#@tab tensorflow
print("tensorflow", 2 + 2)
```

Bir metin daha.

```{.python .input}
#@tab all
unseen = 1
```

Ve bir tane daha.

```{.python .input}
#@tab pytorch
print("only", "pytorch")
```

Son söz.

:begin_tab:`mxnet`
MXNet tartışması
:end_tab:

:begin_tab:`pytorch`
PyTorch tartışması
:end_tab:

:begin_tab:`tensorflow`
TensorFlow tartışması
:end_tab:
"""


def statuses(report, page="ch/page.md"):
    return {r.framework: r.status for r in report.notebooks if r.page == page}


@pytest.fixture(scope="session")
def executed_book(tmp_path_factory, fixture_kernels):
    """PAGE's book built once, from an empty cache, for the whole run: its first build's report and site
    are read as they are; a test that builds again works on `executed_copy`, its cache included."""
    def build(folder):
        Book(folder, {"index.md": INDEX, "kaynakca.md": REFERENCES, "ch/page.md": PAGE}).build()
    return Book(made_once(tmp_path_factory, "execution", build))


@pytest.fixture(scope="session")
def workbench(executed_book, tmp_path_factory):
    return Workbench(executed_book, tmp_path_factory.getbasetemp() / "execution-book")


@pytest.fixture
def executed_copy(workbench):
    return workbench.fresh()


def test_build_executes_each_framework_and_merges_into_tabs(executed_book):
    book = executed_book
    assert {n["framework"]: n["status"] for n in book.report()["notebooks"]} == \
        {"mxnet": "executed", "pytorch": "executed", "tensorflow": "executed"}
    html = book.html("ch/page")
    groups = html.count('class="sphinx-tabs d2l-tabs')
    assert groups == 4      # shared output, own code, pytorch only, discussions
    for text in ("shared 42", "mxnet 3", "pytorch 2", "tensorflow 4",
                 "MXNet tartışması", "PyTorch tartışması", "TensorFlow tartışması"):
        assert text in html
    assert html.count("unseen") == 1                            # same code, no output: shown once, no tabs
    assert html.count("Bu kısmın") == 2                         # pytorch-only group: empty MXNet and TensorFlow panels
    assert "Traceback" not in html and ":numref:" not in html
    cells = {n["framework"]: n["cells"] for n in book.report()["notebooks"]
             if n["page"] == "ch/page.md" and n["run"] == "book"}
    assert [c["status"] for c in cells["pytorch"]] == ["executed"] * 4
    assert all(c["seconds"] is not None for c in cells["pytorch"])
    for download in ("page-mxnet.ipynb", "page-pytorch.ipynb", "page-tensorflow.ipynb"):
        assert download in html


def test_cache_reexecutes_only_what_changed_and_keeps_the_seconds(executed_copy):
    book = executed_copy
    first = {n["framework"]: [c["seconds"] for c in n["cells"]] for n in book.report()["notebooks"]}
    assert set(statuses(book.build()).values()) == {"cached"}
    again = {n["framework"]: [c["seconds"] for c in n["cells"]] for n in book.report()["notebooks"]}
    assert again == first                                       # cached cells keep the seconds of their run
    book.write("ch/page.md", PAGE.replace("Ara metin.", "Değişen ara metin."))
    assert set(statuses(book.build()).values()) == {"cached"}    # a prose edit starts no kernel
    assert "Değişen ara metin." in book.html("ch/page")
    book.write("ch/page.md", PAGE.replace('print("pytorch", 1 + 1)', 'print("pytorch", 1 + 2)'))
    assert statuses(book.build()) == {"mxnet": "cached", "pytorch": "executed", "tensorflow": "cached"}
    assert "pytorch 3" in book.html("ch/page")


def test_the_kernels_leave_no_history_in_the_users_ipython(executed_copy, tmp_path, monkeypatch):
    """IPython keeps every cell a kernel runs in the user's ~/.ipython, and their own IPython shells then
    offer the book's cells back: the build's kernels keep no history."""
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    book = executed_copy
    book.write("ch/page.md", PAGE.replace('print("shared", 6 * 7)', 'print("shared", 6 * 8)'))
    assert set(statuses(book.build()).values()) == {"executed"}
    assert (tmp_path / "ipython").is_dir()                       # the kernels did read it
    assert not list((tmp_path / "ipython").rglob("history.sqlite*"))


FAILING = """# Bozuk
:label:`sec_bozuk`

```{.python .input}
#@tab all
import numpy as np
def contour_of(values):
    return np.ma.masked_invalid(values).sum()
print("önce", 1)
```

Ara metin.

```{.python .input}
#@tab mxnet, pytorch
values = [1.0, 2.0]
total = contour_of(values)
print("toplam", total)
```

```{.python .input}
#@tab tensorflow
values = [object()]
total = contour_of(values)
print("toplam", total)
```

```{.python .input}
#@tab all
print("sonra", 2)
```
"""


def test_a_failing_cell_stops_only_its_notebook_and_the_site_shows_it(make_book):
    book = make_book(PAGE, **{"ch/bozuk.md": FAILING})
    book.write("index.md", book.root.joinpath("index.md").read_text().replace("ch/page\n", "ch/page\nch/bozuk\n"))
    with pytest.raises(errors.ExecutionError) as error:
        book.build()
    # One message at the line of the failing call inside the cell, then the innermost frame.
    message = str(error.value)
    call = len(FAILING.splitlines()) - FAILING.splitlines()[::-1].index("total = contour_of(values)")
    assert message.startswith(f"ch/bozuk.md:{call}: [tensorflow] cell 2/3: TypeError: "), message
    assert f"at ch/bozuk.md:{call}: total = contour_of(values)" in message
    assert re.search(r"innermost: .*numpy/ma/core\.py:\d+, in masked_invalid", message), message
    assert "make check TAB=tensorflow" in message and "\x1b[" not in message
    # Every other notebook of every framework ran, and the site was rendered anyway.
    report = book.report()
    assert report["status"] == "failed" and report["error"]["kind"] == "cell error"
    status = {(n["page"], n["framework"]): n["status"] for n in report["notebooks"]}
    assert status.pop(("ch/bozuk.md", "tensorflow")) == "failed"
    assert set(status.values()) == {"executed"} and len(status) == 5
    failed = next(n for n in report["notebooks"] if n["framework"] == "tensorflow" and n["page"] == "ch/bozuk.md")
    assert failed["cells"][-1]["number"] == 2 and failed["cells"][-1]["status"] == "failed"
    assert "pytorch 2" in book.html("ch/page")                       # the other page is whole
    html = book.html("ch/bozuk")
    notice = html[html.index("Derleme hatası"):][:600]
    assert "TensorFlow" in notice and "2/3" in notice                  # the page names the framework and cell
    assert html.count("toplam 3.0") == 2                               # MXNet and PyTorch printed their totals
    assert html.count('class="d2l-failure"') == 1 and "TypeError" in html
    assert html.count('class="d2l-not-run"') == 1                      # TensorFlow's third cell did not run
    assert html.count("sonra 2") == 2 and html.count("önce 1") == 3    # what ran before the failure is shown
    # Once fixed, only the failed notebook runs again.
    book.write("ch/bozuk.md", FAILING.replace("[object()]", "[1.0, 2.0]"))
    report = book.build()
    assert {(n.page, n.framework): n.status for n in report.notebooks if n.status != "cached"} == \
        {("ch/bozuk.md", "tensorflow"): "executed"}
    assert 'class="d2l-failure"' not in book.html("ch/bozuk") and "Derleme hatası" not in book.html("ch/bozuk")


def test_check_one_tab_then_merge_without_executing(make_book, tmp_path_factory):
    book = make_book(PAGE)
    report = book.build("check", frameworks=("pytorch",))
    assert statuses(report) == {"pytorch": "executed"}
    assert not book.paths.site("html").exists()
    for name in ("mxnet", "tensorflow"):
        book.build("check", frameworks=(name,))
    executed = book.paths.executed
    assert sorted(p.name for p in executed.iterdir()) == ["mxnet", "pytorch", "tensorflow"]

    moved = tmp_path_factory.mktemp("artifacts")
    for framework in executed.iterdir():
        framework.rename(moved / framework.name)
    report = book.build(executed_dir=moved)
    assert set(statuses(report).values()) == {"loaded"}
    assert "pytorch 2" in book.html("ch/page") and "tensorflow 4" in book.html("ch/page")

    book.write("ch/page.md", PAGE.replace('print("pytorch", 1 + 1)', 'print("pytorch", 5)'))
    with pytest.raises(errors.SourceError, match=r"pytorch/ch/page.ipynb was executed from other code"):
        book.build(executed_dir=moved)
    (moved / "mxnet" / "ch" / "page.ipynb").unlink()
    with pytest.raises(errors.BookErrors, match=r"no executed notebook .*mxnet/ch/page.ipynb"):
        book.build(executed_dir=moved)


def test_shards_split_the_pages_of_a_framework(make_book):
    pages = {f"ch/p{i}.md": f"# Sayfa {i}\n\n```{{.python .input}}\n#@tab all\nprint({i})\n```\n" for i in range(5)}
    index = "# Deneme\n\n```toc\n" + "\n".join(f"ch/p{i}" for i in range(5)) + "\n```\n"
    book = make_book("# Boş\n", **pages)
    book.write("index.md", index)
    executed = {}
    for shard in ((1, 2), (2, 2)):
        report = book.build("check", frameworks=("pytorch",), shard=shard)
        executed[shard] = sorted(r.page for r in report.notebooks if r.run == "book")
    assert executed[(1, 2)] == ["ch/p0.md", "ch/p2.md", "ch/p4.md"]
    assert executed[(2, 2)] == ["ch/p1.md", "ch/p3.md"]


def test_jobs_run_kernels_side_by_side_fairly(make_book, caplog):
    """With JOBS=3 and two pages, the first three kernels are one per framework (no framework starves)."""
    pages = {f"ch/p{i}.md": f"# Sayfa {i}\n\n```{{.python .input}}\n#@tab all\nimport time; time.sleep(1)\n"
                            f"print({i})\n```\n" for i in range(2)}
    book = make_book("# Boş\n", **pages)
    book.write("index.md", "# Deneme\n\n```toc\nch/p0\nch/p1\n```\n")
    from bookbuild import pipeline
    config = book.config.with_options(jobs=3)
    build_logger = logging.getLogger("bookbuild")   # it does not propagate: caplog listens to it directly
    build_logger.addHandler(caplog.handler)
    try:
        with caplog.at_level("INFO", logger="bookbuild.execute.kernel_session"):
            pipeline.build(config, pipeline.Options("check"), paths=book.paths)
    finally:
        build_logger.removeHandler(caplog.handler)
    lines = [record.getMessage() for record in caplog.records]
    started = [re.match(r"\[(\w+)\] (\S+): executing", line).groups() for line in lines if ": executing" in line]
    assert sorted(fw for fw, _ in started[:3]) == ["mxnet", "pytorch", "tensorflow"]
    assert len(started) == 6


SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>\n'


def test_images_are_staged_numbered_and_checked(make_book):
    page = ("# Sayfa\n\nBkz. :numref:`fig_kare`.\n\n![Bir kare](../img/kare.svg)\n:width:`300px`\n"
            ":label:`fig_kare`\n\n```{.python .input}\n#@tab all\nprint(1)\n```\n")
    book = make_book(page, **{"img/kare.svg": SVG})
    book.build()
    html = book.html("ch/page")
    assert re.search(r'<img [^>]*src="[^"]*kare\.svg"[^>]*style="width: 300px;"', html)
    assert "Şekil 1.1" in html and "Bir kare" in html
    assert (book.paths.staging / "img" / "kare.svg").read_text() == SVG
    (book.root / "img" / "kare.svg").unlink()
    with pytest.raises(errors.SourceError, match=r"ch/page.md:5: image ../img/kare.svg not found"):
        book.build()


def test_open_in_colab_where_ci_publishes_the_notebooks(executed_copy):
    """With `launch:` in build.yml, every page with code links each framework's notebook in Colab, from
    the branch CI publishes the site's _notebooks/ to."""
    book = executed_copy
    book.write("build.yml", (book.root / "build.yml").read_text() +
               "launch:\n  repository: d2l-tr/defterler\n  branch: yayin\n")
    book.build()
    html = book.html("ch/page")
    for name in ("mxnet", "pytorch", "tensorflow"):
        assert (f'href="https://colab.research.google.com/github/d2l-tr/defterler/blob/yayin/ch/page-{name}.ipynb"'
                in html)
        assert (book.paths.site("html") / "_notebooks" / "ch" / f"page-{name}.ipynb").is_file()


WRITER = """# Yazan sayfa

```{.python .input}
#@tab all
import os
os.makedirs(os.path.join('..', 'data'), exist_ok=True)
with open('../data/x.csv', 'w') as f:
    f.write('NumRooms,Price\\n')
with open('sonuc.txt', 'w') as f:
    f.write('written beside the page')
print(open('../img/veri.txt').read(), open('yaninda.txt').read(), sorted(os.listdir('../data')))
```
"""


def tree_of(folder) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and "_build" not in p.relative_to(folder).parts}


def test_a_page_writes_under_build_and_reads_what_lies_beside_it(make_book):
    """Kernels run in a working tree of their own under _build/work/, mirroring the page's place in the
    book: `../data/x.csv` lands there, never in the book's folder, and what the page reads from the book
    (a file beside it, an image its code names) is there to read, and the data mirror's files in ../data,
    where the book's own download looks first."""
    book = make_book(WRITER, **{"img/veri.txt": "image data", "ch/yaninda.txt": "beside"})
    before = tree_of(book.root)
    book.build()
    assert tree_of(book.root) == before                      # nothing written in the book's folder
    html = book.html("ch/page").replace("&#39;", "'")
    offline = sorted(f.name for f in data_mirror().iterdir() if f.is_file())   # the book's download finds them
    assert offline and f"image data beside {sorted(offline + ['x.csv'])}" in html
    for fw in book.config.frameworks:
        tree = book.paths.work / fw.kernel / "ch" / "page"
        assert (tree / "data" / "x.csv").read_text() == "NumRooms,Price\n"
        assert (tree / "ch" / "sonuc.txt").is_file()


SEEDED = """# Tohum

```{.python .input}
#@tab mxnet
from mxnet import np, npx
import numpy, random
npx.set_np()
print('mxnet', np.random.uniform(size=2), numpy.random.rand(), random.random())
```

```{.python .input}
#@tab pytorch
import numpy, random, torch
print('pytorch', torch.randn(2), numpy.random.rand(), random.random())
```

```{.python .input}
#@tab tensorflow
import numpy, random, tensorflow as tf
print('tensorflow', tf.random.normal([2]), numpy.random.rand(), random.random())
```
"""


def printed(book, framework) -> str:
    """What a page's cells printed in one framework (its executed notebook)."""
    executed = nbformat.read(book.paths.executed / framework / "ch" / "page.ipynb", as_version=4)
    return "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)


def test_every_kernel_is_seeded_at_start_without_importing_d2l(tmp_path, fixture_kernels):
    """A page that never imports d2l draws the same random numbers in every build (D2L_SEED): Python's,
    NumPy's and the framework's own generator (two builds from empty caches, in the real kernels)."""
    pages = {"index.md": INDEX, "kaynakca.md": REFERENCES, "ch/page.md": SEEDED}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = Book(tmp_path / "a", pages, real=True), Book(tmp_path / "b", pages, real=True)
    first.build()
    second.build()
    for fw in first.config.frameworks:
        text = printed(first, fw.name)
        assert text.startswith(fw.name) and text == printed(second, fw.name)


def test_a_package_the_requirements_say_cannot_be_installed_fails_with_their_reason(make_book):
    """`import torchvision` in PyTorch: requirements/pytorch.txt says why it cannot be had (`# unavailable:`),
    and the error gives that reason instead of asking to add it there."""
    book = make_book("# Görüntü\n\n```{.python .input}\n#@tab pytorch\nimport torchvision\n```\n", real=True)
    with pytest.raises(errors.EnvironmentProblem) as error:
        book.build("check", frameworks=("pytorch",))
    message = str(error.value)
    assert message.startswith("ch/page.md:5: [pytorch] cell 1/1: ModuleNotFoundError: No module named 'torchvision'")
    assert "requirements/pytorch.txt says `torchvision` cannot be installed: PyPI's torchvision" in message
