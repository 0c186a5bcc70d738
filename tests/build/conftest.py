"""Fixtures of the build tests: throwaway books, and the real chapter built once per session.

These tests run in the build environment (.envs/build) and execute real kernels
from .envs/<framework>; `make test` creates all of them first.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))

from bookbuild import config as book_config  # noqa: E402
from bookbuild import pipeline  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def data_cache(tmp_path_factory):
    """The kernels read d2l data from a cache seeded from ../shared/data, never the network."""
    airfoil = SHARED / "data" / "airfoil_self_noise.dat"
    if not airfoil.is_file():
        pytest.fail(f"{airfoil} is missing: the tests seed the d2l data cache from ../shared/data", pytrace=False)
    cache = tmp_path_factory.mktemp("d2l-data")
    shutil.copy(airfoil, cache)
    os.environ["D2L_DATA_DIR"] = str(cache)
    return cache


class Book:
    """A small book in a temporary directory, built with the project's build.yml and conf.py."""

    def __init__(self, root: Path, pages: dict[str, str]):
        self.root = root
        shutil.copy(ROOT / "build.yml", root / "build.yml")
        shutil.copytree(ROOT / "requirements", root / "requirements")  # build.yml names them
        for name, text in pages.items():
            self.write(name, text)
        self.paths = pipeline.Paths(root / "_build")

    def write(self, name: str, text: str) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    @property
    def config(self):
        return book_config.load(self.root / "build.yml")

    def build(self, **options):
        return pipeline.build(self.config, paths=self.paths, **options)

    def html(self, page: str) -> str:
        return (self.paths.site("html") / page).with_suffix(".html").read_text(encoding="utf-8")


INDEX = """# Deneme

```toc
:maxdepth: 2
:numbered:

ch/page
```
"""


@pytest.fixture
def make_book(tmp_path):
    def make(page: str, **more: str) -> Book:
        return Book(tmp_path, {"index.md": INDEX, "ch/page.md": page, **more})
    return make


@pytest.fixture(scope="session")
def chapter_site(tmp_path_factory, data_cache):
    """The real book, built cold (execution included) into a temporary _build."""
    out = tmp_path_factory.mktemp("site") / "_build"
    reports = pipeline.build(book_config.load(), paths=pipeline.Paths(out))
    return out / "html", reports
