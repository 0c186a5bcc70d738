"""The built sites, as files: the real chapter (real kernels) and a multi-section fixture book.
Every expected count is read from the merged notebooks the build staged, never typed in."""
from __future__ import annotations

import base64
import json
import re
from html import unescape
from html.parser import HTMLParser

import nbformat
from books import REAL, display_equations, figures, merged_pages, printed, tab_groups

from bookbuild import config as book_config
from bookbuild import published as references
from bookbuild.config import PAGE_LIMIT_EVERYTHING, ROOT, SITE_LIMIT
from bookbuild.read import book as read
from bookbuild.tab_marks import Staged

LABELS = {fw.label: fw.name for fw in REAL.frameworks}


class Panels(HTMLParser):
    """The HTML inside each tab panel, by framework name."""

    def __init__(self):
        super().__init__()
        self.panels: list[tuple[str, list[str]]] = []
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self.depth:
            self.depth += tag == "div"
            self.panels[-1][1].append(self.get_starttag_text())
        elif attrs.get("role") == "tabpanel":
            self.panels.append((LABELS[base64.b64decode(attrs["name"]).decode()], []))
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


def pages(site):
    """(docname, its HTML, its merged notebook) of every page of a built site."""
    paths, _ = site
    for docname, nb in merged_pages(paths.staging).items():
        yield docname, (paths.site("html") / f"{docname}.html").read_text(encoding="utf-8"), nb


def text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


def test_every_framework_executed_and_the_tabs_agree(chapter_site):
    paths, report = chapter_site
    assert {r["framework"]: r["status"] for r in report["notebooks"] if r["cells"] and r["run"] == "book"} == \
        {n: "executed" for n in REAL.names}
    saved = json.loads(paths.report.read_text())
    assert saved["status"] == "done" and all(c["seconds"] is not None for n in saved["notebooks"] for c in n["cells"])
    # Every group where two frameworks printed something is compared; on the chapter as it is, all agree.
    assert saved["agreement"] and {a["status"] for a in saved["agreement"]} == {"agree"}
    assert all(a["page"] == "chapter_optimization/momentum.md" and a["line"] > 0 for a in saved["agreement"])


def test_tab_groups_figures_and_outputs_are_the_executed_ones(site):
    for docname, html, nb in pages(site):
        assert html.count('class="sphinx-tabs d2l-tabs') == tab_groups(nb), docname
        if not tab_groups(nb):
            continue
        panels = panels_of(html)
        assert set(panels) == set(REAL.names), docname
        for fw in REAL.frameworks:
            shown = panels[fw.name]
            assert len(re.findall(r"<img [^>]*src=\"[^\"]+\.svg\"", shown)) == figures(nb, fw.name), (docname, fw.name)
            text = text_of(shown)
            for line in printed(nb, fw.name):
                assert line.strip() in text, (docname, fw.name, line)
        labels = re.findall(r'<button [^>]*data-d2l-tab="(\w+)"[^>]*>([^<]+)</button>', html)[:len(REAL.names)]
        assert labels == [(fw.name, fw.label) for fw in REAL.frameworks]   # labelled from build.yml, in its order


def test_each_tab_holds_its_own_framework_only(chapter_site):
    html = (chapter_site[0].site("html") / "chapter_optimization/momentum.html").read_text(encoding="utf-8")
    panels = panels_of(html)
    for fw in REAL.frameworks:
        text = text_of(panels[fw.name])
        assert f"from d2l import {fw.d2l_module} as d2l" in text
        for other in REAL.frameworks:
            if other is not fw:
                assert f"from d2l import {other.d2l_module} as d2l" not in text


def test_every_display_equation_is_numbered_and_typeset(site):
    for docname, html, nb in pages(site):
        numbers = re.findall(r'class="eqno">\((\d+(?:\.\d+)*)\)', html)
        assert len(numbers) == display_equations(nb), docname
        assert [int(n.rsplit(".", 1)[-1]) for n in numbers] == list(range(1, len(numbers) + 1)), numbers
        math = html.count('<span class="math">') + html.count('<div class="math notranslate')
        assert html.count("<mjx-container") == math, docname        # every formula typeset at build time
        assert "\\(" not in text_of(html) and "\\[" not in text_of(html)
        assert "tabindex" not in "".join(re.findall(r"<mjx-container.*?</mjx-container>", html, re.S))


class Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.ids += [value for name, value in attrs if name == "id"]


def test_every_id_is_unique_and_equation_links_land_on_their_equation(site):
    for page in site[0].site("html").rglob("*.html"):
        parser = Ids()
        parser.feed(page.read_text(encoding="utf-8"))
        assert len(parser.ids) == len(set(parser.ids)), (page.name, sorted({i for i in parser.ids
                                                                            if parser.ids.count(i) > 1}))
    for docname, html, _ in pages(site):
        for target in re.findall(r'<a class="reference internal" href="#(equation-[^"]+)"', html):
            element = re.search(rf'<div class="([^"]+)"[^>]*\bid="{target}"[^>]*>\s*<div class="math', html)
            assert element, (docname, target)                # the equation's wrapper, right around it


def test_references_citations_and_equation_links_resolve(site):
    paths, _ = site
    bibliography = next(paths.site("html").rglob("*kaynakca*.html"), None) or \
        next(p for p in paths.site("html").rglob("*.html") if 'class="citation"' in p.read_text(encoding="utf-8"))
    anchors = set(re.findall(r'id="([^"]+)"', bibliography.read_text(encoding="utf-8")))
    for docname, html, nb in pages(site):
        assert not re.search(r":(numref|cite|eqref|label|eqlabel):`", html), docname
        for link, text in re.findall(r'<a class="reference internal" href="[^"]*#([^"]+)"[^>]*>([^<]+)</a>\]', html):
            assert link in anchors, (docname, text)
            assert " and " not in text and "et al" not in text           # Turkish: "ve", "vd."
        assert 'href="https://tr.d2l.ai/chapter_optimization/sgd.html#sec-sgd"' in html or \
            ":numref:`sec_sgd`" not in "".join("".join(c["source"]) for c in nb["cells"])
    # Each citation reads as the bibliography's entry in Turkish author–year ("ve", "vd.").
    built_config = paths.out.parent / "build.yml"
    config = book_config.load(built_config) if built_config.is_file() else REAL
    bib = references.bibliography(config.book.bibliography)
    for page in read.read_book(config).pages:
        keys = {m.target for m in page.mentions if m.role == "cite"}
        if keys:
            html = (paths.site("html") / page.path.with_suffix(".html")).read_text(encoding="utf-8")
            shown = set(re.findall(r'<a class="reference internal" href="[^"]+"[^>]*>([^<]+)</a>\]', html))
            assert shown == {references.citation_text(bib[key]) for key in keys}, page.path


def test_figures_say_what_they_show(site):
    """Every executed figure's alt text names its framework and what it shows, never a file."""
    for docname, html, nb in pages(site):
        alts = [unescape(alt) for alt in re.findall(r'<img [^>]*alt="([^"]*)"', html)]
        for fw in REAL.frameworks:
            prefix = f"{fw.label} çıktısı: "
            described = [alt for alt in alts if alt.startswith(prefix) and "ekseni" in alt]   # what it plots
            assert len(described) == figures(nb, fw.name), (docname, fw.name)
        assert not [alt for alt in alts if re.search(r"\.(svg|png)\b|_images", alt)], docname


def test_the_interface_is_turkish(site):
    paths, _ = site
    site_dir = paths.site("html")
    # What Furo writes without the catalog (its drawers' and icons' names) static/d2l.js puts through
    # it in the browser: test_reader.py checks the names a reader meets.
    english = ["Skip to content", "Back to top", "On this page", "Link to this heading", ">Next<", ">Previous<",
               'placeholder="Search"', "Made with", "Copyright ©"]
    for page in site_dir.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert re.search(r"<html [^>]*\blang=\"tr\"", html), page.name
        for words in english:
            assert words not in html, (page.name, words)
    catalog = (site_dir / "_static" / "translations.js").read_text(encoding="utf-8")
    plural = json.loads(re.search(r"addTranslations\((.*)\);", catalog, re.S).group(1))
    assert plural["plural_expr"] == "n == 1 ? 0 : 1"
    found = plural["messages"]["Search finished, found one page matching the search query."]
    assert all(found) and "${resultCount}" in found[1]
    search = (site_dir / "search.html").read_text(encoding="utf-8")
    assert "<h1>Ara</h1>" in search and "toLocaleLowerCase('tr')" in (site_dir / "_static/language_data.js").read_text()


