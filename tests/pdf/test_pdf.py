"""The PDFs `make pdf` wrote to _build/pdf: one per framework, checked with poppler's tools."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bookbuild import config as book_config  # noqa: E402

CONFIG = book_config.load()
PDF_DIR = ROOT / "_build" / "pdf"


def run(*command) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module", params=CONFIG.names)
def pdf(request):
    path = PDF_DIR / f"momentum-{request.param}.pdf"
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make pdf` first", pytrace=False)
    return request.param, path


def test_text_is_this_framework_only(pdf):
    name, path = pdf
    text = run("pdftotext", "-enc", "UTF-8", str(path), "-")
    fw = CONFIG.framework(name)
    assert f"from d2l import {fw.d2l_module} as d2l" in text
    for other in CONFIG.frameworks:
        if other is not fw:
            assert f"from d2l import {other.d2l_module} as d2l" not in text
    assert len(re.findall(r"epoch 20, x1: -?\d+\.\d{6}, x2: -?\d+\.\d{6}", text)) == 4
    assert len(re.findall(r"loss: \d\.\d{3}, \d+\.\d{3} sec/epoch", text)) == 4
    for heading in ("Momentum", "Optimizasyon Algoritmaları", "Sızdıran Ortalamalar", "Pratik Deneyler",
                    "İçindekiler", "Kaynakça", "Rasgele Gradyan İnişi"):
        assert heading in text, heading
    for work in ("Why momentum really works", "Polyak", "Lectures on Convex Optimization", "Sutskever",
                 "Flammarion"):
        assert work in text, work
    assert "??" not in text
    for raw in (":numref:", ":cite:", ":label:", "sec_", "begin_tab", "<Figure size"):
        assert raw not in text, raw
    # Every Turkish letter of the sources survives into the text layer (ğ never starts a word: no Ğ).
    sources = "".join(p.read_text(encoding="utf-8") for p in [ROOT / "index.md", *ROOT.glob("chapter_*/*.md")])
    for letter in "ıİşŞğĞçÇöÖüÜ":
        if letter in sources:
            assert letter in text, letter


def test_fonts_embedded_and_figures_vector(pdf):
    name, path = pdf
    fonts = run("pdffonts", str(path)).splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts   # the "emb" column
    assert run("pdfimages", "-list", str(path)).splitlines()[2:] == []         # no raster images
    pages = int(re.search(r"Pages:\s+(\d+)", run("pdfinfo", str(path))).group(1))
    assert 10 <= pages <= 40
    # The ten figures are vector drawings: each page with a figure has paths, not images.
    latex = (ROOT / "_build" / "latex" / name / "momentum.tex").read_text(encoding="utf-8")
    assert latex.count("\\sphinxincludegraphics") == 10
    assert "\\setmainlanguage{turkish}" in latex or "turkish" in latex


def test_links_inside_and_to_the_published_edition(pdf):
    name, _ = pdf
    latex = (ROOT / "_build" / "latex" / name / "momentum.tex").read_text(encoding="utf-8")
    assert "\\sphinxhref{https://tr.d2l.ai/chapter\\_optimization/sgd.html}{Rasgele Gradyan İnişi}" in latex
    assert "\\sphinxhref{https://tr.d2l.ai/chapter\\_optimization/gd.html}{Gradyan İnişi}" in latex
    assert "\\hyperlink{cite.chapter_references/zreferences:id2}{Goh, 2017}" in latex  # to the bibliography
