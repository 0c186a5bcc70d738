"""The reader's view: the built sites in Debian's Chromium, driven by Playwright, at 1366×900
and 390×844, checked with axe-core, in light, and in dark where colour matters. Expected counts come
from the merged notebooks (tests/books.py). Browser contexts are closed by the `reader` fixture."""
from __future__ import annotations

import re

import pytest
from books import REAL, VIEWS, display_equations, merged_pages, served, settled, tab_groups


@pytest.fixture(scope="module")
def server(site):
    with served(site[0].site("html")) as url:
        yield url, site


def main_page(site) -> tuple[str, dict]:
    """The site's page with the most tab groups, and its merged notebook."""
    return max(merged_pages(site[0].staging).items(), key=lambda item: tab_groups(item[1]))


def open_main_page(reader, server, view: str = "desktop", scheme: str = "light"):
    """(reader, page, docname, merged notebook): the site's main page opened as a reader would."""
    base, site = server
    docname, nb = main_page(site)
    one = reader(view, scheme)
    return one, one.open(f"{base}/{docname}.html"), docname, nb


def brightness(colour: str) -> float:
    """The mean of a CSS rgb()/rgba() colour's channels, 0 (black) to 255 (white)."""
    red, green, blue = map(float, re.findall(r"[\d.]+", colour)[:3])
    return (red + green + blue) / 3


def selected(page) -> list[str]:
    return page.eval_on_selector_all(".d2l-tabs .sphinx-tabs-tab[aria-selected='true']",
                                     "tabs => tabs.map(t => t.dataset.d2lTab)")


def visible_panels(page) -> list[str]:
    return page.eval_on_selector_all(".d2l-tabs .sphinx-tabs-panel",
                                     "ps => ps.filter(p => getComputedStyle(p).display !== 'none')"
                                     ".map(p => p.dataset.d2lTab)")


@pytest.mark.parametrize("view", VIEWS)
def test_what_a_reader_meets(reader, server, view):
    """Layout, contents and axe, in the light scheme (colour: test_the_dark_scheme_*)."""
    base, site = server
    one, page, docname, nb = open_main_page(reader, server, view)
    width = VIEWS[view]["viewport"]["width"]

    # Nothing scrolls sideways; every tab bar is one line.
    assert page.evaluate("document.documentElement.scrollWidth") == width
    rows = page.eval_on_selector_all(".d2l-tabs [role=tablist]",
                                     "lists => lists.map(l => new Set([...l.children].map(b => b.offsetTop)).size)")
    assert rows and set(rows) == {1}
    # Equations: numbered at the right, each formula typeset with MathML for screen readers.
    numbers = page.locator("div.math .eqno")
    assert numbers.count() == display_equations(nb)
    assert page.locator("mjx-container").count() == page.locator("mjx-assistive-mml").count() > 0
    assert brightness(page.evaluate("getComputedStyle(document.body).backgroundColor")) > 155
    # The book's contents on the left (a drawer on phones), search and "Bu sayfada" reachable from the top.
    if view == "phone":
        assert page.locator(".sidebar-drawer").evaluate("e => e.getBoundingClientRect().right <= 0")
        header = page.locator("header.mobile-header")
        title = page.title().rsplit(" - ", 1)[0]                        # "<page> - <book>": the page (issue 30.10)
        assert header.bounding_box()["y"] == 0 and header.locator(".brand").inner_text().endswith(title)
        assert header.locator("a.d2l-header-search").is_visible()
        header.locator("[data-for=__navigation]").click()
        page.wait_for_function("document.querySelector('.sidebar-drawer').getBoundingClientRect().left >= 0")
        page.locator("label.overlay.sidebar-overlay").click(position={"x": 380, "y": 400}, force=True)
    else:
        assert page.locator(".sidebar-drawer .sidebar-search").is_visible()
        assert page.locator(".toc-drawer .toc-title").inner_text().strip().lower() == "bu sayfada"
    pages = merged_pages(site[0].staging)
    outside = page.locator(".sidebar-tree a.reference.external")            # sections of the published edition
    assert page.locator(".sidebar-tree a").count() - outside.count() == len(pages) - 1   # every page but the front
    assert all(href.startswith(REAL.book.published_url) for href in outside.evaluate_all("a => a.map(x => x.href)"))
    assert page.locator(".sidebar-tree li.current-page").count() == 1
    # Previous and next, at the bottom.
    assert page.locator("footer .related-pages a.prev-page").count() == 1
    assert page.locator("footer .related-pages a.next-page").count() == 1
    # axe finds nothing.
    assert one.axe() == []
    assert one.errors == []
    foreign = [url for url in one.requests if not url.startswith(base) and not url.startswith("data:")]
    assert foreign == []