def test_no_script_holds_up_the_first_paint(site):
    """Every script file of every page, the search page's own included, runs once the page is parsed."""
    pages_seen = 0
    for page in site[0].site("html").rglob("*.html"):
        tags = re.findall(r"<script\b[^>]*\bsrc=[^>]*>", page.read_text(encoding="utf-8"))
        pages_seen += bool(tags)
        for tag in tags:
            assert re.search(r"\s(defer|async)[\s=>]", tag), (page.name, tag)
    assert pages_seen > 1


def test_every_page_has_one_h1_a_skip_link_and_a_description(site):
    for page in site[0].site("html").rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        if page.name in ("genindex.html",):
            continue
        assert len(re.findall(r"<h1[ >]", html)) == 1, page.name
        assert 'class="skip-to-content' in html
        if page.name != "search.html":
            assert re.search(r'<meta name="description" content="[^"]{40,}"', html), page.name


def test_downloads_are_runnable_notebooks_with_references_resolved(site):
    """Each framework's notebook: an install cell first (the framework's pins, d2l from the wheel the site
    serves), then the page's code in that framework with the outputs it printed; prose as the page reads."""
    from bookbuild.merge import downloads
    paths, _ = site
    config = book_config.load(paths.out.parent / "build.yml") if (paths.out.parent / "build.yml").is_file() else REAL
    for docname, html, nb in pages(site):
        if not tab_groups(nb):
            continue
        for fw in config.frameworks:
            found = re.search(rf'href="([^"]+-{fw.name}\.ipynb)"', html)
            assert found, (docname, fw.name)
            target = (paths.site("html") / docname).parent / found.group(1)
            notebook = nbformat.read(target, as_version=4)
            prose = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
            assert not re.search(r":(numref|cite|eqref|label|eqlabel|width):`", prose), (docname, fw.name)
            assert re.search(r"\[[^\]]+\]\((https://tr\.d2l\.ai/|\.\./)[^)]+\)", prose)     # links
            assert "(Polyak, 1964)" in prose
            assert notebook.metadata.kernelspec.name == "python3"
            install, *code = [c for c in notebook.cells if c.cell_type == "code"]
            assert downloads.INSTALL_TAG in install.metadata["tags"]
            # d2l comes with the cell, the wheel the site serves, not from any address (issue 30.2; issue 29.10:
            # a preview's build wrote its port 8000 there, whatever port it served on)
            assert "://" not in install.source and install.metadata["jupyter"]["source_hidden"]
            served_wheel, = (paths.site("html") / Staged.WHEEL).glob("*.whl")
            assert downloads.carried_wheel(install) == served_wheel.read_bytes()
            assert all(pin in install.source for pin in downloads.pins(fw.requirements))
            lines = [line for c in code for o in c.outputs if o.get("name") == "stdout"
                     for line in o["text"].splitlines() if line.strip()]
            assert lines == printed(nb, fw.name), (docname, fw.name)     # what the page shows for it


def test_nothing_is_loaded_from_another_host_and_no_math_script(site):
    site_dir = site[0].site("html")
    loads = re.compile(r'<(?:script|img|link|iframe|source)\b[^>]*?\b(?:src|href)="([^"]+)"')
    for html in site_dir.rglob("*.html"):
        text = html.read_text(encoding="utf-8")
        for url in loads.findall(text):
            assert not re.match(r"(https?:)?//", url), f"{html.relative_to(site_dir)} loads {url}"
        assert "mathjax" not in " ".join(re.findall(r"<script[^>]*>", text)).lower()
    for asset in list(site_dir.glob("_static/**/*.css")) + list(site_dir.glob("_static/**/*.js")):
        text = asset.read_text(encoding="utf-8", errors="replace")
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", text), asset.name
        assert not re.search(r"@import\s+['\"]?(url\()?['\"]?(https?:)?//", text), asset.name


