"""The reader's site, third round (issue 30), in Debian's Chromium at 1366×900 and 390×844, light and
dark: wide equations on a phone, notebooks that run anywhere, published titles, Turkish everywhere,
citations, the explorer, outside links, search, the 404 page and the small things. Expected values come
from the built pages and the book's data, never typed in."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from books import VIEWS, served

SCHEMES = ("light", "dark")
MOMENTUM = "chapter_optimization/momentum.html"


@pytest.fixture(scope="module")
def chapter(chapter_site):
    with served(chapter_site[0].site("html")) as url:
        yield url, chapter_site[0]


# Each numbered display equation: the drawing shown (whole or broken into lines), its box, its number.
EQUATIONS = """() => [...document.querySelectorAll('div.math')].filter((m) => m.querySelector('.eqno')).map((m) => {
  const box = m.querySelector('mjx-container'), number = m.querySelector('.eqno').getBoundingClientRect();
  const shown = [...box.querySelectorAll(':scope > svg')].filter((s) => s.checkVisibility());
  const drawing = shown[0].getBoundingClientRect(), boxRect = box.getBoundingClientRect();
  return {number: m.querySelector('.eqno').textContent.replace('¶', '').trim(), drawings: shown.length,
          broken: shown[0].classList.contains('d2l-narrow'),
          width: drawing.width, room: box.clientWidth, scrolls: box.scrollWidth > box.clientWidth + 1,
          beside: number.left >= boxRect.right - 0.5 && number.top < boxRect.bottom
                  && number.bottom > boxRect.top}; })"""


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("view", VIEWS)
def test_every_equation_fits_the_screen_beside_its_number(reader, chapter, view, scheme):
    """Issue 30.1: at 390 px (11.6.1), (11.6.3), (11.6.7) and (11.6.12) hid up to 39% of their width. Now
    MathJax 4 breaks a wide formula into lines where it does not fit whole: nothing is cut off, one drawing
    shows, the number stays beside it; on a wide screen formulas stay whole."""
    url, _ = chapter
    one = reader(view, scheme)
    page = one.open(f"{url}/{MOMENTUM}")
    equations = page.evaluate(EQUATIONS)
    assert equations and all(e["drawings"] == 1 and e["beside"] for e in equations), equations
    cut = [e["number"] for e in equations if e["width"] > e["room"] + 1 or e["scrolls"]]
    assert cut == [], equations
    broken = {e["number"] for e in equations if e["broken"]}
    if view == "phone":
        assert {"(11.6.1)", "(11.6.3)", "(11.6.7)", "(11.6.12)"} <= broken
    else:
        assert broken == set()
    assert one.errors == []


UNBREAKABLE = ("# Sayfa\n\nÇok geniş bir matris:\n\n$$\\begin{bmatrix} " + " & ".join(f"a_{{{i}}}" for i in range(40))
               + " \\end{bmatrix}$$\n\nSonrası.\n")


def cue(page, box, side: str) -> bool:
    """Whether the box draws something at its edge on that side besides the formula: its last pixels as
    shown, against the same pixels with the box's background taken away."""
    rect = box.bounding_box()
    clip = {"x": rect["x"] + (rect["width"] - 10 if side == "right" else 0), "y": rect["y"], "width": 10,
            "height": rect["height"]}
    shown = page.screenshot(clip=clip)
    box.evaluate("(b) => { b.style.background = 'none'; }")
    bare = page.screenshot(clip=clip)
    box.evaluate("(b) => { b.style.background = ''; }")
    return shown != bare


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_formula_that_cannot_break_shows_that_it_scrolls(reader, make_book, scheme):
    """Where a formula still cannot fit (a matrix of 40 columns), a shadow at the edge it continues past says
    it scrolls; scrolled to its end, the shadow is at the other edge only. A formula that fits has none."""
    book = make_book(UNBREAKABLE + "\n$$x = 1.$$\n")
    book.build()
    with served(book.paths.site("html")) as url:
        one = reader("phone", scheme)
        page = one.open(f"{url}/ch/page.html")
        wide, narrow = page.locator("div.math > mjx-container").all()
        assert wide.evaluate("(b) => b.scrollWidth > b.clientWidth + 1")
        assert cue(page, wide, "right") and not cue(page, wide, "left")
        wide.evaluate("(b) => { b.scrollLeft = b.scrollWidth; }")
        assert cue(page, wide, "left") and not cue(page, wide, "right")
        assert not cue(page, narrow, "left") and not cue(page, narrow, "right")
        assert one.errors == []


