# Sphinx configuration of the book site. Only configuration: the build itself
# (bookbuild/) runs Sphinx on the merged pages it stages in _build/staging, and
# passes the book's own settings (title, authors, frameworks, bibliography, the
# published edition) from build.yml: see bookbuild/render/site.py, `sphinx_settings`.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bookbuild.config import ROOT  # noqa: E402  (the project: static/, templates/, locale/)
from bookbuild.tab_marks import Staged  # noqa: E402

language = "tr"

extensions = [
    "myst_nb",
    "bookbuild.render.mystnb_adapter",  # MyST-NB's internals behind one door (its stylesheet before the pages)
    "bookbuild.render.sphinx_adapter",  # Sphinx's internals behind one door (each page's doctree read once)
    "sphinx_tabs.tabs",
    "sphinxcontrib.bibtex",
    "sphinx_copybutton",
    "sphinxcontrib.rsvgconverter",
    "sphinx.ext.autodoc",   # d2lbook's API pages (`.. automodule:: d2l.torch`): our d2l, its frameworks mocked
    # The build's own render-stage extensions (bookbuild/):
    "bookbuild.render.tabs",          # tab groups -> sphinx-tabs; LaTeX keeps one framework
    "bookbuild.render.page_tools",    # framework chooser, downloads, PDFs, readers' notebooks, meta description
    "bookbuild.render.references",  # labels of the published edition; Turkish citations
    "bookbuild.render.numbering",     # the published edition's section, figure and equation numbers
    "bookbuild.render.previews",      # what a reference's hover preview shows (static/preview.js)
    "bookbuild.render.figures",       # alt text and size of executed figures
    "bookbuild.render.interactive",   # interactive figures placed from a page's .interactive.yml
    "bookbuild.render.typeset_math",  # every display equation numbered; math typeset to SVG at build time
    "bookbuild.render.bundles",       # a page's deferred scripts in one request
    "bookbuild.render.turkish",       # Turkish docutils labels, search and browser catalog
    "bookbuild.render.furo",          # what the site reads from the theme: its expanders' names
]

# The d2l library's documentation needs no framework installed (a render with EXECUTE=none has none), nor
# what the frameworks' environments alone hold and the library imports as the book's preface does.
autodoc_mock_imports = ["mxnet", "torch", "torchvision", "tensorflow", "matplotlib", "matplotlib_inline",
                        "pandas", "PIL"]

# Pages arrive executed: myst-nb only renders.
nb_execution_mode = "off"
nb_output_stderr = "remove"
nb_merge_streams = False   # the merge stage joins streams itself, in linear time (outputs.py)
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_dmath_double_inline = True
numfig = True
numfig_format = {"figure": "Şekil %s", "table": "Tablo %s", "code-block": "Liste %s", "section": "Bölüm %s"}
# Every display equation is numbered, as in the published edition: (1.1.1), (1.1.2), ...
# (for MyST's $$ too: bookbuild/render/typeset_math.py)
math_number_all = True
math_numfig = True
numfig_secnum_depth = 2
math_eqref_format = "({number})"
# Staged beside the pages, not pages themselves: readers' notebooks and PDFs.
exclude_patterns = Staged.not_pages()
suppress_warnings = ["mystnb.unknown_mime_type"]

# Author–year citations and a plain bibliography, in Turkish ("ve", "vd."): bookbuild/render/references.py.
bibtex_reference_style = "author_year_tr"
bibtex_default_style = "plain_tr"

# Copy the code of a cell, not its prompt or output.
copybutton_selector = "div.cell_input div.highlight pre"
copybutton_exclude = ".linenos, .gp, .go"

sphinx_tabs_disable_tab_closing = True
sphinx_tabs_disable_css_loading = True   # static/d2l.css styles the tabs in the theme's colours

# Furo: chosen by what we measured (weight, accessibility, phone layout; see README). Configured,
# not rebuilt: templates/page.html only puts its English strings through the catalog.
html_theme = "furo"
html_theme_options = {
    "top_of_page_buttons": [],          # no "view source" / "edit": readers get notebooks and PDFs instead
    "navigation_with_keys": True,
    "light_css_variables": {"color-brand-primary": "#1f5f8b", "color-brand-content": "#1f5f8b"},
    "dark_css_variables": {"color-brand-primary": "#6cb4e4", "color-brand-content": "#6cb4e4"},
}
html_show_sphinx = False
html_use_index = False   # the book has no index entries: no empty "Dizin" page, and nothing links one
# Nor a Python module index (py-modindex.html, from the API page's automodule): no page links it, and each
# render wrote it again, with the whole book's navigation.
html_domain_indices = False
html_static_path = [str(ROOT / "static")]
html_css_files = ["d2l.css"]
html_js_files = ["d2l.js"]
html_search_language = "tr"
# Search ranks a page by where it holds the query: title, then section headings, then text.
html_search_scorer = str(ROOT / "static" / "search-scorer.js")
html_last_updated_fmt = None
html_show_sourcelink = False
html_copy_source = False

# Turkish for the interface strings Sphinx's catalog and the theme leave in English.
locale_dirs = [str(ROOT / "locale")]
templates_path = [str(ROOT / "templates")]
html_favicon = str(ROOT / "static" / "favicon.svg")  # else browsers ask for a missing /favicon.ico

# PDF (`make pdf`): one per framework (bookbuild/render/pdf.py sets the document and `d2l_tab`), through xelatex.
latex_engine = "xelatex"
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
    "releasename": "Çerçeve:",
    "sphinxsetup": "VerbatimColor={rgb}{0.97,0.97,0.97}",
    # xelatex writes Unicode PDFs itself: no cmap (pdflatex's), and polyglossia loaded here rather than
    # by Sphinx, which would also pass `turkish` to the document class, where nothing uses it.
    "cmappkg": "",
    # No index, as on the site (html_use_index): its only entries would be the API page's names (autodoc), and
    # Sphinx's indexer for xelatex, xindy, is not one of the TeX packages (bookbuild/environments.py).
    "makeindex": "",
    "printindex": "",
    "babel": "",
    "polyglossia": "",
    "preamble": "\n".join([
        r"\usepackage{polyglossia}\setmainlanguage{turkish}",
        # The published edition's two-digit chapter numbers (11, 12, ...) need a wider box in the contents.
        r"\makeatletter\patchcmd{\l@chapter}{1.5em}{2em}{}{}\makeatother",
        # A citation is a \hyperlink (sphinxcontrib-bibtex); in a caption, which LaTeX also writes into the list of
        # tables and figures, it must not expand (d2l-tr's glove.md cites in a table's caption).
        r"\robustify\hyperlink",
        # The running head's text is 14.2pt high; fancyhdr asks for that much room (and the text keeps its place).
        r"\setlength{\headheight}{14.5pt}\addtolength{\topmargin}{-2.5pt}",
    ]),
}
# Nor a module index: the API page's modules are each in its own framework's PDF only (the others would read ??).
latex_domain_indices = False
# The figures are SVG only: the PDF takes them too (converted to PDF by rsvgconverter, vector).
nb_mime_priority_overrides = [("latex", "image/svg+xml", 15)]
