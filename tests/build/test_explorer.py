"""The momentum explorer (chapter_optimization/momentum.interactive.yml) on the real chapter:
its printed lines against a NumPy computation of the chapter's own update rules and against
what the executed cells printed; its sliders by keyboard; its state in the address; axe."""
from __future__ import annotations

import re

import nbformat
import numpy as np
import pytest
from books import AXE, REAL, VIEWS, follow_contents_link, served

PAGE = "chapter_optimization/momentum.html"


def train_2d(step, eta: float, beta: float) -> str:
    """d2l.train_2d's printed line, in NumPy float64, with the chapter's update rules."""
    x1, x2, s1, s2 = np.float64(-5), np.float64(-2), np.float64(0), np.float64(0)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(20):
            x1, x2, s1, s2 = step(x1, x2, s1, s2, np.float64(eta), np.float64(beta))
    return f"epoch 20, x1: {float(x1):f}, x2: {float(x2):f}"


def momentum_2d(x1, x2, v1, v2, eta, beta):     # the chapter's momentum_2d
    v1 = beta * v1 + 0.2 * x1
    v2 = beta * v2 + 4 * x2
    return x1 - eta * v1, x2 - eta * v2, v1, v2


def gd_2d(x1, x2, s1, s2, eta, beta):           # the chapter's gd_2d
    return (x1 - eta * 0.2 * x1, x2 - eta * 4 * x2, 0, 0)


def set_state(page, eta: float, beta: float) -> None:
    for key, value in (("eta", eta), ("beta", beta)):
        page.locator(f"#mx-{key}").fill(str(value))


def printed(page) -> dict[str, str]:
    return {kind: page.locator(f'[data-result="{kind}"]').inner_text() for kind in ("momentum", "gd")}


@pytest.fixture(scope="module")
def chapter(chapter_site):
    with served(chapter_site[0].site("html")) as base:
        yield base, chapter_site[0]


def chapter_runs(paths) -> list[tuple[str, float, float, str]]:
    """(update rule, η, β, printed line) of every train_2d cell the chapter executed, in each framework,
    with η and β as the cells set them (read from the executed notebooks, not copied)."""
    runs = []
    for fw in REAL.frameworks:
        nb = nbformat.read(paths.executed / fw.name / "chapter_optimization" / "momentum.ipynb", as_version=4)
        eta = beta = 0.0
        for cell in (c for c in nb.cells if c.cell_type == "code"):
            for line in cell.source.splitlines():
                if found := re.match(r"^eta\s*=\s*([\d.]+)\s*$", line):
                    eta = float(found.group(1))
                elif found := re.match(r"^eta,\s*beta\s*=\s*([\d.]+),\s*([\d.]+)\s*$", line):
                    eta, beta = float(found.group(1)), float(found.group(2))
            rule = re.search(r"train_2d\((\w+)\)", cell.source)
            out = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout").strip()
            if rule and out.startswith("epoch"):
                runs.append((rule.group(1), eta, beta, out))
    return runs


def open_explorer(one, url: str):
    """The page, scrolled to the explorer as a reader does: it is built when the reader nears it."""
    page = one.open(url)
    page.locator("#momentum-explorer").scroll_into_view_if_needed()
    page.locator("#momentum-explorer .mx-figure").wait_for()
    return page


def test_a_link_past_the_explorer_lands_on_its_target(reader, chapter):
    """The explorer is built as the page scrolls near it, over a thousand pixels tall: built during the
    scroll to a link's target below it, it pushed the target a screen further than the page went."""
    base, _ = chapter
    page = reader("desktop").open(f"{base}/{PAGE}")
    assert page.locator("#momentum-explorer .mx-figure").count() == 0   # far below: not built at load
    target = page.evaluate("""() => {
        const explorer = document.getElementById('momentum-explorer');
        return [...document.querySelectorAll('.toc-tree a[href^="#"]')].map((a) => a.hash.slice(1)).find((id) =>
            id && explorer.compareDocumentPosition(document.getElementById(id)) & Node.DOCUMENT_POSITION_FOLLOWING);
    }""")
    landed = follow_contents_link(page, target)
    assert page.locator("#momentum-explorer .mx-figure").count() == 1
    assert landed == pytest.approx(follow_contents_link(page, target), abs=0.5)   # as with nothing to build


def test_the_explorer_is_built_when_the_reader_nears_it_or_presses_tab(reader, chapter):
    base, _ = chapter
    one = reader("phone")
    page = one.open(f"{base}/{PAGE}")
    assert page.locator("#momentum-explorer .mx-figure").count() == 0   # far below: not built at load
    page.evaluate("scrollTo({top: scrollY + document.getElementById('momentum-explorer').getBoundingClientRect().top"
                  " - 1.5 * innerHeight, behavior: 'instant'})")
    page.locator("#momentum-explorer .mx-figure").wait_for()                # a screen ahead: built
    page = one.open(f"{base}/{PAGE}?eta=0.3")
    page.keyboard.press("Tab")                      # a keyboard reader's Tab must be able to reach it
    assert page.locator("#momentum-explorer .mx-figure").count() == 1
    assert page.get_by_role("slider", name=re.compile("η")).input_value() == "0.3"
    assert one.errors == []


