"""A page's reseeded run starts in the kernel its book run left (issue 28's cost), and draws what a fresh
kernel of the reseeded twin draws: cheap kernels (tests/books.py), each framework's tab drawing numbers of
its own, so that every tab needs another seed."""
from __future__ import annotations

import nbformat
from books import INDEX, REFERENCES, Book

from bookbuild import pipeline
from bookbuild.agreement.compare import PLOT_DATA, TIMING

# Each tab draws its own numbers in the last cell (the reseeded runs go to it); the first cell prints what
# this kernel ran before: nothing in a fresh kernel, the book's seed in the one its book run left.
PAGE = """# Sayfa

```{.python .input}
#@tab all
import os, random, sys
import numpy as np
from d2l import plotting, training
fw = os.environ["FIXTURE_FRAMEWORK"]
seed = int(os.environ.get("D2L_SEED", "0"))
print("ran before:", getattr(sys, "d2l_test_seed", "nothing"), "in", os.getcwd())
sys.d2l_test_seed = seed
BREAK
```

Bir zamanlayıcı.

```{.python .input}
#@tab all
timer = training.Timer()
timer.stop()
```

Bir şekil.

```{.python .input}
#@tab all
plotting.plt.plot([0, 1, 2]);
```

Çekilişler.

```{.python .input}
#@tab all
rng = np.random.default_rng([seed, ("mxnet", "pytorch", "tensorflow").index(fw)])
print(fw, seed, random.random(), np.random.rand(), rng.normal())
print(np.array([1 / 3]))
```

What the page sets for the rest of its kernel's life, after what the reseeded runs need.

```{.python .input}
#@tab all
np.set_printoptions(precision=2)
plotting.plt.rcParams["figure.figsize"] = (1, 1)
plotting.plt.switch_backend("agg")
```
"""


def build(folder, jobs: int, breaking: str = "") -> Book:
    folder.mkdir()
    book = Book(folder, {"index.md": INDEX, "kaynakca.md": REFERENCES, "ch/page.md": PAGE.replace("BREAK", breaking)})
    pipeline.build(book.config.with_options(jobs=jobs), pipeline.Options(), paths=book.paths)
    return book


def cells(book, framework: str, reseeded: bool) -> list:
    name = "page.reseeded.ipynb" if reseeded else "page.ipynb"
    notebook = nbformat.read(book.paths.executed / framework / "ch" / name, as_version=4)
    return [c for c in notebook.cells if c.cell_type == "code"]


def printed(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs)


def test_a_reseeded_run_starts_in_its_book_runs_kernel_and_draws_as_a_fresh_one(tmp_path, fixture_kernels):
    """JOBS=2: every reseeded run starts in the kernel its book run left. JOBS=1 parks one kernel at most: the
    first two reseeded runs start in fresh kernels, TensorFlow's in its book run's. Both builds draw the same
    other numbers than the book's and show the same outputs, whatever the book's run set last (print options,
    matplotlib's backend and settings); the start-up code still marks timings and figures."""
    reused, mixed = build(tmp_path / "reused", jobs=2), build(tmp_path / "mixed", jobs=1)
    ran_before = {"mxnet": "nothing", "pytorch": "nothing", "tensorflow": "0"}
    for framework in ("mxnet", "pytorch", "tensorflow"):
        book = cells(reused, framework, reseeded=False)
        for run, before in ((reused, "0"), (mixed, ran_before[framework])):
            again = cells(run, framework, reseeded=True)
            assert printed(again[0]).startswith(f"ran before: {before} in "), (framework, printed(again[0]))
            assert f"fixture-{framework}-reseeded" in printed(again[0])               # its own working folder
            assert TIMING in again[1].outputs[0]["data"] and PLOT_DATA in again[2].outputs[0]["data"]
            assert [c.execution_count for c in again] == [1, 2, 3, 4]
            draws = printed(again[3]).split()
            assert draws[:2] == [framework, "1"] and draws[2:] != printed(book[3]).split()[2:]
            assert len(again) == 4 and draws[-1] == "[0.33333333]"   # not the print options the book's run set last
        for first, second in zip(cells(reused, framework, True)[1:], cells(mixed, framework, True)[1:], strict=True):
            if TIMING not in str(first.outputs):   # (the first cell says which kernel it ran in)
                assert first.outputs == second.outputs, framework   # the figures too: settings, formats
    again = pipeline.build(reused.config, pipeline.Options(), paths=reused.paths)   # the reseeded runs are cached
    assert {(n.run.value, n.status.value) for n in again.notebooks} == {("book", "cached"), ("reseeded", "cached")}


def test_a_kernel_the_book_run_left_unusable_gives_way_to_a_fresh_one(tmp_path, fixture_kernels):
    """The book's run breaks IPython's reset in its kernel: the reseeded runs start in fresh kernels."""
    book = build(tmp_path / "book", jobs=2, breaking="get_ipython().reset = None")
    for framework in ("mxnet", "pytorch", "tensorflow"):
        again = cells(book, framework, reseeded=True)
        assert printed(again[0]).startswith("ran before: nothing in "), printed(again[0])
        assert printed(again[3]).split()[:2] == [framework, "1"]


def test_a_book_run_that_failed_leaves_no_kernel_and_its_reseeded_run_a_fresh_one(tmp_path, fixture_kernels):
    """The scheduler itself, each book run asking for its reseeded run as it ends: PyTorch's book run fails in its
    first cell, and its reseeded run starts in a fresh kernel; the others in their book runs' kernels. Once the
    runs have ended, no kernel of theirs is left running."""
    from books import kernels_of

    from bookbuild import environments, in_kernel
    from bookbuild.execute import notebooks, split
    from bookbuild.execute.scheduler import Kernels
    from bookbuild.read import book as read
    from bookbuild.report import RunKind

    book = Book(tmp_path, {"index.md": INDEX, "kaynakca.md": REFERENCES, "ch/page.md": PAGE.replace(
        "BREAK", "assert seed == 1 or fw != 'pytorch', 'the book run fails'")})
    config = book.config
    page = next(p for p in read.read_book(config).pages if p.path.as_posix() == "ch/page.md")
    split_page = split.split(page, config.frameworks, environments.fingerprints(config, config.frameworks))
    reseeded, running = {}, []

    def job(name: str, again: bool = False):
        made = notebooks.job_of(config, book.paths, page, name, split_page[name], again)
        notebooks.lay_out(made, config.root, book.paths)
        return made

    def then(ended):
        if ended.report.run is RunKind.RESEEDED:
            return []
        running.append(kernels_of(book))   # (the kernels are this book's: `kernels_of` finds them)
        reseeded[ended.framework.name] = job(ended.framework.name, again=True)
        return [reseeded[ended.framework.name]]

    book.paths.cache.mkdir(parents=True)
    kernels = Kernels(environments.kernel_dirs(), config.timeout, 2, book.paths.cache, startup=in_kernel.source(),
                      env={**environments.library_env(), "D2L_TEST_BOOK": str(book.root)})
    failures = kernels.run([job(name) for name in split_page], on_success=lambda ended: None, then=then)
    assert [(f.framework, "the book run fails" in str(f)) for f in failures] == [("pytorch", True)]
    for name, before in (("mxnet", "0"), ("pytorch", "nothing"), ("tensorflow", "0")):
        first = printed(next(c for c in reseeded[name].notebook.cells if c.cell_type == "code"))
        assert first.startswith(f"ran before: {before} in "), (name, first)
    assert any(running) and kernels_of(book) == []
