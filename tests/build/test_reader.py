"""The reader's site, second round (issue 15), in Debian's Chromium at 1366×900 and 390×844: one
framework choice on every page and visit; the page by keyboard and on a phone (WAI-ARIA patterns,
WCAG 2.2 target sizes); without scripts; in print; search. Expected counts and texts come from
the merged notebooks and the built pages, never typed in."""
from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path

import pytest
from books import (
    INDEX,
    REAL,
    VIEWS,
    Book,
    cells_of,
    follow_contents_link,
    merged_pages,
    printed,
    read_in_one_framework,
    scroll_through,
    served,
    settled,
    tab_groups,
)
from reader_checks import TARGETS, accessible_name, problems, too_small, walk

from bookbuild.config import PAGE_LIMIT_GZIP, ROOT
from bookbuild.render import turkish

FIRST, SECOND, THIRD = (fw.name for fw in REAL.frameworks[:3])
TABS = ".d2l-tabs .sphinx-tabs-tab"
FOCUSABLES = "a[href], button, input:not([type=hidden]), select, textarea, [tabindex]:not([tabindex='-1'])"


@pytest.fixture(scope="module")
def server(site):
    with served(site[0].site("html")) as url:
        yield url, site[0]


@pytest.fixture(scope="module")
def chapter(chapter_site):
    with served(chapter_site[0].site("html")) as url:
        yield url, chapter_site[0]


# A figure shown (in the chosen framework's panels): its box, and whether it has loaded.
FIGURE_BOXES = ("[...document.querySelectorAll('article img')].filter((image) => image.checkVisibility())"
                ".map((image) => [image.getAttribute('src'), image.getBoundingClientRect().height, image.complete])")


def test_a_figure_keeps_the_box_the_page_reserved_for_it_as_it_loads(reader, chapter):
    """Figures load as the reader nears them; one whose box changed as it loaded, by a fraction of a
    pixel, moved everything below it (see the next test)."""
    url, _ = chapter
    page = reader("desktop").open(f"{url}/chapter_optimization/momentum.html")
    reserved = page.evaluate(FIGURE_BOXES)
    assert any(not loaded for _, _, loaded in reserved)              # figures below the screen wait
    scroll_through(page)
    loaded = page.evaluate(FIGURE_BOXES)
    assert [src for src, _, _ in loaded] == [src for src, _, _ in reserved] and all(done for *_, done in loaded)
    assert [box for _, box, _ in loaded] == pytest.approx([box for _, box, _ in reserved], abs=0.01)


def test_a_contents_link_lands_on_its_section_and_marks_it(reader, chapter):
    """The deepest section "Bu sayfada" lists that the page can bring to the top, chosen there: the page
    stops where the theme puts a target (its scroll margin), and marks that section's entry, though the
    figures above it load on the way."""
    url, _ = chapter
    page = reader("desktop").open(f"{url}/chapter_optimization/momentum.html")
    target = page.evaluate("""() => [...document.querySelectorAll('.toc-tree a[href^="#"]')]
        .map((link) => document.getElementById(link.hash.slice(1))).filter((section) => section &&
             section.getBoundingClientRect().top + scrollY + innerHeight <= document.documentElement.scrollHeight)
        .pop().id""")
    landed = follow_contents_link(page, target)
    margin = page.evaluate("(id) => parseFloat(getComputedStyle(document.getElementById(id)).scrollMarginTop)", target)
    assert landed == pytest.approx(margin, abs=1)
    assert page.evaluate("document.querySelector('.toc-tree li.scroll-current > a').hash") == f"#{target}"


def main_page(paths) -> tuple[str, dict]:
    """The site's page with the most tab groups, and its merged notebook."""
    return max(merged_pages(paths.staging).items(), key=lambda item: tab_groups(item[1]))


def selected(page) -> list[str]:
    return page.eval_on_selector_all(f"{TABS}[aria-selected='true']", "tabs => tabs.map(t => t.dataset.d2lTab)")


def shown(page) -> set[str]:
    return set(page.eval_on_selector_all(".d2l-tabs .sphinx-tabs-panel", "ps => ps.filter(p => "
                                          "getComputedStyle(p).display !== 'none').map(p => p.dataset.d2lTab)"))