@pytest.mark.parametrize("view", VIEWS)
def test_printed_lines_match_numpy_and_the_executed_cells(reader, chapter, view):
    base, paths = chapter
    one = reader(view)
    page = open_explorer(one, f"{base}/{PAGE}")
    assert page.locator("#momentum-explorer .mx-figure").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") == VIEWS[view]["viewport"]["width"]
    for eta, beta in [(0.6, 0.5), (0.4, 0.0), (0.05, 0.95), (0.9, 0.0), (1.2, 0.9), (1.5, 0.99), (0.01, 0.0)]:
        set_state(page, eta, beta)
        assert printed(page) == {"momentum": train_2d(momentum_2d, eta, beta),
                                 "gd": train_2d(gd_2d, eta, beta)}, (eta, beta)
    runs = chapter_runs(paths)
    assert {rule for rule, *_ in runs} == {"gd_2d", "momentum_2d"} and len(runs) >= 4 * len(REAL.frameworks)
    for rule, eta, beta, line in runs:
        set_state(page, eta, beta)
        assert printed(page)["momentum" if rule == "momentum_2d" else "gd"] == line, (rule, eta, beta)
    assert one.errors == []


def test_the_scalar_panel_against_numpy_eigenvalues(reader, chapter):
    base, paths = chapter
    one = reader("desktop")
    page = open_explorer(one, f"{base}/{PAGE}")
    source = (paths.staging / "chapter_optimization" / "momentum.ipynb").read_text(encoding="utf-8")
    lambdas = [float(v) for v in re.search(r"lambdas = \[([^\]]+)\]", source).group(1).split(",")]
    rows = page.eval_on_selector_all("#momentum-explorer tr[data-lambda]", "r => r.map(x => x.dataset.lambda)")
    assert [float(v) for v in rows] == lambdas                  # the chapter's own λ values
    for eta, beta in [(0.6, 0.5), (0.1, 0.0), (0.4, 0.9), (1.0, 0.25)]:
        set_state(page, eta, beta)
        for lam in lambdas:
            radius = max(abs(np.linalg.eigvals(np.array([[beta, lam], [-eta * beta, 1 - eta * lam]]))))
            values = np.linalg.eigvals(np.array([[beta, lam], [-eta * beta, 1 - eta * lam]]))
            dominant = values[np.argmax(abs(values))]
            verdict = page.locator(f'#momentum-explorer tr[data-lambda="{lam:g}"] [data-verdict]').get_attribute(
                "data-verdict")
            if radius > 1 + 1e-9:
                assert verdict == "ıraksar", (eta, beta, lam)
            elif radius < 1 - 1e-9:
                oscillates = abs(dominant.imag) > 1e-12 or dominant.real < 0
                assert verdict == ("salınarak yakınsar" if oscillates else "yakınsar"), (eta, beta, lam)
            # In the region 0 < ηλ < 2 + 2β, and only there, momentum converges (the chapter's claim).
            assert (verdict != "ıraksar") == (0 < eta * lam < 2 + 2 * beta), (eta, beta, lam)


@pytest.mark.parametrize("view", VIEWS)
def test_state_in_the_address_and_the_keyboard(reader, chapter, view):
    base, _ = chapter
    one = reader(view)
    page = one.open(f"{base}/{PAGE}?tab=pytorch&eta=0.3&beta=0.7#momentum-yontemi")
    eta_slider = page.get_by_role("slider", name=re.compile("η"))
    beta_slider = page.get_by_role("slider", name=re.compile("β"))
    assert (eta_slider.input_value(), beta_slider.input_value()) == ("0.3", "0.7")
    assert printed(page)["momentum"] == train_2d(momentum_2d, 0.3, 0.7)
    eta_slider.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert eta_slider.input_value() == "0.32"
    assert printed(page)["momentum"] == train_2d(momentum_2d, 0.32, 0.7)
    page.wait_for_function("location.search.includes('eta=0.32')")
    assert "tab=pytorch" in page.url and "beta=0.7" in page.url and page.url.endswith("#momentum-yontemi")
    beta_slider.focus()
    page.keyboard.press("Home")
    assert beta_slider.input_value() == "0"
    assert printed(page)["momentum"] == train_2d(momentum_2d, 0.32, 0.0)
    page.keyboard.press("End")
    assert printed(page)["momentum"] == train_2d(momentum_2d, 0.32, float(beta_slider.input_value()))


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_in_the_explorer(reader, chapter, view, scheme):
    base, _ = chapter
    one = reader(view, scheme)
    page = open_explorer(one, f"{base}/{PAGE}?eta=1.2&beta=0.9")
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("async () => (await axe.run('#momentum-explorer')).violations"
                               ".map(v => [v.id, v.nodes.map(n => n.target.join(' '))])")
    assert violations == []


def test_without_javascript_a_still_and_a_sentence(browser, chapter):
    """The build's still (bookbuild/render/interactive.py): the section's own last figure, and what the
    explorer does; test_reader.py checks the still in general."""
    base, _ = chapter
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{base}/{PAGE}")
        explorer = page.locator("#momentum-explorer")
        assert explorer.is_visible() and "momentum_2d" in explorer.locator("img").get_attribute("alt")
        assert "η" in explorer.inner_text() and "β" in explorer.inner_text()
        assert explorer.locator("input, button").count() == 0
    finally:
        context.close()
