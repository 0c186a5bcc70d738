"""The built chapter in a real browser: Playwright driving Debian's Chromium, headless."""
from __future__ import annotations

import functools
import http.server
import shutil
import threading

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(chapter_site):
    handler = functools.partial(QuietHandler, directory=str(chapter_site[0]))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    if not shutil.which("chromium"):
        pytest.fail("Chromium is missing: `make test` installs it (as root), or: sudo apt-get install chromium",
                    pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


def selected(page) -> list[str]:
    return page.eval_on_selector_all(
        ".d2l-tabs .sphinx-tabs-tab[aria-selected='true']", "tabs => tabs.map(t => t.dataset.d2lTab)")


def test_tabs_switch_together_persist_and_math_typesets(server, browser, tmp_path_factory):
    context = browser.new_context()
    page = context.new_page()
    requests, problems = [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(f"{server}/chapter_optimization/momentum.html")
    page.wait_for_load_state("networkidle")
    groups = page.locator(".d2l-tabs").count()
    assert groups == 12
    assert set(selected(page)) == {"mxnet"}

    page.locator(".d2l-tabs .sphinx-tabs-tab[data-d2l-tab='pytorch']").nth(3).click()
    assert selected(page) == ["pytorch"] * groups
    visible = page.locator(".d2l-tabs .sphinx-tabs-panel:not([hidden])")
    assert visible.count() == groups
    assert "from d2l import torch as d2l" in page.locator(".d2l-tabs .sphinx-tabs-panel:not([hidden])").first.inner_text()

    page.reload()
    page.wait_for_load_state("networkidle")
    assert selected(page) == ["pytorch"] * groups                     # remembered across visits

    page.goto(f"{server}/index.html")
    page.goto(f"{server}/chapter_optimization/momentum.html?tab=tensorflow")
    page.wait_for_load_state("networkidle")
    assert selected(page) == ["tensorflow"] * groups                  # chosen by the URL

    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise"
                           " && document.querySelectorAll('mjx-container').length > 0",
                           timeout=30000)
    page.evaluate("() => MathJax.startup.promise")
    typeset = page.locator("mjx-container").count()
    raw = page.evaluate("() => [...document.querySelectorAll('span.math, div.math')]"
                        ".filter(e => !e.querySelector('mjx-container')).length")
    assert typeset > 50 and raw == 0                                  # every formula typeset
    assert page.locator("mjx-merror, [data-mjx-error]").count() == 0

    # Copy buttons on code, not on outputs; the code lands on the clipboard as shown.
    assert page.locator("div.cell_input .copybtn").count() > 20
    assert page.locator("div.cell_output .copybtn").count() == 0

    shot = tmp_path_factory.getbasetemp() / "momentum.png"
    page.screenshot(path=str(shot), full_page=False)
    foreign = [url for url in requests if not url.startswith(server) and not url.startswith("data:")]
    assert foreign == []
    assert problems == []
    context.close()


def test_search_finds_the_chapter_for_turkish_words(server, browser):
    page = browser.new_page()
    for word in ("gradyan", "gradyanların"):
        page.goto(f"{server}/search.html?q={word}")
        page.wait_for_function("() => document.querySelectorAll('#search-results ul.search li').length > 0",
                               timeout=20000)
        hits = page.eval_on_selector_all("#search-results li a", "links => links.map(a => a.href)")
        assert any("chapter_optimization/momentum.html" in hit for hit in hits), (word, hits)
    page.close()