def test_the_site_is_light(site):
    """The whole site, and each page with all it can load in every framework (uncompressed), within their
    limits (the browser measures a page read in one framework, as served: test_reader.py)."""
    site_dir = site[0].site("html")
    assert sum(p.stat().st_size for p in site_dir.rglob("*") if p.is_file()) <= SITE_LIMIT
    for page in site_dir.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        total = len(html.encode())
        for url in set(re.findall(r'(?:src|href)="([^"#?]+)[^"]*"', html)):
            target = (page.parent / url).resolve()
            if url.endswith((".css", ".js", ".svg", ".png", ".woff2")) and target.is_file():
                total += target.stat().st_size
        assert total <= PAGE_LIMIT_EVERYTHING, (page.name, total)


def test_the_d2l_wheel_is_made_once_per_version_of_d2l_and_served_by_every_book(chapter_site, multi_site):
    """The wheel belongs to the library: every book built from this checkout whose pages save no code
    serves the same one, kept once beside the environments, holding this checkout's d2l."""
    import zipfile

    from bookbuild.merge import downloads
    from bookbuild.tab_marks import Staged
    served = [list((paths.site("html") / Staged.WHEEL).glob("*.whl")) for paths, _ in (chapter_site, multi_site)]
    assert [len(wheels) for wheels in served] == [1, 1]
    assert served[0][0].read_bytes() == served[1][0].read_bytes()
    assert [w for w in downloads.KEPT_WHEELS.glob("*/*.whl") if w.read_bytes() == served[0][0].read_bytes()]
    with zipfile.ZipFile(served[0][0]) as wheel:
        for module in (ROOT / "d2l").rglob("*.py"):
            assert wheel.read(module.relative_to(ROOT).as_posix()) == module.read_bytes()


def test_a_pages_stylesheets_and_scripts_come_in_few_requests_in_their_order_no_bundle_left_over(site):
    """render/bundles.py: a page's stylesheets and deferred scripts, about eighteen files, come in a few
    requests, each bundle holding its files' text in the page's order; the site holds only the bundles its
    pages use."""
    from books import script_files

    html = site[0].site("html")
    used = set()
    for page in html.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        tags = re.findall(r"<script\b[^>]*\bsrc=\"([^\"?]+)", text)
        sheets = re.findall(r"<link rel=\"stylesheet\"[^>]*\bhref=\"([^\"?]+)", text)
        files = [p.split("/")[-1] for p in script_files(page)]
        used |= {(page.parent / src).resolve() for src in tags + sheets if "/bundles/" in src}
        if "d2l.js" in files:
            assert len(tags) < len(files) and len(files) == len(set(files)), (page.name, tags, files)
            order = [name for name in files if name in ("doctools.js", "translations.js", "sphinx_highlight.js",
                                                         "d2l.js")]
            assert order == ["doctools.js", "translations.js", "sphinx_highlight.js", "d2l.js"], (page.name, files)
            styles = [name for src in sheets for name in _bundled_files(page.parent / src)]
            assert len(sheets) < len(styles) and styles.index("furo.css") < styles.index("d2l.css"), styles
    assert used and set((html / "_static" / "bundles").iterdir()) == used
    for bundle in used:
        first, _, rest = bundle.read_text(encoding="utf-8").partition("\n")
        between = "\n;\n" if bundle.suffix == ".js" else "\n"
        assert rest == between[1:] + between.join((html / name).read_text(encoding="utf-8")
                                                  for name in first.strip("/* ").split())


def _bundled_files(path) -> list[str]:
    """The names of the files a bundle holds (its first line), or the file's own name."""
    if path.parent.name != "bundles":
        return [path.name]
    return [name.split("/")[-1] for name in path.read_text(encoding="utf-8").partition("\n")[0].strip("/* ").split()]
