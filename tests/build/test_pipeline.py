"""The pipeline's floors: the stages hand typed values on (pipeline.py), so what a build publishes follows
from what it was handed, never from what an earlier, different command left in _build/; a stage imports
the ground floor and its own package only; `make check`, which renders nothing, never imports Sphinx."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bookbuild.errors import SourceError

PAGE = """# Sayfa

Metin.

```{.python .input}
#@tab all
print(6 * 7)
```
"""

PDF_LINK = re.compile(r'href="[^"]*_pdf/[^"]+\.pdf"')


def test_a_pdf_is_linked_only_by_a_site_of_the_pages_it_was_built_from(make_book):
    book = make_book(PAGE)
    book.build("pdf")
    built = sorted(book.paths.pdf.glob("*.pdf"))
    assert len(built) == len(book.config.frameworks)
    assert len(set(PDF_LINK.findall(book.html("ch/page")))) == len(built)
    book.build()                                               # the same pages: the PDFs are theirs
    assert len(set(PDF_LINK.findall(book.html("ch/page")))) == len(built)
    book.write("ch/page.md", PAGE.replace("Metin.", "Başka bir metin."))
    book.build()                                               # other pages: the PDFs are not theirs
    assert not PDF_LINK.findall(book.html("ch/page")) and not PDF_LINK.findall(book.html("index"))
    assert not (book.paths.site("html") / "_pdf").exists()
    assert all(pdf.is_file() for pdf in built)                 # left where they were, for a `make pdf` to replace


def test_the_cycle_collector_runs_less_often_while_a_build_runs_and_as_before_after_it(make_book, monkeypatch):
    """Its thresholds are the build's in every stage (the read stage, and the merge stage in the render's thread),
    and what they were before once the build has ended, however it ended."""
    import gc

    from bookbuild import pipeline
    from bookbuild.merge import pages
    from bookbuild.read import book as read

    book, seen = make_book(PAGE), []
    for module, name in ((read, "read_book"), (pages, "stage")):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *args, real=real, **kwargs: seen.append(gc.get_threshold()) or
                            real(*args, **kwargs))
    before = gc.get_threshold()
    assert before != pipeline.COLLECTOR_THRESHOLDS
    book.build()
    assert seen == [pipeline.COLLECTOR_THRESHOLDS] * 2 and gc.get_threshold() == before
    book.write("ch/page.md", PAGE + "\nBkz. :numref:`sec_yok`.\n")
    with pytest.raises(SourceError):
        book.build()
    assert gc.get_threshold() == before


# --- the floors: a stage imports the ground floor and its own package -----------------------------

BOOKBUILD = Path(__file__).resolve().parents[2] / "bookbuild"
ABOVE_THE_STAGES = {"pipeline", "__main__"}   # they chain the stages


def imported(path: Path) -> set[str]:
    """Every bookbuild module `path` imports, wherever the import is (in a function, under TYPE_CHECKING)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("bookbuild"):
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("bookbuild")}
    return found


def floor(module: str) -> str:
    """`bookbuild.read.book` -> "read" (a stage), `bookbuild.errors.X` -> "" (the ground floor)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and (BOOKBUILD / parts[1]).is_dir() else \
        (parts[1] if len(parts) > 1 and parts[1] in ABOVE_THE_STAGES else "")


def test_no_import_crosses_a_stage():
    crossing = []
    for path in sorted(BOOKBUILD.rglob("*.py")):
        module = ".".join(path.relative_to(BOOKBUILD.parent).with_suffix("").parts)
        here = floor(module)
        if here in ABOVE_THE_STAGES:
            continue
        for name in sorted(imported(path)):
            there = floor(name)
            if there and there != here:
                crossing.append(f"{module} -> {name}")
    assert crossing == []


def test_make_check_never_imports_sphinx(make_book):
    """`make check` executes and compares, and renders nothing: the read stage's checks, the execution and
    the agreement stage run without Sphinx (which takes seconds to import)."""
    book = make_book(PAGE)
    probe = ("import sys\nfrom bookbuild.__main__ import main\ncode = main(sys.argv[1:])\n"
             "print('imported:', sorted(m for m in sys.modules if m.split('.')[0] == 'sphinx'))\nsys.exit(code)")
    done = subprocess.run([sys.executable, "-c", probe, "--config", str(book.root / "build.yml"), "check"],
                          cwd=BOOKBUILD.parent, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "imported: []" in done.stdout, done.stdout[-2000:]
