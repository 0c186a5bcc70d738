# Sphinx configuration of the book site. Only configuration: the build itself
# (reading the dialect, executing, merging) is in bookbuild/, which runs Sphinx
# on the merged pages it writes to _build/staging.
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from bookbuild import config as book_config  # noqa: E402
from bookbuild.offline_math import MATHJAX_CONFIG, MATHJAX_PATH  # noqa: E402

BOOK = book_config.load(ROOT / "build.yml")

project = "Derin Öğrenmeye Dalış"
author = "Aston Zhang, Zachary C. Lipton, Mu Li, Alexander J. Smola"
copyright = "2026, d2l.ai ve Türkçe çeviri ekibi"
language = "tr"

extensions = [
    "myst_nb",
    "sphinx_tabs.tabs",
    "sphinxcontrib.bibtex",
    "sphinx_copybutton",
    "bookbuild.tabs",
    "bookbuild.offline_math",
    "bookbuild.turkish",
    "sphinxcontrib.rsvgconverter",
]

# The tabs, from build.yml; the LaTeX builder shows `d2l_tab` only (-D d2l_tab=pytorch).
d2l_frameworks = [(fw.name, fw.label) for fw in BOOK.frameworks]
d2l_tab = BOOK.frameworks[0].name

# Sections cited by this chapter that are not part of this build: links to the
# published Turkish edition, with their titles.
d2l_published_url = "https://tr.d2l.ai/"
d2l_outside_sections = {
    "sec_sgd": ("chapter_optimization/sgd.html", "Rasgele Gradyan İnişi"),
    "sec_gd": ("chapter_optimization/gd.html", "Gradyan İnişi"),
    "sec_minibatch_sgd": ("chapter_optimization/minibatch-sgd.html", "Minigrup Rasgele Gradyan İnişi"),
    "sec_adagrad": ("chapter_optimization/adagrad.html", "Adagrad"),
}

# Pages arrive executed: myst-nb only renders.
nb_execution_mode = "off"
nb_output_stderr = "remove"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_dmath_double_inline = True
numfig = True
numfig_format = {"figure": "Şekil %s", "table": "Tablo %s", "code-block": "Liste %s", "section": "Bölüm %s"}
math_numfig = True
math_eqref_format = "({number})"
exclude_patterns = ["_notebooks/**"]
suppress_warnings = ["mystnb.unknown_mime_type"]

bibtex_bibfiles = [str(ROOT / "d2l.bib")]
bibtex_reference_style = "author_year"
bibtex_default_style = "plain"

# Copy the code of a cell, not its prompt or output.
copybutton_selector = "div.cell_input div.highlight pre"
copybutton_exclude = ".linenos, .gp, .go"

sphinx_tabs_disable_tab_closing = True

html_theme = "alabaster"
html_title = "Derin Öğrenmeye Dalış"
html_static_path = [str(ROOT / "static")]
html_css_files = ["d2l.css"]
html_js_files = ["d2l-tabs.js"]
html_theme_options = {"show_powered_by": False, "font_family": "sans-serif", "head_font_family": "sans-serif",
                      "code_font_family": "monospace", "page_width": "1100px"}
html_search_language = "tr"
html_last_updated_fmt = None
html_show_sourcelink = False
html_copy_source = False

# MathJax from the site itself (see bookbuild/offline_math.py): no CDN.
mathjax_path = MATHJAX_PATH
mathjax3_config = MATHJAX_CONFIG

# Turkish for the interface strings Sphinx's catalog and the theme leave in English.
locale_dirs = [str(ROOT / "locale")]
# Sphinx's search field has its placeholder hard-coded in English: ours translates it.
templates_path = [str(ROOT / "templates")]
html_favicon = str(ROOT / "static" / "favicon.svg")  # else browsers ask for a missing /favicon.ico

# PDF (`make pdf`): one per framework, `-D d2l_tab=<framework>`, through xelatex.
latex_engine = "xelatex"
latex_documents = [("index", "momentum.tex", "Momentum", author, "manual")]
latex_show_urls = "no"
latex_elements = {
    "fontpkg": r"""
\setmainfont{DejaVu Serif}
\setsansfont{DejaVu Sans}
\setmonofont{DejaVu Sans Mono}[Scale=0.85]
""",
    "papersize": "a4paper",
    "pointsize": "11pt",
    "figure_align": "H",
    "sphinxsetup": "VerbatimColor={rgb}{0.97,0.97,0.97}",
}
# The figures are SVG only: the PDF takes them too (converted to PDF by rsvgconverter, vector).
nb_mime_priority_overrides = [("latex", "image/svg+xml", 15)]