@pytest.mark.parametrize("view", VIEWS)
def test_the_dark_scheme_is_the_systems_and_every_text_stays_readable(reader, chapter_site, view):
    """Where colour matters: the system's dark scheme on the page, figures on white (matplotlib draws black
    on transparent), and axe (contrast above all) finds nothing. The real chapter holds every kind of
    thing the multi-section book does, and more (the explorer's panel, citations); the same CSS styles both."""
    with served(chapter_site[0].site("html")) as base:
        one, page, docname, nb = open_main_page(reader, (base, chapter_site), view, "dark")
        assert brightness(page.evaluate("getComputedStyle(document.body).backgroundColor")) < 100
        image = page.locator(".cell_output img").first
        image.scroll_into_view_if_needed()
        assert image.evaluate("img => getComputedStyle(img).backgroundColor") == "rgb(255, 255, 255)"
        assert one.axe() == []
        assert one.errors == []


def test_this_page_list_follows_the_reader(reader, server):
    one, page, docname, _ = open_main_page(reader, server, "desktop")
    headings = page.locator("article section[id] > h2")
    page.mouse.move(600, 400)
    page.mouse.wheel(0, 800)                       # as a reader scrolls
    # The list marks the last section whose top is in the upper half of the screen, once the scroll ends.
    page.wait_for_function("""() => {
      const current = [...document.querySelectorAll('.toc-tree .scroll-current > a')].pop();
      const onScreen = [...document.querySelectorAll('article section[id]')]
        .filter((s) => s.getBoundingClientRect().top < innerHeight / 2).map((s) => '#' + s.id);
      return scrollY > 0 && current !== undefined && onScreen.includes(current.getAttribute('href'));
    }""")
    # Heading anchors.
    assert page.locator("article h2 a.headerlink").count() == headings.count()


def test_dark_mode_toggle_overrides_the_system_and_is_remembered(reader, server):
    one, page, docname, _ = open_main_page(reader, server, "desktop", "light")
    toggle = page.locator(".theme-toggle-content .theme-toggle")
    for _ in range(3):
        if page.evaluate("document.body.dataset.theme") == "dark":
            break
        toggle.click()
    assert page.evaluate("document.body.dataset.theme") == "dark"
    page.reload()
    assert page.evaluate("document.body.dataset.theme") == "dark"
    assert brightness(page.evaluate("getComputedStyle(document.body).backgroundColor")) < 100