TEXT_TABS_ONLY = "# Kurulum\n\nHer çerçeve için bir komut.\n\n" + "".join(
    f":begin_tab:`{name}`\n{name} için:\n\n```bash\npip install {name} " + " ".join(["--bir-secenek"] * 12)
    + "\n```\n\n:end_tab:\n\n" for name in ("mxnet", "pytorch", "tensorflow"))


def test_a_page_with_only_text_tabs_names_its_wide_code_boxes(reader, make_book):
    """A page whose tabs are all d2lbook's text tabs (`:begin_tab:`, no code cell: no framework chooser), as
    the book's installation page: its scripts run to the end, and a code box that scrolls on a phone is a
    named region, numbered within its framework, which the arrow keys scroll. (Its scripts stopped at naming the
    boxes: two pages of d2l-tr. And on every page, an arrow key in a focused box turned the page instead.)"""
    book = make_book(TEXT_TABS_ONLY)
    book.build()
    with served(book.paths.site("html")) as url:
        one = reader("phone")
        page = one.open(f"{url}/ch/page.html")
        assert page.locator("[data-d2l-choose]").count() == 0
        shown = [box for box in page.locator("div.highlight pre").all() if box.is_visible()]
        assert len(shown) == 1 and shown[0].evaluate("(b) => b.scrollWidth > b.clientWidth + 1")
        assert shown[0].get_attribute("role") == "region"
        assert shown[0].get_attribute("aria-label") == "Kod 1, yana kaydırılabilir"
        # By keyboard: the arrow keys scroll the focused box, and do not turn the page (navigation_with_keys).
        shown[0].focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function("(b) => b.scrollLeft > 0", arg=shown[0].element_handle())
        assert page.url.endswith("/ch/page.html")
        assert one.errors == []


# Every link of a toc (the sidebar or drawer, and the page's own) to a page of the published edition.
TOC_LINKS = """(published) => [...document.querySelectorAll(
    '.sidebar-tree a.reference.external, .toctree-wrapper a.reference.external')]
  .filter((a) => a.href.startsWith(published))
  .map((a) => [a.href, a.textContent.trim()])"""


@pytest.mark.parametrize("view", VIEWS)
def test_toc_entries_outside_the_build_read_their_published_number_and_title(reader, chapter, view):
    """Issue 30.3: 11.1 read "Yayımlanmış baskıdaki bölüm" in the sidebar, the drawer, the front and chapter
    pages; every entry now reads its number and title from the published edition's table of pages."""
    from books import REAL

    from bookbuild import published as references
    table = references.published_pages(REAL.book.published_pages)
    url, _ = chapter
    one = reader(view)
    for path in ("index.html", "chapter_optimization/index.html"):
        page = one.open(f"{url}/{path}")
        links = page.evaluate(TOC_LINKS, REAL.book.published_url)
        assert links, path
        for href, text in links:
            published = table[href.split("#")[0].removeprefix(REAL.book.published_url)]
            assert text.startswith(f"{published.number}. {published.title}"), (path, href, text)
        assert "Yayımlanmış baskıdaki" not in page.content()
    assert one.errors == []


def catalog(message: str) -> str:
    """The Turkish of one of Sphinx's messages, from the book's catalog (locale/tr/LC_MESSAGES/sphinx.po)."""
    from bookbuild.config import ROOT
    po = (ROOT / "locale" / "tr" / "LC_MESSAGES" / "sphinx.po").read_text(encoding="utf-8")
    return re.search(rf'msgid "{re.escape(message)}"\nmsgstr "([^"]+)"', po).group(1)


@pytest.mark.parametrize("view", VIEWS)
def test_after_a_search_the_highlight_control_speaks_turkish(reader, chapter, view):
    """Issue 30.4: a page opened from a search result offered "Hide Search Matches": sphinx_highlight.js
    wrote it before the catalog had loaded. The catalog now comes right after doctools.js."""
    url, _ = chapter
    one = reader(view)
    page = one.open(f"{url}/{MOMENTUM}?highlight=gradyan")
    control = page.locator("#searchbox .highlight-link a")
    control.wait_for(state="attached")
    assert control.inner_text().strip() == catalog("Hide Search Matches")
    assert "Hide Search Matches" not in page.content()
    assert one.errors == []