def stored(page) -> tuple[str | None, str | None]:
    return tuple(page.evaluate("[localStorage.getItem('d2l-tab'),"
                               " sessionStorage.getItem('sphinx-tabs-last-selected')]"))


def showing(page, name: str, groups: int) -> bool:
    return selected(page) == [name] * groups and shown(page) == {name} and page.eval_on_selector_all(
        "[data-d2l-choose][aria-pressed='true']", "b => b.map(x => x.dataset.d2lChoose)") == [name]


# --- 1. one framework choice ---------------------------------------------------------------------

def test_one_framework_choice_on_every_page_and_visit(reader, server):
    base, paths = server
    docname, nb = main_page(paths)
    groups = tab_groups(nb)
    url = f"{base}/{docname}.html"
    one = reader()
    page = one.open(url)
    assert showing(page, FIRST, groups)                                       # the book's default
    # The sequence: a tab of a group, then the chooser, then reload.
    page.locator(f"{TABS}[data-d2l-tab='{SECOND}']").last.click()
    page.locator(f".d2l-chooser button[data-d2l-choose='{THIRD}']").click()
    assert showing(page, THIRD, groups) and stored(page) == (THIRD, None)    # no stale copy in storage
    page.reload()
    settled(page)
    assert showing(page, THIRD, groups) and stored(page) == (THIRD, None)
    # ?tab= is the highest authority; a click afterwards is remembered and put in the address.
    page.goto(f"{url}?tab={FIRST}")
    settled(page)
    assert showing(page, FIRST, groups) and stored(page) == (FIRST, None)
    page.locator(f"{TABS}[data-d2l-tab='{SECOND}']").first.click()
    assert showing(page, SECOND, groups) and stored(page) == (SECOND, None)
    assert f"tab={SECOND}" in page.url
    page.reload()
    settled(page)
    assert showing(page, SECOND, groups)
    # A new browser tab of the same reader; a choice made there is followed here.
    other = one.context.new_page()
    other.goto(url)
    settled(other)
    assert showing(other, SECOND, groups)
    other.locator(f".d2l-chooser button[data-d2l-choose='{THIRD}']").click()
    page.wait_for_function(f"[...document.querySelectorAll(\"{TABS}[aria-selected='true']\")]"
                           f".every(t => t.dataset.d2lTab === '{THIRD}')")
    assert showing(page, THIRD, groups) and f"tab={THIRD}" in page.url
    other.close()
    # The front page (no tabs) and back; then every page with tabs.
    page.goto(f"{base}/index.html")
    settled(page)
    page.go_back()
    settled(page)
    assert showing(page, THIRD, groups)
    for name, notebook in merged_pages(paths.staging).items():
        if tab_groups(notebook):
            page.goto(f"{base}/{name}.html")
            settled(page)
            assert showing(page, THIRD, tab_groups(notebook)), name
    assert one.errors == []


def test_a_reader_lent_to_the_next_test_has_forgotten_everything(reader, chapter):
    """The readers the tests share (conftest.reader) start as a new device would: nothing stored, one
    tab, the screen, nothing collected."""
    base, paths = chapter
    docname, _ = main_page(paths)
    one = reader()
    page = one.open(f"{base}/{docname}.html?tab={SECOND}")
    page.evaluate("localStorage.setItem('d2l-test', '1'); sessionStorage.setItem('d2l-test', '1')")
    one.context.new_page().goto(f"{base}/index.html")
    page.emulate_media(media="print")
    one.errors.append("an error of the test before")
    one.forget()
    page = one.open(f"{base}/{docname}.html")
    assert page.evaluate("[localStorage.length, sessionStorage.length, matchMedia('print').matches]") == [0, 0, False]
    assert one.context.pages == [page] and one.errors == [] and one.requests[0] == f"{base}/{docname}.html"
    groups = tab_groups(merged_pages(paths.staging)[docname])
    assert showing(page, FIRST, groups)