@pytest.mark.parametrize("view", VIEWS)
def test_tabs_switch_together_persist_and_follow_the_address(reader, server, view):
    base, site = server
    docname, nb = main_page(site)
    groups = tab_groups(nb)
    first, second, third = (fw.name for fw in REAL.frameworks[:3])
    one = reader(view)
    page = one.open(f"{base}/{docname}.html")
    assert set(selected(page)) == {first}
    page.locator(f".d2l-tabs .sphinx-tabs-tab[data-d2l-tab='{second}']").nth(groups - 1).click()
    assert selected(page) == [second] * groups and set(visible_panels(page)) == {second}
    page.reload()
    settled(page)
    assert selected(page) == [second] * groups                       # remembered
    # The chooser under the title sets every group.
    page.locator(f".d2l-chooser button[data-d2l-choose='{third}']").click()
    assert selected(page) == [third] * groups
    assert page.locator(f".d2l-chooser button[data-d2l-choose='{third}']").get_attribute("aria-pressed") == "true"
    # ?tab= ignores case; an unknown value is neither selected nor saved.
    label = REAL.frameworks[1].label.upper()
    page.goto(f"{base}/{docname}.html?tab={label}")
    settled(page)
    assert selected(page) == [second] * groups
    page.goto(f"{base}/{docname}.html?tab=nonsense")
    settled(page)
    assert selected(page) == [second] * groups
    assert page.evaluate("localStorage.getItem('d2l-tab')") == second
    # Arrow keys move between tabs.
    page.locator(f".d2l-tabs .sphinx-tabs-tab[data-d2l-tab='{second}']").first.focus()
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.dataset.d2lTab") == third
    assert one.errors == []


@pytest.mark.parametrize("view", VIEWS)
def test_the_saved_framework_shows_from_the_first_paint(reader, server, view):
    """No flash of the default tab: before any script of the page runs, and at the first frame,
    only the saved framework's panels are visible."""
    base, site = server
    docname, _ = main_page(site)
    saved = REAL.frameworks[-1].name
    one = reader(view, fresh=True)   # its context gets a script of the test's own
    one.context.add_init_script(f"""
      try {{ localStorage.setItem('d2l-tab', '{saved}'); }} catch (e) {{}}
      window.__seen = [];
      const look = (when) => window.__seen.push([when, [...document.querySelectorAll('.d2l-tabs .sphinx-tabs-panel')]
        .filter(p => getComputedStyle(p).display !== 'none').map(p => p.dataset.d2lTab)]);
      requestAnimationFrame(() => look('first frame'));
      document.addEventListener('DOMContentLoaded', () => look('parsed, before any handler'), {{capture: true}});
    """)
    page = one.open(f"{base}/{docname}.html")
    seen = page.evaluate("window.__seen")
    assert any(when.startswith("parsed") for when, _ in seen)
    for when, panels in seen:
        assert set(panels) <= {saved}, (when, panels)
    assert set(visible_panels(page)) == {saved}


def test_search_folds_turkish_capitals(reader, chapter_site):
    """Capitals find what lower case finds (Turkish rules: İ→i, I→ı), with a Turkish result count."""
    docname, _ = main_page(chapter_site)
    with served(chapter_site[0].site("html")) as base:
        one = reader()
        for lower in ("ilk", "dışbükey", "gradyanların"):
            found = {}
            for query in (lower, lower.replace("i", "İ").replace("ı", "I").upper()):
                page = one.open(f"{base}/search.html?q={query}")
                page.locator("#search-results p.search-summary").wait_for()
                found[query] = page.eval_on_selector_all("#search-results li a",
                                                         "a => a.map(x => x.getAttribute('href'))")
                text = page.locator("#search-results p.search-summary").inner_text()
                assert text.startswith("Arama bitti:") and "sayfa bulundu" in text
            upper, lower_hits = found[query], found[lower]
            assert upper == lower_hits and any(f"{docname}.html" in href for href in upper), (query, found)
        assert one.errors == []