def furo_breakpoint(selector: str) -> float:
    """The width (px) up to which Furo makes a sidebar a drawer, read from furo.css as the test's own check."""
    import furo
    css = (Path(furo.__file__).parent / "theme" / "furo" / "static" / "styles" / "furo.css").read_text()
    for query, body in re.findall(r"@media\s*\(max-width:\s*([\d.]+)em\)\s*\{(.*?)\}\}", css, re.S):
        if re.search(rf"(^|[,}}]){re.escape(selector)}\{{[^}}]*position:fixed", body):
            return float(query) * 16
    raise AssertionError(f"furo.css has no media query that makes {selector} a drawer")


@pytest.mark.parametrize("selector, bar", [(".sidebar-drawer", ".sidebar-drawer .d2l-drawer-bar"),
                                           (".toc-drawer", ".toc-drawer .d2l-drawer-bar")])
def test_drawers_follow_furos_own_breakpoints(reader, chapter, selector, bar):
    """Issue 29.4: d2l.js copied Furo's breakpoints (63em, 82em); it reads them from furo.css now: just
    inside Furo's width a sidebar is a drawer with its close bar, just outside it is not."""
    url, _ = chapter
    width = furo_breakpoint(selector)
    one = reader("desktop")
    for inside, viewport in ((True, width - 1), (False, width + 1)):
        one.page.set_viewport_size({"width": int(viewport), "height": 900})
        page = one.open(f"{url}/{MOMENTUM}")
        assert page.evaluate(f"[document.querySelector('{bar}').hidden, document.querySelector('{selector}').inert]") \
            == [not inside, inside], (selector, viewport)
    one.page.set_viewport_size({"width": 1366, "height": 900})
    assert one.errors == []


def test_furos_expander_names_are_asked_of_furo_and_read_in_turkish(chapter_site):
    """Issue 29.4: the English prefix of Furo's expander names was copied into d2l.js; the build asks Furo
    for it (a contract: it fails here if an upgrade changes it) and writes the catalog's Turkish."""
    from bookbuild.render import furo
    prefix = furo.toggle_prefix()
    assert prefix.strip() and catalog(prefix.strip()) != prefix.strip()
    html = (chapter_site[0].site("html") / MOMENTUM).read_text(encoding="utf-8")
    assert prefix not in html and f'aria-label="{catalog(prefix.strip())} ' in html


def explorer(one, url: str, query: str = ""):
    page = one.open(f"{url}/{MOMENTUM}{query}")
    page.locator("#momentum-explorer").scroll_into_view_if_needed()
    page.wait_for_selector("#momentum-explorer .mx-figure")
    return page


RESULT = "(key) => document.querySelector(`#momentum-explorer [data-result=${key}]`).textContent"


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("view", VIEWS)
def test_the_explorer_teaches(reader, chapter, view, scheme):
    """Issue 30.6: it opens with what to try, and what it says is what the reader then sees; the eigenvalue
    panel stays folded until the text explains it; divergence is drawn as a path leaving the plot with an
    arrowhead, not as streaks; on a phone the sliders are a finger tall and the column wide; every kind of
    mark on the plot has its legend entry."""
    url, _ = chapter
    one = reader(view, scheme)
    page = explorer(one, url, "?eta=0.6&beta=0")
    lead = page.locator("#momentum-explorer .mx-lead").inner_text()
    assert "β’yı 0’dan 0.9’a çekin" in lead and "minimuma (+)" in lead
    assert "alanın dışına çıkıyor" in page.locator("#momentum-explorer .mx-legend li").first.inner_text()  # β = 0
    page.locator("#mx-beta").fill("0.5")
    final = [float(v) for v in re.findall(r"x\d: (\S+?)(?:,|$)", page.evaluate(RESULT, "momentum"))]
    assert max(map(abs, final)) < 0.01                                                # at the minimum
    assert page.locator("#momentum-explorer details.mx-eigen").evaluate("(d) => !d.open")

    page = explorer(one, url, "?eta=1.2&beta=0")                                      # both diverge
    for method in ("mom", "gd"):
        path = page.locator(f"#momentum-explorer .mx-{method} .mx-line")
        points = [float(n) for n in re.findall(r"-?[\d.]+", path.get_attribute("d"))]
        assert len(points) // 2 <= 3, points                          # up to the edge, then no more
        assert page.locator(f"#momentum-explorer .mx-{method} .mx-exit").count() == 1
    legend = page.eval_on_selector_all("#momentum-explorer .mx-legend .mx-swatch", "s => s.map(x => x.classList[1])")
    assert {"mx-sw-mom", "mx-sw-gd", "mx-sw-contour", "mx-sw-min", "mx-sw-exit"} <= set(legend)
    plotted = page.evaluate("""() => { const svg = document.querySelector('#momentum-explorer .mx-plot-wide');
        return ['mx-mom', 'mx-gd', 'mx-contours', 'mx-min', 'mx-exit'].filter((c) => svg.querySelector('.' + c)); }""")
    assert len(plotted) == 5

    if view == "phone":
        width = page.evaluate("document.querySelector('#momentum-explorer .mx-controls').getBoundingClientRect().width")
        for slider in page.locator("#momentum-explorer input[type=range]").all():
            size = slider.bounding_box()
            assert size["height"] >= 44 and size["width"] >= 0.9 * width, (size, width)
    assert one.axe() == []
    assert one.errors == []


