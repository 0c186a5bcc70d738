"""The real chapter, built cold by the real pipeline: assertions on the HTML readers get."""
from __future__ import annotations

import base64
import json
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bookbuild import config as book_config

CONFIG = book_config.load()
CHAPTER = "chapter_optimization/momentum.html"


@pytest.fixture(scope="module")
def site(chapter_site) -> Path:
    return chapter_site[0]


@pytest.fixture(scope="module")
def page(site) -> str:
    return (site / CHAPTER).read_text(encoding="utf-8")


class Panels(HTMLParser):
    """The HTML inside each tab panel, by framework name."""

    def __init__(self):
        super().__init__()
        self.panels: list[tuple[str, list[str]]] = []
        self.depth = 0
        self.labels = {label: name for name, label in [(fw.name, fw.label) for fw in CONFIG.frameworks]}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self.depth:
            self.depth += tag == "div"
            self.panels[-1][1].append(self.get_starttag_text())
        elif attrs.get("role") == "tabpanel":
            self.panels.append((self.labels[base64.b64decode(attrs["name"]).decode()], []))
            self.depth = 1

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= tag == "div"
            if self.depth:
                self.panels[-1][1].append(f"</{tag}>")

    def handle_data(self, data):
        if self.depth:
            self.panels[-1][1].append(data)


def panels_of(page: str) -> dict[str, str]:
    parser = Panels()
    parser.feed(page)
    joined: dict[str, str] = {}
    for name, parts in parser.panels:
        joined[name] = joined.get(name, "") + "".join(parts)
    return joined


def test_every_framework_executed(chapter_site):
    _, reports = chapter_site
    chapter = [r for r in reports if r.page == "chapter_optimization/momentum.md"]
    assert {r.framework: r.status for r in chapter} == {name: "executed" for name in CONFIG.names}
    report = json.loads((chapter_site[0].parent / "report.json").read_text())
    assert all(c["seconds"] is not None for n in report["notebooks"] for c in n["cells"] if n["cells"])


def test_tab_groups_and_their_contents(page):
    assert page.count('class="sphinx-tabs d2l-tabs') == 12
    panels = panels_of(page)
    assert set(panels) == set(CONFIG.names)
    for fw in CONFIG.frameworks:
        html = panels[fw.name]
        text = unescape(re.sub(r"<[^>]+>", "", html))
        assert len(re.findall(r'<img [^>]*src="[^"]+\.svg"', html)) == 10, fw.name
        assert len(re.findall(r"epoch 20, x1: -?\d+\.\d{6}, x2: -?\d+\.\d{6}", text)) == 4, fw.name
        assert len(re.findall(r"loss: \d\.\d{3}, \d+\.\d{3} sec/epoch", text)) == 4, fw.name
        assert f"from d2l import {fw.d2l_module} as d2l" in text
        for other in CONFIG.frameworks:
            if other is not fw:
                assert f"from d2l import {other.d2l_module} as d2l" not in text
    # The tabs were labelled from build.yml, in its order.
    labels = re.findall(r'<button [^>]*data-d2l-tab="(\w+)"[^>]*>([^<]+)</button>', page)[:3]
    assert labels == [(fw.name, fw.label) for fw in CONFIG.frameworks]


def test_outputs_are_clean(page):
    for noise in ("Traceback", "Error", "WARNING", "oneDNN", "cuda", "[IPKernelApp]"):
        assert noise not in page
    assert 'class="output stderr' not in page and 'class="output traceback' not in page


def test_references_and_citations(page, site):
    assert ":numref:" not in page and ":cite:" not in page and ":eqref:" not in page
    assert not re.search(r"\bsec_\w+", re.sub(r'href="[^"]*"', "", page))
    assert 'href="https://tr.d2l.ai/chapter_optimization/sgd.html"' in page
    assert 'href="https://tr.d2l.ai/chapter_optimization/gd.html"' in page
    assert ">Rasgele Gradyan İnişi<" in page
    citations = re.findall(r'<a class="reference internal" href="([^"]+)"[^>]*>([^<]+)</a>\]', page)
    assert {text for _, text in citations} >= {"Goh, 2017", "Polyak, 1964", "Nesterov, 2018",
                                              "Sutskever <em>et al.</em>, 2013", "Flammarion and Bach, 2015"} or \
        len(citations) >= 5
    bibliography = (site / "chapter_references/zreferences.html").read_text(encoding="utf-8")
    assert "<h1>" in bibliography and "Kaynakça" in bibliography
    for href, _ in citations:
        target = href.split("#")[1]
        assert f'id="{target}"' in bibliography
    # Sections are numbered; the chapter's own label resolves.
    assert '<span class="section-number">1.1. </span>Momentum' in page


def test_turkish(page, site):
    assert '<html lang="tr"' in page
    search = (site / "search.html").read_text(encoding="utf-8")
    assert "TurkishStemmer" in (site / "_static/language_data.js").read_text()
    assert "Arama Sonuçları" in search or "Ara" in search
    for turkish in ('placeholder="Ara"', "<h3>Gezinti</h3>", "İlgili Konular", 'title="Bu başlığa bağlantı"'):
        assert turkish in page
    for english in ('placeholder="Search"', "Related Topics", "Link to this heading", "Documentation overview"):
        assert english not in page


def test_downloads_are_runnable_notebooks(page, site):
    import nbformat
    for fw in CONFIG.frameworks:
        found = re.search(rf'href="([^"]+/momentum-{fw.name}\.ipynb)"', page)
        assert found, fw.name
        nb = nbformat.read(site / "chapter_optimization" / found.group(1), as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert f"from d2l import {fw.d2l_module} as d2l" in code
        assert nb.metadata.kernelspec.name == "python3"


def test_no_other_host_is_loaded(site):
    """Every resource a page loads (scripts, styles, images, fonts) is local."""
    loads = re.compile(r'<(?:script|img|link|iframe|source)\b[^>]*?\b(?:src|href)="([^"]+)"')
    for html in site.rglob("*.html"):
        for url in loads.findall(html.read_text(encoding="utf-8")):
            assert not re.match(r"(https?:)?//", url), f"{html.relative_to(site)} loads {url}"
    for asset in list(site.glob("_static/*.css")) + list(site.glob("_static/*.js")):
        text = asset.read_text(encoding="utf-8", errors="replace")
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", text), asset.name
        assert not re.search(r"@import\s+['\"]?(url\()?['\"]?(https?:)?//", text), asset.name
    assert (site / "_static/mathjax/tex-svg.js").is_file()
