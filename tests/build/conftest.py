"""Fixtures of the build tests: throwaway books (tests/books.py), the real chapter built once
per test run with the real MXNet, PyTorch and TensorFlow kernels, and a multi-section fixture
book built once with cheap kernels.

The tests run side by side (pytest-xdist, `make test`): what every worker needs is made once, by
whichever worker asks first, while the others wait for it (`made_once`)."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from books import CHROMIUM, INDEX, MULTI, REAL, REFERENCES, SHARED, Book, Reader, launch_browser, made_once  # noqa: E402

from bookbuild import environments, pipeline  # noqa: E402
from bookbuild.config import Paths  # noqa: E402

# The builds the tests start write into pipes, as under CI, whose runners do not set PYTHONUNBUFFERED
# (a developer's shell may): their progress must reach the pipe as it happens without it.
os.environ.pop("PYTHONUNBUFFERED", None)
# The builds the tests interrupt must hear Ctrl-C: a shell starts a background job (`make test &`, `nohup`) with
# SIGINT ignored, which every process it starts inherits, and a Python started so never raises KeyboardInterrupt.
# Handled here (Python's own handler), it is the default again in the processes the tests start.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session", autouse=True)
def data_cache(tmp_path_factory):
    """The kernels read d2l data from a cache seeded from ../shared/data, never the network."""
    airfoil = SHARED / "data" / "airfoil_self_noise.dat"
    if not airfoil.is_file():
        pytest.fail(f"{airfoil} is missing: the tests seed the d2l data cache from ../shared/data", pytrace=False)
    cache = tmp_path_factory.mktemp("d2l-data")
    os.environ["D2L_DATA_DIR"] = str(cache)
    os.environ["DATA_MIRROR"] = str(SHARED / "data")
    return cache


@pytest.fixture(scope="session", autouse=True)
def fixture_kernels(tmp_path_factory):
    """Register the fixture frameworks' kernels (under .envs/kernels, as the real ones)."""
    config = Book(tmp_path_factory.mktemp("fixture-config"), {"index.md": INDEX}).config
    for fw in config.frameworks:
        environments.write_kernel(fw, config.kernel_env)
    return config


@pytest.fixture
def make_book(tmp_path):
    def make(page: str, real: bool = False, **more: str) -> Book:
        return Book(tmp_path, {"index.md": INDEX, "kaynakca.md": REFERENCES, "ch/page.md": page, **more}, real=real)
    return make


def _report(paths: Paths) -> dict:
    return json.loads(paths.report.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def chapter_site(tmp_path_factory, data_cache):
    """The real book, built cold (execution included) into a temporary _build: (paths, its report)."""
    folder = made_once(tmp_path_factory, "chapter",
                       lambda f: pipeline.build(REAL, paths=Paths(f / "_build")))
    return Paths(folder / "_build"), _report(Paths(folder / "_build"))


@pytest.fixture(scope="session")
def multi_site(tmp_path_factory, data_cache, fixture_kernels):
    """A book of three sections in one chapter (cheap kernels): (paths, its report)."""
    folder = made_once(tmp_path_factory, "multi", lambda f: Book(f, MULTI).build())
    return Paths(folder / "_build"), _report(Paths(folder / "_build"))


@pytest.fixture(scope="session", params=["chapter", "multi"])
def site(request):
    """Each built site in turn: the real chapter, and the multi-section book."""
    return request.getfixturevalue(f"{request.param}_site")


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (as root), or: "
                    "sudo apt-get install chromium-headless-shell",
                    pytrace=False)
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def idle_readers(browser):
    """Readers that earlier tests used and made forget everything, by (view, scheme, motion)."""
    idle: dict[tuple, list[Reader]] = {}
    yield idle
    for each in (one for ones in idle.values() for one in ones):
        each.close()


@pytest.fixture
def reader(browser, idle_readers):
    """`reader(view, scheme, motion, fresh=False)`: a reader's browser context (tests/books.Reader). After
    the test it forgets everything (Reader.forget) and waits for the next test of the same device and
    scheme; `fresh`: a context of its own, closed after the test (for a test that changes the context
    itself, or must start with an empty cache)."""
    lent, own = [], []

    def open_(view: str = "desktop", scheme: str = "light", motion: str = "no-preference",
              fresh: bool = False) -> Reader:
        key = (view, scheme, motion)
        if fresh or not idle_readers.get(key):
            one = Reader(browser, view, scheme, motion)
        else:
            one = idle_readers[key].pop()
        (own if fresh else lent).append((key, one))
        return one
    yield open_
    for _, one in own:
        one.close()
    for key, one in lent:
        try:
            one.forget()
        except Exception:   # its page crashed, say: nobody else gets it
            with contextlib.suppress(Exception):
                one.close()
            continue
        idle_readers.setdefault(key, []).append(one)


# What several tests share and takes long to make, and long tests that mostly wait (the live preview's):
# see pytest_collection_modifyitems for the order they run in.
SHARED_BUILDS = ("chapter_site", "multi_site", "verdicts", "built_book", "executed_book", "previews_site")
LONG = ("test_serve.py::test_make_serve_reloads_rebuilds_and_reports",)


def _shared_builds(item) -> list[str]:
    """The shared builds a test uses (`site` is each built site in turn, by its parameter)."""
    uses = [name for name in SHARED_BUILDS if name in item.fixturenames]
    site = getattr(item, "callspec", None) and item.callspec.params.get("site")
    return uses + ([f"{site}_site"] if site else [])


def pytest_collection_modifyitems(config, items):
    heads, alone, after, started = [], [], [], set()
    for item in items:
        uses = _shared_builds(item)
        if not uses:
            (heads if item.nodeid.endswith(LONG) else alone).append(item)
        elif not started.issuperset(uses):
            started.update(uses)
            heads.append(item)
        else:
            after.append(item)
    # xdist's worksteal first hands worker i the i-th of n equal slices of this order: each slice starts
    # with its own long head (so that the shared builds are made side by side, not one after another by
    # one worker), then takes its share of the rest, the tests that need a shared build last.
    heads.sort(key=lambda item: ("chapter_site" not in _shared_builds(item), not item.nodeid.endswith(LONG)))
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    sizes = [(i + 1) * len(items) // workers - i * len(items) // workers for i in range(workers)]
    slices = [heads[i::workers] for i in range(workers)]
    rest = alone + after
    while rest:
        for each in [each for each, size in zip(slices, sizes, strict=True) if len(each) < size] or slices[-1:]:
            if rest:
                each.append(rest.pop(0))
    items[:] = [item for each in slices for item in each]
