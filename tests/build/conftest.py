"""Fixtures of the build tests: throwaway books, and the real chapter built once per session.

Most tests build small fixture books whose three "frameworks" (named like the real
ones, so pages use the real `#@tab` marks) run cheap kernels: the build
environment's own Python. One session fixture builds the real chapter with the
real MXNet, PyTorch and TensorFlow kernels (.envs/<framework>, made by `make test`).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))

from bookbuild import config as book_config  # noqa: E402
from bookbuild import environments, pipeline  # noqa: E402
from bookbuild.config import Paths  # noqa: E402

REAL = book_config.load()

# Three frameworks named as in build.yml, whose kernels are the build environment's Python.
FIXTURE_YML = """book:
  title: Deneme Kitabı
  short_name: deneme
  authors: [Birinci Yazar, İkinci Yazar]
  index: index.md
  bibliography: d2l.bib
  published:
    url: https://tr.d2l.ai/
    labels: d2l-tr-labels.tsv
timeout: 60
agreement:
  rtol: 0.05
  atol: 0.01
frameworks:
""" + "".join(f"""  {fw.name}:
    label: {fw.label}
    d2l_module: {fw.d2l_module}
    kernel: fixture-{fw.name}
    environment: build
    env:
      FIXTURE_FRAMEWORK: {fw.name}
      PYTHONPATH: {ROOT}
""" for fw in REAL.frameworks)

INDEX = """# Deneme

```toc
:maxdepth: 2
:numbered:

ch/page
kaynakca
```
"""
REFERENCES = "# Kaynakça\n\n```eval_rst\n.. bibliography::\n```\n"


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


class Book:
    """A book in a temporary directory, built with the project's conf.py. `real`: the project's
    build.yml and real framework kernels; otherwise the cheap fixture frameworks."""

    def __init__(self, root: Path, pages: dict[str, str], real: bool = False):
        self.root = root
        (root / "build.yml").write_text((ROOT / "build.yml").read_text() if real else FIXTURE_YML, encoding="utf-8")
        if real:
            shutil.copytree(ROOT / "requirements", root / "requirements")  # build.yml names them
        for data in ("d2l.bib", "d2l-tr-labels.tsv"):
            shutil.copy(ROOT / data, root / data)
        for name, text in pages.items():
            self.write(name, text)
        self.paths = Paths(root / "_build")

    def write(self, name: str, text: str | bytes) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")

    @property
    def config(self):
        return book_config.load(self.root / "build.yml")

    def build(self, command: str = "html", **options):
        return pipeline.build(self.config, pipeline.Options(command, **options), paths=self.paths, log=lambda m: None)

    def cli(self, *args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
        """`python -m bookbuild --config <book>/build.yml ARGS`, as the Makefile runs it."""
        return subprocess.run([sys.executable, "-m", "bookbuild", "--config", str(self.root / "build.yml"), *args],
                              cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, **(env or {})})

    def html(self, page: str) -> str:
        return (self.paths.site("html") / page).with_suffix(".html").read_text(encoding="utf-8")

    def report(self) -> dict:
        import json
        return json.loads(self.paths.report.read_text(encoding="utf-8"))


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
    return out / "html", report
