"""Tab agreement: the frameworks' tabs of a group must print the same lines, their numbers equal
within build.yml's tolerance; timings are ignored; other shapes are "not comparable"."""
from __future__ import annotations

import pytest

from bookbuild import errors
from bookbuild.agreement import compare_group, numbers
from bookbuild.config import Agreement

PAGE = """# Sayfa

```{.python .input}
#@tab all
import os
fw = os.environ["FIXTURE_FRAMEWORK"]
loss = {"mxnet": 0.246, "pytorch": 0.243, "tensorflow": 0.251}[fw]
print(f"loss: {loss:.3f}, {len(fw) * 0.137:.3f} sec/epoch")
print(f"epoch 20, x1: -0.943467, x2: -0.000073")
```

Ara metin.

```{.python .input}
#@tab all
print({"mxnet": "array([1., 2.])", "pytorch": "tensor([1., 2.])",
       "tensorflow": "<tf.Tensor: shape=(2,), dtype=float32, numpy=array([1., 2.], dtype=float32)>"}[fw])
```

Son.

```{.python .input}
#@tab mxnet, pytorch
def step(x, lr):
    return x - lr * 2 * x
```

```{.python .input}
#@tab tensorflow
def step(x, lr):
    return x - lr * 3 * x      # drifted: another update than the other tabs
```

```{.python .input}
#@tab all
print(f"x: {step(1.0, 0.1):.4f}")
```
"""


def test_the_report_compares_every_group_and_names_the_drifting_tab(make_book):
    book = make_book(PAGE)
    report = book.build()
    entries = {entry["line"]: entry for entry in book.report()["agreement"]}
    # A group's line is its first code line (the line under a `#@tab` mark).
    assert entries[5]["status"] == "agree"                      # losses within 0.05 relative; sec/epoch ignored
    assert entries[5]["frameworks"] == ["mxnet", "pytorch", "tensorflow"] and entries[5]["page"] == "ch/page.md"
    assert entries[16]["status"] == "not comparable"            # tensor reprs of three libraries
    assert entries[24]["status"] == "disagree"
    assert "mxnet 0.8, pytorch 0.8, tensorflow 0.7" in entries[24]["detail"]
    assert "tabs disagree at ch/page.md:24" in report.summary()
    assert report.status == "done"                              # not strict: reported, the site is built


def test_strict_agreement_fails_the_build_at_the_group(make_book):
    book = make_book(PAGE)
    book.write("build.yml", (book.root / "build.yml").read_text().replace("  atol: 0.01\n",
                                                                           "  atol: 0.01\n  strict: true\n"))
    with pytest.raises(errors.DisagreementError) as error:
        book.build()
    assert str(error.value).startswith("ch/page.md:24: the tabs mxnet, pytorch, tensorflow print different results")
    with pytest.raises(errors.DisagreementError):
        book.build("check")                                     # `make check` is always strict


def test_numbers_timings_and_tolerances():
    settings = Agreement(rtol=0.05, atol=0.01, ignore=("sec/epoch", "examples/sec", "sec"))
    assert numbers("loss: 0.246, 0.162 sec/epoch", settings.ignore) == [0.246, None]
    assert numbers("12.5 examples/sec on cpu(0)", settings.ignore) == [None, 0.0]
    assert numbers("float32 x1: −0.5e-3", settings.ignore) == [-0.0005]
    assert compare_group({"a": ["loss: 0.246"], "b": ["loss: 0.258"]}, settings)[0] == "agree"
    assert compare_group({"a": ["loss: 0.246"], "b": ["loss: 0.300"]}, settings)[0] == "disagree"
    assert compare_group({"a": ["1", "2"], "b": ["1"]}, settings)[0] == "not comparable"