def test_a_page_settles_once_its_requests_end_and_names_one_that_never_does(reader, tmp_path):
    """books.settled, which every test's page waits for: a request that never ends is named, not waited
    on silently, and the page is settled only once it has ended."""
    with socket.socket() as silent:                            # takes connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        never = f"http://127.0.0.1:{silent.getsockname()[1]}/never"
        (tmp_path / "index.html").write_text(f"<!doctype html><title>t</title><script>fetch('{never}')</script>")
        with served(tmp_path) as base:
            one = reader(fresh=True)
            one.page.goto(f"{base}/index.html")
            with pytest.raises(TimeoutError, match=f"requests still open after 1 s: \\['{re.escape(never)}'\\]"):
                one.page.d2l_requests.settle(timeout=1)
    settled(one.page)                                          # the connection closed: the request has failed


# --- 2. keyboard and phone ---------------------------------------------------------------------

def furo_english() -> list[str]:
    """The English the site puts through its catalog (locale/): none of it may reach a reader."""
    po = (ROOT / "locale/tr/LC_MESSAGES/sphinx.po").read_text(encoding="utf-8")
    return [english for english in re.findall(r'^msgid "(.+)"$', po, re.M) if len(english) > 6]


@pytest.mark.parametrize("view", VIEWS)
def test_every_tab_stop_is_visible_on_screen_ringed_and_named(reader, chapter, view):
    base, paths = chapter
    docname, nb = main_page(paths)
    page = reader(view, motion="reduce").open(f"{base}/{docname}.html")   # no smooth scroll to wait for
    limit = page.eval_on_selector_all(FOCUSABLES, "e => e.length") + 5
    stops = walk(page, limit)
    assert 0 < len(stops) < limit                                         # focus came back round
    assert [(stop["what"], name, problems(stop, name)) for stop, name in stops if problems(stop, name)] == []
    english = furo_english()
    assert [name for _, name in stops if any(words in name for words in english)] == []
    # One stop per tab bar, a copy button per code cell of the framework shown, and nothing inside
    # a closed drawer (a phone's: they would be off screen).
    whats = [stop["what"] for stop, _ in stops]
    assert sum("sphinx-tabs-tab" in what for what in whats) == tab_groups(nb)
    assert sum("copybtn" in what for what in whats) == len(cells_of(nb, FIRST))
    assert page.evaluate("[...document.querySelectorAll('.sidebar-drawer, .toc-drawer')].every(d => "
                         "getComputedStyle(d).position !== 'fixed' || d.inert)")


def test_drawers_open_and_close_by_keyboard(reader, chapter):
    base, paths = chapter
    docname, _ = main_page(paths)
    page = reader("phone").open(f"{base}/{docname}.html")
    for checkbox, drawer in (("__navigation", ".sidebar-drawer"), ("__toc", ".toc-drawer")):
        opener = f".mobile-header [data-for={checkbox}]"
        for _ in range(12):                                                 # reached by Tab from the top
            page.keyboard.press("Tab")
            if page.evaluate("(s) => document.activeElement.matches(s)", opener):
                break
        assert page.evaluate("(s) => document.activeElement.matches(s)", opener)
        name = accessible_name(page)
        assert name and page.get_attribute(opener, "aria-expanded") == "false"
        assert page.evaluate("(s) => document.querySelector(s).inert", drawer)
        for key in ("Enter", "Space"):
            page.keyboard.press(key)
            page.wait_for_function("(s) => { const r = document.querySelector(s).getBoundingClientRect();"
                                   " return r.left >= 0 && r.right <= innerWidth; }", arg=drawer)
            assert page.get_attribute(opener, "aria-expanded") == "true"
            assert page.evaluate("(s) => document.activeElement.closest(s) !== null", drawer)
            # Modal: Tab stays inside, and every stop there is visible and named.
            inside = page.eval_on_selector(drawer, f"d => d.querySelectorAll(\"{FOCUSABLES}\").length")
            stops = walk(page, inside + 3, within=drawer)
            assert all("outside" not in stop for stop, _ in stops), stops[-1]
            assert [(stop["what"], n, problems(stop, n)) for stop, n in stops if problems(stop, n)] == []
            if key == "Enter":
                page.keyboard.press("Escape")
            else:
                page.focus(f"{drawer} .d2l-drawer-close")
                page.keyboard.press("Enter")
            page.wait_for_function("(s) => document.querySelector(s).inert", arg=drawer)
            assert page.evaluate("(s) => document.activeElement.matches(s)", opener)
            assert page.get_attribute(opener, "aria-expanded") == "false"
            assert not page.evaluate("document.querySelector('.main').inert")
    # A heading chosen in the "on this page" drawer shuts it.
    page.locator(".mobile-header [data-for=__toc]").click()
    page.locator(".toc-drawer .toc-tree a[href^='#']").last.click()
    page.wait_for_function("document.querySelector('.toc-drawer').inert && !document.getElementById('__toc').checked")


