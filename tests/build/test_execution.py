"""Stages 3-6 on small fixture books, with the real framework kernels."""
from __future__ import annotations

import json
import re

import pytest

from bookbuild import pipeline
from bookbuild.execute import ExecutionError

PAGE = """# Sayfa
:label:`sec_page`

Giriş, bkz. :numref:`sec_page`.

```{.python .input}
#@tab all
import sys
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


def statuses(reports):
    return {r.framework: r.status for r in reports if r.page == "ch/page.md"}


def test_build_executes_each_framework_and_merges_into_tabs(make_book):
    book = make_book(PAGE)
    reports = book.build()
    assert statuses(reports) == {"mxnet": "executed", "pytorch": "executed", "tensorflow": "executed"}
    html = book.html("ch/page")
    assert html.count('class="sphinx-tabs d2l-tabs') == 4      # shared output, own code, pytorch only, discussions
    for text in ("shared 42", "mxnet 3", "pytorch 2", "tensorflow 4",
                 "MXNet tartışması", "PyTorch tartışması", "TensorFlow tartışması"):
        assert text in html
    assert html.count("unseen") == 1                            # same code, no output: shown once, no tabs
    assert html.count("Bu kısmın") == 2                         # pytorch-only group: empty MXNet and TensorFlow panels
    assert "Traceback" not in html and ":numref:" not in html
    report = json.loads(book.paths.report.read_text())
    cells = {n["framework"]: n["cells"] for n in report["notebooks"] if n["page"] == "ch/page.md"}
    assert [c["status"] for c in cells["pytorch"]] == ["executed"] * 4
    for download in ("page-mxnet.ipynb", "page-pytorch.ipynb", "page-tensorflow.ipynb"):
        assert download in html


def test_cache_reexecutes_only_what_changed(make_book):
    book = make_book(PAGE)
    book.build()
    assert set(statuses(book.build()).values()) == {"cached"}
    book.write("ch/page.md", PAGE.replace("Ara metin.", "Değişen ara metin."))
    assert set(statuses(book.build()).values()) == {"cached"}    # a prose edit starts no kernel
    assert "Değişen ara metin." in book.html("ch/page")
    book.write("ch/page.md", PAGE.replace('print("pytorch", 1 + 1)', 'print("pytorch", 1 + 2)'))
    assert statuses(book.build()) == {"mxnet": "cached", "pytorch": "executed", "tensorflow": "cached"}
    assert "pytorch 3" in book.html("ch/page")


def test_failing_cell_stops_the_build_and_leaves_no_site(make_book):
    book = make_book(PAGE)
    book.build()
    assert (book.paths.site("html") / "index.html").exists()
    book.write("ch/page.md", PAGE.replace('print("tensorflow", 2 + 2)', 'print("tensorflow", 2 / 0)'))
    with pytest.raises(ExecutionError) as error:
        book.build()
    message = str(error.value)
    assert message.startswith("ch/page.md:25: [tensorflow] cell 2/3 failed: ZeroDivisionError: division by zero")
    assert "make check TAB=tensorflow" in message and "\x1b[" not in message
    assert not book.paths.site("html").exists()


def test_unknown_reference_fails_the_render(make_book):
    book = make_book("# Sayfa\n\nBkz. :numref:`sec_nowhere`.\n")
    with pytest.raises(pipeline.BuildError, match="no site was left"):
        book.build()
    assert not book.paths.site("html").exists()


def test_check_one_tab_then_merge_without_executing(make_book, tmp_path_factory):
    book = make_book(PAGE)
    reports = book.build(only=["pytorch"], render_site=False)
    assert statuses(reports) == {"pytorch": "executed"}
    assert not book.paths.site("html").exists()
    for name in ("mxnet", "tensorflow"):
        book.build(only=[name], render_site=False)
    executed = book.paths.executed
    assert sorted(p.name for p in executed.iterdir()) == ["mxnet", "pytorch", "tensorflow"]

    moved = tmp_path_factory.mktemp("artifacts")
    for framework in executed.iterdir():
        framework.rename(moved / framework.name)
    reports = book.build(executed_dir=moved)
    assert set(statuses(reports).values()) == {"loaded"}
    assert "pytorch 2" in book.html("ch/page") and "tensorflow 4" in book.html("ch/page")

    book.write("ch/page.md", PAGE.replace('print("pytorch", 1 + 1)', 'print("pytorch", 5)'))
    with pytest.raises(pipeline.BuildError, match=r"pytorch/ch/page.ipynb: executed from other code"):
        book.build(executed_dir=moved)
    (moved / "mxnet" / "ch" / "page.ipynb").unlink()
    with pytest.raises(pipeline.BuildError, match=r"no executed mxnet notebook for ch/page.md"):
        book.build(executed_dir=moved)


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
    with pytest.raises(pipeline.BuildError, match=r"ch/page.md:5: image ../img/kare.svg not found"):
        book.build()