@pytest.mark.parametrize("view", VIEWS)
def test_copy_buttons_have_no_english_tooltip(reader, chapter, view):
    """Issue 30.4 and 30.10: each copy icon carried an SVG <title> "Copy to clipboard", the browser's own
    tooltip over the button's Turkish one; it goes, from the icons shown and those swapped in after a copy."""
    url, _ = chapter
    one = reader(view)
    page = one.open(f"{url}/{MOMENTUM}")
    buttons = page.locator("button.copybtn")
    page.wait_for_function("document.querySelector('button.copybtn')?.getAttribute('aria-label') === 'Kopyala'")
    assert buttons.count() and page.evaluate("document.querySelectorAll('button.copybtn svg title').length") == 0
    assert {b.get_attribute("data-tooltip") for b in buttons.all()} == {"Kopyala"}
    assert page.evaluate("[iconCopy, iconCheck].some((icon) => icon.includes('<title>'))") is False
    assert one.errors == []


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("view", VIEWS)
def test_a_mistyped_address_gets_a_turkish_404_page_in_the_sites_look(reader, chapter, view, scheme):
    """Issue 30.9: a missing address got the host's English default. The site has a 404.html (GitHub Pages
    serves it for every missing address, as the test's host does), in Turkish and the site's look, at any
    depth: its styles, scripts and links resolve from the site's root."""
    url, _ = chapter
    one = reader(view, scheme)
    response = one.page.goto(f"{url}/chapter_optimization/yok/olmayan-sayfa.html")
    page = one.open(one.page.url)
    assert response.status == 404
    assert page.evaluate("document.documentElement.lang") == "tr"
    assert page.locator("article h1").inner_text().startswith("Sayfa bulunamadı")
    assert page.evaluate("[...document.styleSheets].some((s) => [...s.cssRules].some("   # furo.css's own rules
                         "(r) => (r.selectorText || '').includes('.sidebar-drawer')))")
    assert page.locator(".sidebar-tree a", has_text="Eniyileme").count() > 0       # the site's contents, too
    home = page.locator("article a", has_text="ana sayfa")
    assert home.evaluate("(a) => a.href") == f"{url}/index.html"
    assert [e for e in one.errors if "olmayan-sayfa" not in e and "status of 404" not in e] == []   # only the page
    assert one.axe() == []
    home.click()
    page.wait_for_url(f"{url}/index.html")


def search_results(one, base: str, query: str) -> list[str]:
    page = one.open(f"{base}/search.html?q={query}")
    page.locator("#search-results p.search-summary").wait_for()
    return page.eval_on_selector_all("#search-results li > a", "links => links.map((a) => a.getAttribute('href'))")


def test_search_ranks_title_then_headings_then_text(reader, tmp_path):
    """Issue 30.8: results came in title order among pages that held the word anywhere but their title; a
    page with it in a section heading now comes before one that only mentions it, after one titled by it
    (whatever their titles' alphabetical order)."""
    from books import INDEX, Book
    pages = {"index.md": INDEX.replace("ch/page\n", "ch/page\nch/heading\nch/title\n"),
             "kaynakca.md": "# Kaynakça\n\nKaynak yok.\n",
             "ch/page.md": "# Aaa Metin\n\nBu sayfa yalnızca metninde gradyan der.\n",
             "ch/heading.md": "# Zzz Başlıklar\n\nGiriş.\n\n"
                              "## Gradyanın Büyüklüğü ve Yönü Üzerine Uzunca Bir Başlık\n\nMetin.\n",
             "ch/title.md": "# Gradyan Sayfası\n\nMetin.\n"}
    book = Book(tmp_path, pages)
    book.build()
    with served(book.paths.site("html")) as base:
        found = [href.split(".html")[0] for href in search_results(reader(), base, "gradyan")]
    assert found[:3] == ["ch/title", "ch/heading", "ch/page"], found