def test_landmarks_drawers_and_header_search_are_named_from_the_catalog(reader, chapter):
    """Furo writes these names in English; the reader meets the catalog's Turkish (locale/)."""
    base, paths = chapter
    docname, _ = main_page(paths)
    page = reader("phone").open(f"{base}/{docname}.html")
    catalog = page.evaluate("Documentation.TRANSLATIONS")
    named = {".sidebar-drawer": "Table of Contents", ".toc-drawer": "On this page",
             "nav:has(> a.back-to-top)": "Back to top", ".mobile-header [data-for=__navigation]":
             "Toggle site navigation sidebar", ".mobile-header [data-for=__toc]": "Toggle table of contents sidebar",
             ".mobile-header a.d2l-header-search": "Search"}   # the theme toggle's name: test_reader_third
    for selector, english in named.items():
        assert page.get_attribute(selector, "aria-label") == catalog[english] != english, selector
    assert page.locator(".mobile-header a.d2l-header-search").is_visible()


def test_tabs_by_keyboard(reader, chapter):
    base, paths = chapter
    docname, nb = main_page(paths)
    page = reader().open(f"{base}/{docname}.html")
    bar = page.locator(".d2l-tabs [role=tablist]").first
    order = bar.evaluate("b => [...b.children].map(t => t.dataset.d2lTab)")
    assert order == list(REAL.names)
    bar.locator("[aria-selected=true]").focus()
    focused = lambda: page.evaluate("document.activeElement.dataset.d2lTab")   # noqa: E731
    page.keyboard.press("End")
    assert focused() == order[-1]
    page.keyboard.press("Home")
    assert focused() == order[0]
    page.keyboard.press("ArrowRight")
    assert focused() == order[1]
    page.keyboard.press("Enter")
    assert showing(page, order[1], tab_groups(nb))
    # Out of the bar, Tab goes into the panel, not to the other tabs; back in, to the selected one.
    page.keyboard.press("Tab")
    assert not page.evaluate("document.activeElement.matches('[role=tab]')")
    page.keyboard.press("Shift+Tab")
    assert focused() == order[1] and page.evaluate("document.activeElement.getAttribute('aria-selected')") == "true"
    # A panel is a tab stop only when nothing in it is (WAI-ARIA tabs pattern).
    panels = page.eval_on_selector_all("[role=tabpanel]", f"""ps => ps.map(p => [p.getAttribute('tabindex'),
        !!p.querySelector("{FOCUSABLES}")])""")
    assert panels and all((stop == "0") != has_focusable for stop, has_focusable in panels), panels


@pytest.mark.parametrize("view", VIEWS)
def test_touch_targets_are_big_enough_and_apart(reader, chapter, view):
    base, paths = chapter
    docname, _ = main_page(paths)
    page = reader(view).open(f"{base}/{docname}.html")
    assert too_small(page.evaluate(TARGETS)) == []
    if view == "phone":                                    # the drawers' own targets, open
        for checkbox in ("__navigation", "__toc"):
            page.locator(f".mobile-header [data-for={checkbox}]").click()
            page.wait_for_function("(id) => document.getElementById(id).checked", arg=checkbox)
            assert too_small(page.evaluate(TARGETS)) == []
            page.keyboard.press("Escape")


