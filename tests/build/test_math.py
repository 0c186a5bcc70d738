"""Math typeset at build time (bookbuild/render/typeset_math.py), cached by each page's formulas: a render
starts MathJax (Node) only for the pages whose formulas it has not typeset before, none at all when
every one is cached, and a cached page is byte for byte what a cold render makes."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
from pathlib import Path

import pytest
from books import INDEX

from bookbuild.render import typeset_math

PAGE = "# Sayfa\n\n$$a = \\frac{1}{2}.$$\n\nMetin ve $c_1$.\n\n$$b = \\sum_i x_i.$$\n"
OTHER = "# Öbür Sayfa\n\n$$x = 1.$$\n\n$$y = \\sqrt{2}.$$\n"


def site_bytes(book) -> dict[str, bytes]:
    folder = book.paths.site("html")
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


class RecordedRun(typeset_math.MathJaxRun):
    """A MathJax run that notes what it is sent, in `runs`: {page: its formulas} a run."""
    runs: list[dict[str, list]] = []

    def __init__(self):
        super().__init__()
        self.runs.append({})

    def send(self, page, formulas):
        self.runs[-1][page] = formulas
        super().send(page, formulas)


@pytest.fixture
def sent(monkeypatch):
    monkeypatch.setattr(typeset_math, "MathJaxRun", RecordedRun)
    monkeypatch.setattr(RecordedRun, "runs", [])
    return RecordedRun.runs


def test_a_render_typesets_only_the_pages_whose_formulas_changed(make_book, sent):
    book = make_book(PAGE, **{"index.md": INDEX.replace("ch/page\n", "ch/page\nch/other\n"), "ch/other.md": OTHER})
    book.build()
    assert len(sent) == 1 and set(sent[0]) == {"ch/page", "ch/other"}

    sent.clear()
    book.write("ch/page.md", PAGE.replace("Metin", "Başka bir metin"))       # prose only: all cached
    book.build()
    assert "Başka bir metin" in book.html("ch/page") and sent == []          # no Node at all

    book.write("ch/other.md", OTHER.replace("y = \\sqrt{2}", "z = \\sqrt{3}"))
    book.build()
    assert len(sent) == 1 and list(sent[0]) == ["ch/other"]                   # one run, for that page only
    assert [f["tex"] for f in sent[0]["ch/other"]].count("z = \\sqrt{3}.") == 1
    incremental = site_bytes(book)
    cache = book.paths.doctrees / "html" / typeset_math.CACHE
    assert json.loads(cache.read_text())["pages"] and not cache.with_name(cache.name + ".part").exists()

    sent.clear()
    shutil.rmtree(book.paths.site("html"))
    shutil.rmtree(book.paths.doctrees)
    book.build()                                                              # nothing cached
    assert len(sent) == 1 and set(sent[0]) == {"ch/page", "ch/other"}
    assert site_bytes(book) == incremental


def mathjax_children() -> list[int]:
    """The MathJax runs (typeset.mjs) this process has started and not reaped."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
            if int(fields["PPid"]) == os.getpid() and b"typeset.mjs" in (status.parent / "cmdline").read_bytes():
                found.append(int(status.parent.name))
        except (OSError, KeyError, ValueError):
            continue   # ended meanwhile
    return found


def test_a_tex_error_is_reported_at_its_line_and_keeps_the_last_site(make_book, sent):
    book = make_book(PAGE, **{"index.md": INDEX.replace("ch/page\n", "ch/page\nch/other\n"), "ch/other.md": OTHER})
    book.build()
    site = site_bytes(book)
    bad = OTHER.replace("y = \\sqrt{2}", "y = \\sqrt{2} + \\nosuchmacro")
    book.write("ch/other.md", bad)
    done = book.main("html")
    assert done.returncode == 2, done.stderr
    line = next(n for n, text in enumerate(bad.splitlines(), 1) if "nosuchmacro" in text)
    assert done.stderr.split("error: ", 1)[-1].startswith(
        f"ch/other.md:{line}: TeX error in $y = \\sqrt{{2}} + \\nosuchmacro.$: Undefined control sequence"), done.stderr
    assert "Traceback" not in done.stderr
    assert site_bytes(book) == site and mathjax_children() == []


