"""Fixtures of the build tests: throwaway books (tests/books.py), the real chapter built once
per session with the real MXNet, PyTorch and TensorFlow kernels, and a multi-section fixture
book built once with cheap kernels."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from books import INDEX, MULTI, REAL, REFERENCES, SHARED, Book, launch_browser  # noqa: E402
from bookbuild import environments, pipeline  # noqa: E402
from bookbuild.config import Paths  # noqa: E402


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


@pytest.fixture(scope="session")
def chapter_site(tmp_path_factory, data_cache):
    """The real book, built cold (execution included) into a temporary _build."""
    out = tmp_path_factory.mktemp("site") / "_build"
    report = pipeline.build(REAL, paths=Paths(out), log=lambda m: None)
    return Paths(out), report


@pytest.fixture(scope="session")
def multi_site(tmp_path_factory, data_cache, fixture_kernels):
    """A book of three sections in one chapter (cheap kernels)."""
    book = Book(tmp_path_factory.mktemp("multi"), MULTI)
    report = book.build()
    return book.paths, report


@pytest.fixture(scope="session", params=["chapter", "multi"])
def site(request):
    """Each built site in turn: the real chapter, and the multi-section book."""
    return request.getfixturevalue(f"{request.param}_site")


@pytest.fixture(scope="session")
def browser():
    if not shutil.which("chromium"):
        pytest.fail("Chromium is missing: `make test` installs it (as root), or: sudo apt-get install chromium",
                    pytrace=False)
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        yield browser
        browser.close()
