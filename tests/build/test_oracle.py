"""d2lbook itself as the oracle of the dialect: each framework's code, split by us and by it.

d2lbook pins Sphinx 5.3, so it lives in its own test-only environment (.envs/d2lbook,
made by `make test`); it runs there as a subprocess and reports its split as JSON.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from books import ROOT  # noqa: E402

from bookbuild.config import load
from bookbuild.environments import python_of
from bookbuild.execute import split
from bookbuild.read import dialect

CONFIG = load(ROOT / "build.yml")

D2LBOOK_SPLIT = """
import json, sys
from d2lbook import notebook
tabs = sys.argv[2].split(",")
nb = notebook.split_markdown_cell(notebook.read_markdown(open(sys.argv[1], encoding="utf-8").read()))
split = {tab: notebook.get_tab_notebook(nb, tab, tabs[0]) for tab in tabs}
print(json.dumps({tab: [c.source for c in tnb.cells if c.cell_type == "code"] if tnb else []
                  for tab, tnb in split.items()}))
"""

MIXED = """# Karışık

```{.python .input}
a = 1
```

:begin_tab:`pytorch`
Yalnız PyTorch.
:end_tab:

```{.python .input  n=2}
#@tab mxnet, tensorflow
b = 2
```

Ara.

```{.python .input}
#@tab all
c = 3

d = 4
```

```{.python .input}
#@tab pytorch
e = 5
```

```{.python .input}
# @tab tensorflow
f = 6
```

```{.python .input}
g = 7
#@tab mxnet, pytorch
h = 8
```
"""


SELECTED = """# Seçilen

```{.python .input}
#@tab all
%load_ext d2lbook.tab
tab.interact_select(["mxnet", "pytorch", "tensorflow"])
```

```{.python .input}
#@tab all
a = 1
if tab.selected("pytorch"):
    b = 2
    c = 3
if tab.selected("mxnet", "tensorflow"):
    b = 4
d = 5
```

```{.python .input}
#@tab pytorch
e = 6
```

:begin_tab:`tensorflow`
Yalnız TensorFlow.
:end_tab:
"""

# d2lbook's reading of many pages in one run: each framework's code (get_tab_notebook) and the prose as its
# book has it (remove_slide_marks).
D2LBOOK_READ = """
import json, sys
from d2lbook import notebook, slides
tabs = sys.argv[1].split(",")
found = {}
for path in sys.argv[2:]:
    nb = notebook.split_markdown_cell(notebook.read_markdown(open(path, encoding="utf-8").read()))
    split = {tab: notebook.get_tab_notebook(nb, tab, tabs[0]) for tab in tabs}
    found[path] = {"code": {tab: [c.source for c in tnb.cells if c.cell_type == "code"] if tnb else []
                            for tab, tnb in split.items()},
                   "prose": [c.source for c in slides.remove_slide_marks(nb).cells if c.cell_type == "markdown"]}
print(json.dumps(found))
"""


def d2lbook_split(path: Path) -> dict[str, list[str]]:
    python = python_of("d2lbook")
    if not python.exists():
        pytest.fail(f"{python} is missing: `make test` makes the d2lbook oracle environment", pytrace=False)
    done = subprocess.run([python, "-c", D2LBOOK_SPLIT, str(path), ",".join(CONFIG.names)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def our_split(root: Path, path: Path) -> dict[str, list[str]]:
    page = dialect.read(root, path, CONFIG.names)
    notebooks = split.split(page, CONFIG.frameworks, {name: "" for name in CONFIG.names})
    return {name: [c.source for c in nb.cells if c.cell_type == "code"] for name, nb in notebooks.items()}


@pytest.mark.parametrize("source", ["chapter_optimization/momentum.md", "mixed", "selected"])
def test_split_matches_d2lbook(source, tmp_path):
    if source in ("mixed", "selected"):
        (tmp_path / f"{source}.md").write_text({"mixed": MIXED, "selected": SELECTED}[source], encoding="utf-8")
        root, path = tmp_path, Path(f"{source}.md")
    else:
        root, path = ROOT, Path(source)
    theirs = {tab: [code.strip() for code in codes] for tab, codes in d2lbook_split(root / path).items()}
    ours = {tab: [code.strip() for code in codes] for tab, codes in our_split(root, path).items()}
    assert ours == theirs
    assert all(ours.values())


def test_the_turkish_book_reads_as_d2lbook_reads_it():
    """Every page of d2l-tr (../shared/book/d2l-tr, with its config.ini's tabs): each framework's code is
    d2lbook's, and the prose, slide marks read, is d2lbook's book's (`remove_slide_marks`), but for the
    `:begin_tab:` lines, which we read as marks, and whitespace."""
    import configparser
    import re

    book = ROOT.parent / "shared" / "book" / "d2l-tr"
    settings = configparser.ConfigParser()
    settings.read(book / "config.ini", encoding="utf-8")
    tabs = [t.strip() for t in settings["build"]["tabs"].split(",")]
    paths = sorted(p.relative_to(book).as_posix() for p in book.rglob("*.md"))
    done = subprocess.run([python_of("d2lbook"), "-c", D2LBOOK_READ, ",".join(tabs), *paths], cwd=book,
                          capture_output=True, text=True, check=True)
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    squash = lambda text: "".join(text.split())                                  # noqa: E731
    assert len(theirs) == len(paths) > 100
    for path in paths:
        page = dialect.read(book, Path(path), tuple(tabs))
        ours = {tab: [b.source.strip() for b in page.blocks if b.kind == "code" and tab in b.tabs] for tab in tabs}
        assert ours == {tab: [c.strip() for c in codes] for tab, codes in theirs[path]["code"].items()}, path
        prose = "".join(b.source for b in page.blocks if b.kind == "markdown")
        assert squash(prose) == squash(re.sub(r"(?m)^:(begin|end)_tab:.*$", "", "".join(theirs[path]["prose"]))), path