def luminance(colour: str) -> float:
    r, g, b = (float(v) / 255 for v in re.findall(r"[\d.]+", colour)[:3])
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("view", VIEWS)
def test_a_search_result_opens_at_its_first_match_marked_with_contrast(reader, chapter, view, scheme):
    """Issue 30.8: opening a result landed at the top of the page, and the mark (#ddeeff on white) was faint.
    A word first met far down the page: its result opens there, and the mark stands out at least 3:1 from
    the page, its text at least 4.5:1 on it, light and dark."""
    url, _ = chapter
    one = reader(view, scheme)
    page = one.open(f"{url}/{MOMENTUM}")
    word = page.evaluate("""() => { const seen = new Set(), far = 3 * innerHeight;
        for (const p of document.querySelectorAll('article p')) {
          for (const w of (p.textContent.match(/[a-zçğıöşü]{8,}/g) || [])) {
            if (!seen.has(w) && p.getBoundingClientRect().top > far
                && !p.closest('.no-search, #momentum-explorer')) return w;
            seen.add(w);
          } } }""")
    search_results(one, url, word)
    result = page.locator(f"#search-results li > a[href^='{MOMENTUM}']").first
    result.click()
    page.wait_for_url(f"**/{MOMENTUM}*")
    page.wait_for_function("document.querySelector('article span.highlighted')")
    mark = page.locator("article span.highlighted").first
    page.wait_for_function("(m) => { const r = m.getBoundingClientRect();"
                           " return r.top >= 0 && r.bottom <= innerHeight; }",
                           arg=mark.element_handle())
    colours = mark.evaluate("""(m) => { const s = getComputedStyle(m);
        return {mark: s.backgroundColor, text: s.color, line: s.boxShadow.match(/rgba?\\([^)]*\\)/)[0],
                page: getComputedStyle(document.body).backgroundColor}; }""")
    assert contrast(colours["line"], colours["page"]) >= 3, colours
    assert contrast(colours["text"], colours["mark"]) >= 4.5, colours
    assert one.errors == []


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("view", VIEWS)
def test_citations_and_bibliography_share_one_style_and_arrival_marks_the_entry(reader, chapter, view, scheme):
    """Issue 30.5: the text cited "[Goh, 2017]" while the bibliography numbered its entries [1]–[5], and
    following a citation landed on the list without marking the entry. Both are author–year now; the
    entry arrived at is marked. The list's entries are list items (docutils' DPUB role was deprecated)."""
    url, _ = chapter
    one = reader(view, scheme)
    page = one.open(f"{url}/{MOMENTUM}")
    cited = page.eval_on_selector_all("article .bibtex-citation a",
                                      "links => links.map((a) => [a.textContent, a.href])")
    assert cited
    text, href = cited[0]
    page.locator("article .bibtex-citation a").first.click()
    page.wait_for_url(href)
    labels = page.eval_on_selector_all("div.citation > .label",
                                       "ls => ls.map((l) => l.textContent.replace(/[\\[\\]]/g, ''))")
    assert {t for t, _ in cited} <= set(labels) and not any(label.isdigit() for label in labels), (cited, labels)
    entry = page.locator("div.citation:target")
    assert entry.locator(".label").inner_text().strip("[]") == text
    marked = entry.evaluate("(e) => [getComputedStyle(e).backgroundColor,"
                            " getComputedStyle(document.body).backgroundColor]")
    assert marked[0] != marked[1] and marked[0] != "rgba(0, 0, 0, 0)"
    assert page.locator("div.citation:not(:target)").first.evaluate("(e) => getComputedStyle(e).backgroundColor") \
        == "rgba(0, 0, 0, 0)"
    assert page.locator("[role=list] > div.citation[role=listitem]").count() == len(labels)
    assert one.axe() == []   # the bibliography page, as every page the reader meets
    assert one.errors == []


TEXT = "article[role=main] :is(p, li, h1, h2, h3, h4, pre, figcaption, td)"