@pytest.mark.parametrize("view", VIEWS)
def test_keyboard_path_formulas_are_not_tab_stops(reader, server, view):
    one, page, docname, _ = open_main_page(reader, server, view)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className").startswith("skip-to-content")
    landed = []
    for _ in range(80):
        page.keyboard.press("Tab")
        landed.append(page.evaluate("""(() => { const e = document.activeElement;
            if (e.matches('mjx-container[role=region]') && e.scrollWidth > e.clientWidth)
              return 'scrolling formula box';
            return e.closest('mjx-container') ? 'formula' : e.tagName + '.' + e.className })()"""))
        if "sphinx-tabs-tab" in landed[-1]:
            break
    # No formula is a tab stop; a formula too wide for the screen scrolls in a box the keyboard reaches.
    assert "formula" not in landed and "sphinx-tabs-tab" in landed[-1], landed
    assert ("scrolling formula box" in landed) == (page.evaluate(
        "[...document.querySelectorAll('div.math > mjx-container')].some(m => m.scrollWidth > m.clientWidth"
        " && m.getBoundingClientRect().top < document.querySelector('.d2l-tabs').getBoundingClientRect().top)"))


FORMULA_BOXES = """() => [...document.querySelectorAll('div.math')].filter((m) => m.querySelector('.eqno')).map((m) => {
  const box = m.querySelector('mjx-container');
  const drawing = [...box.querySelectorAll(':scope > svg')].find((s) => s.checkVisibility());
  return {right: box.getBoundingClientRect().right, number: m.querySelector('.eqno').getBoundingClientRect().left,
          wide: drawing.getBoundingClientRect().width > box.clientWidth + 1,
          scrolls: box.scrollWidth > box.clientWidth + 1}; })"""


@pytest.mark.parametrize("view", VIEWS)
def test_formulas_scroll_beside_their_numbers_and_screen_readers_get_every_one(reader, server, view):
    """A numbered formula never runs under its number: one too wide for the screen scrolls in its own box.
    Its drawing is laid out only near the screen, and drawn when the reader gets there; the MathML of
    every formula on show is in the accessibility tree, as MathML."""
    one, page, docname, _ = open_main_page(reader, server, view)
    boxes = page.evaluate(FORMULA_BOXES)
    assert boxes and all(box["right"] <= box["number"] + 0.5 for box in boxes), boxes
    assert [box["wide"] for box in boxes] == [box["scrolls"] for box in boxes]
    if any(box["wide"] for box in boxes):
        scrolled = page.evaluate("""() => { const box = [...document.querySelectorAll('div.math > mjx-container')]
            .find((b) => b.scrollWidth > b.clientWidth + 1); box.scrollLeft = 40; return box.scrollLeft; }""")
        assert scrolled > 0

    last = page.evaluate_handle("[...document.querySelectorAll('mjx-container > svg')]"
                                ".filter((s) => s.checkVisibility()).at(-1)")
    drawn = "(svg) => svg.querySelector('g').checkVisibility({contentVisibilityAuto: true})"
    if last.evaluate("(svg) => svg.getBoundingClientRect().top > 3 * innerHeight"):
        assert not last.evaluate(drawn)
    last.scroll_into_view_if_needed()
    page.wait_for_function(drawn, arg=last)

    shown = page.evaluate("[...document.querySelectorAll('mjx-container')].filter((c) => c.checkVisibility()).length")
    tree = one.context.new_cdp_session(page).send("Accessibility.getFullAXTree")["nodes"]
    spoken = [node for node in tree if not node.get("ignored") and node.get("role", {}).get("value") == "MathMLMath"]
    assert shown and len(spoken) == shown
    assert one.errors == []


@pytest.mark.parametrize("view", VIEWS)
def test_figures_have_alt_text_and_copy_buttons_speak_turkish(reader, server, view):
    one, page, docname, _ = open_main_page(reader, server, view)
    alts = page.eval_on_selector_all(".cell_output img", "imgs => imgs.map(i => i.alt)")
    assert alts and all(" çıktısı: " in alt and ".svg" not in alt for alt in alts)
    assert page.locator("div.cell_input .copybtn").count() > 0
    assert page.locator("div.cell_output .copybtn").count() == 0
    tooltips = page.eval_on_selector_all("div.cell_input .copybtn", "b => b.map(x => x.dataset.tooltip)")
    assert set(tooltips) == {"Kopyala"}
