"""The PDF tests run after `make pdf` (TeX installed): the book's PDFs, and a multi-section
fixture book's PDFs built here with cheap kernels (tests/books.py)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from books import INDEX, MULTI, REAL, SHARED, Book  # noqa: E402

from bookbuild import environments  # noqa: E402
from bookbuild.config import Paths  # noqa: E402


@pytest.fixture(scope="session")
def multi_pdf_book(tmp_path_factory):
    os.environ.setdefault("DATA_MIRROR", str(SHARED / "data"))
    os.environ["D2L_DATA_DIR"] = str(tmp_path_factory.mktemp("d2l-data"))
    config = Book(tmp_path_factory.mktemp("fixture-config"), {"index.md": INDEX}).config
    for fw in config.frameworks:
        environments.write_kernel(fw, config.kernel_env)
    book = Book(tmp_path_factory.mktemp("multi-pdf"), MULTI)
    book.build("pdf")
    return book


@pytest.fixture(scope="session")
def real_book():
    paths = Paths.under(REAL.root)
    if not (paths.pdf.is_dir() and any(paths.pdf.glob("*.pdf"))):
        pytest.fail(f"no PDF in {paths.pdf}: run `make pdf` first", pytrace=False)
    return REAL, paths


@pytest.fixture(scope="session", params=["book", "multi"])
def built(request):
    """(config, paths) of each book whose PDFs are checked: the real one, and the fixture."""
    if request.param == "book":
        return request.getfixturevalue("real_book")
    book = request.getfixturevalue("multi_pdf_book")
    return book.config, book.paths