@pytest.mark.parametrize("view", VIEWS)
def test_the_small_things(reader, chapter, view):
    """Issue 30.10: "Başa dön" floated over the text; a phone's header named only the book and its title
    wrapped as "11.6." / "Momentum"; the theme toggle never said which scheme was on; an empty "Dizin" page
    was linked."""
    url, paths = chapter
    one = reader(view)
    page = one.open(f"{url}/{MOMENTUM}")
    title = page.evaluate("(() => { const h = document.querySelector('article h1').cloneNode(true);"
                          " h.querySelectorAll('.headerlink').forEach((l) => l.remove());"
                          " return h.textContent.trim(); })()")
    # Back to top: shown as Furo shows it (scrolled down, then a little up), it covers no text.
    page.evaluate("scrollTo(0, document.body.scrollHeight / 2)")
    page.mouse.wheel(0, -300)
    page.wait_for_timeout(300)
    back = page.locator(".back-to-top")
    if view == "desktop":
        back.wait_for(state="visible")
        covered = page.evaluate(f"""(b) => {{ const r = b.getBoundingClientRect();
            return [...document.querySelectorAll('{TEXT}')].filter((t) => {{ const q = t.getBoundingClientRect();
              return q.width && q.left < r.right && q.right > r.left && q.top < r.bottom
                && q.bottom > r.top; }}).length; }}""",
            back.element_handle())
        assert covered == 0
    else:
        assert back.is_hidden()
        brand = page.locator(".mobile-header .header-center a")
        assert brand.inner_text().strip() == title                                   # the page, not the book
        brand.click()
        page.wait_for_function("scrollY === 0")
        lines = page.evaluate("(() => { const h = document.querySelector('article h1');"
                              " return h.getBoundingClientRect().height"
                              " / parseFloat(getComputedStyle(h).lineHeight); })()")
        assert lines < 1.5                                                            # one line
    # The theme toggle names the scheme that is on, and follows a change.
    toggle = page.locator(".theme-toggle").locator("visible=true").first
    assert "sistemin ayarı" in toggle.get_attribute("aria-label")
    toggle.click()
    page.wait_for_function("(b) => !b.getAttribute('aria-label').includes('sistemin ayarı')",
                           arg=toggle.element_handle())
    assert toggle.get_attribute("title") == toggle.get_attribute("aria-label")
    # No index page, and nothing links one.
    assert page.locator("[href*='genindex']").count() == 0
    assert not (paths.site("html") / "genindex.html").exists()
    assert one.errors == []


OUTSIDE = """() => { const marked = (a) => getComputedStyle(a, '::after').content.includes('↗');
  const links = [...document.querySelectorAll('article[role=main] a[href], .sidebar-tree a[href]')]
    .filter((a) => !a.closest('.headerlink, #d2l-preview')
                   && a.checkVisibility({visibilityProperty: true}) !== undefined);
  const leaves = (a) => new URL(a.href).origin !== location.origin;
  const first = [...document.querySelectorAll('article[role=main] a[href]')].find(leaves);
  const notes = [...document.querySelectorAll('article[role=main] .d2l-outside-note')];
  return {unmarked: links.filter((a) => leaves(a) && !marked(a)).map((a) => a.href),
          wrongly: links.filter((a) => !leaves(a) && marked(a)).map((a) => a.href),
          outside: links.filter(leaves).length, notes: notes.map((n) => n.textContent),
          after: !!first && notes.length === 1 && notes[0].previousElementSibling.contains(first)}; }"""


@pytest.mark.parametrize("view", VIEWS)
def test_links_that_leave_the_site_carry_one_marker_explained_once(reader, chapter, view):
    """Issue 30.7: ↗ in the text, an icon in the sidebar, nothing in the front and chapter pages' tables of
    contents nor on distill.pub or discuss.d2l.ai links, and nowhere said what ↗ means. Now every link
    leaving the site carries ↗, and each page says once, after the first one, what it means."""
    url, _ = chapter
    one = reader(view)
    for path in ("index.html", "chapter_optimization/index.html", MOMENTUM):
        page = one.open(f"{url}/{path}")
        found = page.evaluate(OUTSIDE)
        assert found["outside"] and found["unmarked"] == [] and found["wrongly"] == [], (path, found)
        assert found["after"] and "↗" in found["notes"][0], (path, found)
    assert one.errors == []
