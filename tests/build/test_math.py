"""Math typeset at build time (bookbuild/render/typeset_math.py), cached by each page's formulas: a render
starts MathJax (Node) only for the pages whose formulas it has not typeset before, none at all when
every one is cached, and a cached page is byte for byte what a cold render makes."""
from __future__ import annotations

import json
import shutil

from books import INDEX

from bookbuild.render import typeset_math

PAGE = "# Sayfa\n\n$$a = \\frac{1}{2}.$$\n\nMetin ve $c_1$.\n\n$$b = \\sum_i x_i.$$\n"
OTHER = "# Öbür Sayfa\n\n$$x = 1.$$\n\n$$y = \\sqrt{2}.$$\n"


def site_bytes(book) -> dict[str, bytes]:
    folder = book.paths.site("html")
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_render_typesets_only_the_pages_whose_formulas_changed(make_book, monkeypatch):
    sent = []   # each MathJax run: {page: its formulas}
    run = typeset_math._run_mathjax
    monkeypatch.setattr(typeset_math, "_run_mathjax",
                        lambda app, request: sent.append(json.loads(request)["pages"]) or run(app, request))
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
