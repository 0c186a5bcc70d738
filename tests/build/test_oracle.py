"""d2lbook itself as the oracle of the dialect: each framework's code, split by us and by it.

d2lbook pins Sphinx 5.3, so it lives in its own test-only environment (.envs/d2lbook,
made by `make test`); it runs there as a subprocess and reports its split as JSON.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bookbuild.read import dialect
from bookbuild.execute import split
from bookbuild.config import load
from bookbuild.environments import python_of

from books import ROOT  # noqa: E402
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


@pytest.mark.parametrize("source", ["chapter_optimization/momentum.md", "mixed"])
def test_split_matches_d2lbook(source, tmp_path):
    if source == "mixed":
        (tmp_path / "mixed.md").write_text(MIXED, encoding="utf-8")
        root, path = tmp_path, Path("mixed.md")
    else:
        root, path = ROOT, Path(source)
    theirs = {tab: [code.strip() for code in codes] for tab, codes in d2lbook_split(root / path).items()}
    ours = {tab: [code.strip() for code in codes] for tab, codes in our_split(root, path).items()}
    assert ours == theirs
    assert all(ours.values())