def test_a_tex_error_stops_the_render_at_the_next_page_written(make_book, sent, monkeypatch):
    """Once the run has failed, the next page written says why: the others are neither written nor sent."""
    book = make_book(PAGE, **{"index.md": INDEX.replace("ch/page\n", "ch/page\nch/other\n"), "ch/other.md": OTHER})
    send = RecordedRun.send

    def until_it_fails(run, page, formulas):
        send(run, page, formulas)
        run.process.wait(60)   # ch/other's error ends it before Sphinx writes ch/page

    monkeypatch.setattr(RecordedRun, "send", until_it_fails)
    book.write("ch/other.md", OTHER.replace("y = \\sqrt{2}", "y = \\nosuchmacro"))
    done = book.main("html")
    assert done.returncode == 2 and "ch/other.md:" in done.stderr and "TeX error in" in done.stderr, done.stderr
    assert list(sent[-1]) == ["ch/other"] and mathjax_children() == []


def test_a_killed_mathjax_is_one_error_leaves_the_last_site_and_no_node(make_book, sent, monkeypatch):
    book = make_book(PAGE, **{"index.md": INDEX.replace("ch/page\n", "ch/page\nch/other\n"), "ch/other.md": OTHER})
    book.build()
    site = site_bytes(book)
    send = RecordedRun.send

    def killed(run, page, formulas):
        send(run, page, formulas)
        run.process.send_signal(signal.SIGKILL)

    monkeypatch.setattr(RecordedRun, "send", killed)
    book.write("ch/page.md", PAGE.replace("c_1", "c_2"))
    done = book.main("html")
    assert done.returncode == 2, done.stderr
    message = done.stderr.split("error: ", 1)[-1]
    assert "MathJax (bookbuild/render/mathjax/typeset.mjs) failed: killed by signal 9" in message, message
    assert "the last good site is kept" in message
    assert "Traceback" not in done.stderr
    assert site_bytes(book) == site and mathjax_children() == []


def test_an_interrupt_while_typesetting_stops_mathjax_and_keeps_the_last_site(make_book, sent, monkeypatch):
    """Sphinx tells its extensions of no Ctrl-C: the render stops the run itself."""
    book = make_book(PAGE)
    book.build()
    site = site_bytes(book)
    started = []

    def interrupted(run, page, formulas):
        started.append(run.process.pid)
        raise KeyboardInterrupt

    monkeypatch.setattr(RecordedRun, "send", interrupted)
    book.write("ch/page.md", PAGE.replace("c_1", "c_2"))
    done = book.main("html")
    assert done.returncode == 130, done.stderr
    assert started and mathjax_children() == [] and not Path(f"/proc/{started[0]}").exists()
    assert site_bytes(book) == site


def test_the_formulas_of_a_pages_previews_are_typeset_with_the_page(make_book, sent):
    """previews.py puts the equation a page links on another page into that page (a template): it is sent
    with the page's own formulas, and typeset."""
    book = make_book(PAGE.replace("Metin ve", "Bkz. :eqref:`eq_other` ve"),
                     **{"index.md": INDEX.replace("ch/page\n", "ch/page\nch/other\n"),
                        "ch/other.md": OTHER.replace("$$x = 1.$$\n", "$$x = 1.$$\n:eqlabel:`eq_other`\n")})
    book.build()
    assert [f["tex"] for f in sent[0]["ch/page"]][-1] == "x = 1."   # the preview's, after the page's own
    page = book.html("ch/page")
    template = re.search(r"<template data-d2l-preview=[^>]*>(.*?)</template>", page, re.S).group(1)
    assert "<mjx-container" in template and "<!--d2l-math:" not in page


def test_the_cache_outlives_a_change_that_renders_every_page_afresh(make_book, sent):
    """A change of the settings or of the build's code starts the render afresh, without the last doctrees: the
    math cache, keyed by its own program and the formulas, is kept, and the pages are what a cold render makes."""
    book = make_book(PAGE)
    book.build()
    config = book.root / "build.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("Deneme Kitabı", "Deneme Kitabı İki"),
                      encoding="utf-8")
    sent.clear()
    book.build()
    assert "Deneme Kitabı İki" in book.html("ch/page") and sent == []     # every page written, no Node
    kept = site_bytes(book)
    shutil.rmtree(book.paths.site("html"))
    shutil.rmtree(book.paths.doctrees)
    book.build()
    assert len(sent) == 1 and site_bytes(book) == kept