def test_explorer_presets_are_toggle_buttons(reader, chapter):
    base, paths = chapter
    docname, _ = main_page(paths)
    page = reader().open(f"{base}/{docname}.html")
    explorer = page.locator(".d2l-interactive")
    explorer.scroll_into_view_if_needed()                   # built when the reader nears it
    presets = explorer.locator("button[aria-pressed]")
    presets.first.wait_for()
    assert presets.count() > 1

    def pressed_matches_sliders() -> bool:
        values = [float(v) for v in explorer.locator("input[type=range]").evaluate_all("s => s.map(x => x.value)")]
        for i in range(presets.count()):
            setting = [float(v) for v in re.findall(r"=\s*([\d.]+)", presets.nth(i).inner_text())]
            if (presets.nth(i).get_attribute("aria-pressed") == "true") != (setting == values):
                return False
        return True
    assert pressed_matches_sliders()
    presets.nth(presets.count() - 1).click()
    assert presets.nth(presets.count() - 1).get_attribute("aria-pressed") == "true" and pressed_matches_sliders()
    explorer.locator("input[type=range]").first.focus()
    page.keyboard.press("ArrowRight")
    assert pressed_matches_sliders()


# --- 3. without scripts --------------------------------------------------------------------------

@pytest.mark.parametrize("view", VIEWS)
def test_without_scripts_every_framework_is_readable_under_its_name(browser, chapter, view):
    base, paths = chapter
    docname, nb = main_page(paths)
    context = browser.new_context(**VIEWS[view], java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{base}/{docname}.html")
        settled(page)
        assert page.locator(".d2l-tabs [role=tablist]").first.is_hidden()     # no tab bar that does nothing
        assert page.locator(".d2l-chooser").is_hidden()
        panels = page.locator(".d2l-tabs [role=tabpanel]")
        assert panels.count() == tab_groups(nb) * len(REAL.frameworks)
        for fw in REAL.frameworks:
            mine = page.locator(f".d2l-tabs [role=tabpanel][data-d2l-tab='{fw.name}']")
            labels = mine.locator(":scope > .d2l-tab-label")
            assert labels.count() == tab_groups(nb)
            assert set(labels.all_inner_texts()) == {fw.label}
            assert all(label.is_visible() for label in labels.all())
            text = "\n".join(mine.all_inner_texts())
            assert all(line.strip() in text for line in printed(nb, fw.name)), fw.name
        # The interactive figure: a short text and a still, one of the page's own executed figures.
        explorer = page.locator(".d2l-interactive")
        still = explorer.locator("img")
        still.scroll_into_view_if_needed()
        page.wait_for_function("[...document.querySelectorAll('.d2l-interactive img')].every(i => i.complete)")
        assert explorer.is_visible() and "JavaScript" in explorer.inner_text()
        assert still.is_visible() and still.evaluate("i => i.naturalWidth") > 0
        sources = page.eval_on_selector_all(".cell_output img", "imgs => imgs.map(i => i.getAttribute('src'))")
        assert still.get_attribute("src") in sources and still.get_attribute("alt")
    finally:
        context.close()


# --- 4. print ---------------------------------------------------------------------------------------

def ink(pdf: Path, tmp: Path) -> list[tuple[float, float]]:
    """(how far down the page its last ink goes, the page's mean brightness 0–255) of each page."""
    subprocess.run(["pdftoppm", "-r", "20", "-gray", str(pdf), str(tmp / "page")], check=True)
    found = []
    for image in sorted(tmp.glob("page-*.pgm")):
        _, width, height, _, pixels = image.read_bytes().split(maxsplit=4)
        width, height = int(width), int(height)
        pixels = pixels[-width * height:]
        rows = [y for y in range(height) if min(pixels[y * width:(y + 1) * width]) < 200]
        found.append(((rows[-1] + 1) / height if rows else 0.0, sum(pixels) / len(pixels)))
    return found


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_print_shows_the_chosen_framework_and_no_chrome(reader, chapter, scheme, tmp_path):
    base, paths = chapter
    docname, nb = main_page(paths)
    chosen = REAL.frameworks[-1]
    page = reader("desktop", scheme).open(f"{base}/{docname}.html?tab={chosen.name}")
    # The explorer (built when the reader nears it) at a setting of the reader's own.
    page.locator(".d2l-interactive").scroll_into_view_if_needed()
    slider = page.locator(".d2l-interactive input[type=range]").first
    slider.focus()
    page.keyboard.press("ArrowRight")
    settings = page.eval_on_selector_all(".d2l-interactive input[type=range]", "s => s.map(x => "
                                         "[document.querySelector(`label[for='${x.id}']`).textContent, "
                                         "document.querySelector(`output[for='${x.id}']`).textContent])")
    chooser_label = page.inner_text(".d2l-chooser-label").strip()
    chrome = [page.inner_text(selector).strip() for selector in (".skip-to-content", ".d2l-downloads")]
    page.emulate_media(media="print")
    drawn = page.evaluate("""() => ['.skip-to-content', '.d2l-tabs [role=tablist]', '.d2l-drawer-bar',
        '.sidebar-drawer', '.toc-drawer', '.mobile-header', '.d2l-downloads', '.d2l-interactive input[type=range]',
        '.d2l-interactive button', '.copybtn', '.d2l-chooser button[aria-pressed=false]']
        .flatMap(s => [...document.querySelectorAll(s)].map(e => [s, e.getClientRects().length]))""")
    assert drawn and [selector for selector, boxes in drawn if boxes] == []
    pdf = tmp_path / "page.pdf"
    page.pdf(path=str(pdf), format="A4")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    lines = [re.sub(r"\s+", " ", line).strip() for line in text.splitlines()]
    # The framework, named once, at the top; its code in, the others' out.
    stated = [i for i, line in enumerate(lines) if line == f"{chooser_label} {chosen.label}"]
    assert len(stated) == 1 and stated[0] < 5, lines[:8]
    assert " ".join(fw.label for fw in REAL.frameworks) not in lines       # no tab bar
    mine = {line.strip() for c in cells_of(nb, chosen.name) for line in "".join(c["source"]).splitlines()}
    for fw in REAL.frameworks:
        own = {line.strip() for c in cells_of(nb, fw.name) for line in "".join(c["source"]).splitlines()}
        unique = sorted(line for line in own - {line.strip() for other in REAL.frameworks if other is not fw
                                                for c in cells_of(nb, other.name)
                                                for line in "".join(c["source"]).splitlines()}
                        if 12 < len(line) <= 60)                            # a line no page cuts
        assert unique, fw.name
        assert all((line in text) == (fw is chosen) for line in unique[:3]), (fw.name, unique[:3])
    assert mine and not [words for words in chrome if words in text]
    for label, value in settings:                                         # the explorer, as set
        assert f"{label.strip()} {value.strip()}" in " ".join(lines)
    # Pages: none more than half blank but the last; printed light whatever the screen's scheme.
    pages = ink(pdf, tmp_path)
    assert len(pages) > 1
    assert [round(depth, 2) for depth, _ in pages[:-1] if depth < 0.5] == []
    assert all(brightness > 200 for _, brightness in pages)


# --- 5. search ---------------------------------------------------------------------------------------

def search(reader_, base: str, query: str) -> tuple[object, list[tuple[str, str]]]:
    page = reader_.open(f"{base}/search.html?q={query}")
    page.locator("#search-results p.search-summary").wait_for()
    page.wait_for_function("[...document.querySelectorAll('#search-results li')]"
                           ".every(li => li.querySelector('p.context') || !li.classList.contains('kind-text'))")
    return page, page.eval_on_selector_all("#search-results li",
                                           "ls => ls.map(l => [l.querySelector('a').getAttribute('href'), "
                                           "(l.querySelector('p.context') || {}).textContent || ''])")


ARTICLE_TEXT = """() => { const article = document.querySelector('article').cloneNode(true);
  article.querySelectorAll('.no-search, script, style').forEach((chrome) => chrome.remove());
  return article.textContent.replace(/\\s+/g, ' '); }"""


@pytest.mark.parametrize("view", VIEWS)
def test_search_snippets_are_clean_and_the_box_is_there(reader, chapter, view):
    base, paths = chapter
    docname, _ = main_page(paths)
    one = reader(view)
    page = one.open(f"{base}/{docname}.html")
    prose = page.evaluate(ARTICLE_TEXT)
    chrome = [words for words in page.inner_text(".d2l-page-tools").split() if len(words) > 2 and words not in prose]
    formulas = page.evaluate("""() => [...document.querySelectorAll('article mjx-assistive-mml')]
        .filter((m) => m.querySelector('msub, msup, mfrac')).map((m) => m.textContent)""")
    first = page.evaluate("[...document.querySelectorAll('article p')].find(p => p.innerText.length > 80).innerText")
    word = max(re.findall(r"[^\W\d_]{6,}", first), key=len)
    page, results = search(one, base, word)
    snippets = [text for href, text in results if href.startswith(f"{docname}.html") and text]
    assert snippets and chrome and formulas
    assert not [(words, text) for text in snippets for words in chrome if words in text]
    # What snippets are cut from: the page's text, its chrome left out, each formula as linear text.
    text = page.evaluate("async (url) => Search.htmlToText(await (await fetch(url)).text())", f"{docname}.html")
    assert not [words for words in chrome if words in text]
    assert not [flat for flat in formulas if len(flat) > 3 and flat in text]
    assert re.search(r"\w_\{\w", text) and re.search(r"\w\^", text)            # g_{t, t − 1}, β^τ
    # The results page has a query box of its own, on screen, holding the query.
    box = page.locator(".d2l-search-form input[name=q]")
    assert box.is_visible() and box.input_value() == word
    assert box.evaluate("b => { const r = b.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight"
                        " && r.left >= 0 && r.right <= innerWidth; }")
    again = max((w for w in re.findall(r"[^\W\d_]{6,}", prose) if w != word), key=len)
    box.fill(again)
    box.press("Enter")
    page.wait_for_function("(w) => new URLSearchParams(location.search).get('q') === w", arg=again)
    page.locator("#search-results p.search-summary").wait_for()
    assert page.locator("#search-results li").count() > 0
    assert one.errors == []


def test_search_folds_to_ascii(reader, chapter):
    """What a reader types without Turkish letters finds the words with them."""
    base, paths = chapter
    docname, _ = main_page(paths)
    one = reader()
    prose = one.open(f"{base}/{docname}.html").evaluate(ARTICLE_TEXT)
    words = list(dict.fromkeys(w for w in re.findall(r"[^\W\d_]{6,}", prose) if re.search("[çğıöşü]", w)))[:3]
    dotted = next(w for w in re.findall(r"\b[a-z]{5,}\b", prose) if "i" in w)   # its capital is İ, not I
    for query in [turkish.ascii_fold(w) for w in words] + [turkish.ascii_fold(words[0]).upper(), dotted.upper()]:
        _, results = search(one, base, query)
        assert any(href.startswith(f"{docname}.html") for href, _ in results), (query, results)


def test_search_ranks_exact_matches_above_folded_ones(reader, tmp_path):
    pages = {"index.md": INDEX.replace("ch/page\n", "ch/page\nch/ascii\n"),
             "kaynakca.md": "# Kaynakça\n\nKaynak yok.\n",
             "ch/page.md": "# Türkçe Harflerle\n\nBu sayfa dışbükey fonksiyonları anlatır.\n",
             "ch/ascii.md": "# Without Turkish Letters\n\nThis page says disbukey, typed without them.\n"}
    book = Book(tmp_path, pages)
    book.build()
    with served(book.paths.site("html")) as base:
        one = reader()
        for query, exact, folded in (("disbukey", "ch/ascii", "ch/page"), ("dışbükey", "ch/page", "ch/ascii")):
            _, results = search(one, base, query)
            assert [href.split(".html")[0] for href, _ in results] == [exact, folded], (query, results)
            assert all(snippet for _, snippet in results)


# --- 7 (part). dark-mode code --------------------------------------------------------------------------

@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_code_names_are_not_underlined(reader, chapter, scheme):
    base, paths = chapter
    docname, _ = main_page(paths)
    page = reader("desktop", scheme).open(f"{base}/{docname}.html")
    names = page.eval_on_selector_all(".highlight .nn, .highlight .nc", "ns => ns.filter(n => n.offsetParent)"
                                      ".map(n => getComputedStyle(n).textDecorationLine)")
    assert names and set(names) == {"none"}


# --- 9. page weight ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("framework", REAL.names)
def test_page_weight_read_in_one_framework(reader, chapter, framework):
    """What a reader of one framework downloads, as served (gzip): at most 150 KB."""
    base, paths = chapter
    docname, _ = main_page(paths)
    page = reader(motion="reduce", fresh=True).open(f"{base}/{docname}.html?tab={framework}")   # nothing cached
    assert 0 < read_in_one_framework(page) <= PAGE_LIMIT_GZIP
