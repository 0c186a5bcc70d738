"""Other packages' internals the build leans on, each held to its contract here (the adapters in
bookbuild/): an upgrade that changes one fails by name in this file."""
import re
from pathlib import Path

from bookbuild.render import mystnb_adapter


def test_mystnb_reports_a_cell_line_as_the_adapter_decodes_it():
    """MyST-NB's own encoding of a notebook cell's lines, as its token stream carries it."""
    import nbformat
    from markdown_it.renderer import RendererHTML
    from myst_nb.core.nb_to_tokens import notebook_to_tokens
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("a"),
                                         nbformat.v4.new_markdown_cell("b\n\nc")])
    md = create_md_parser(MdParserConfig(), RendererHTML)
    tokens = notebook_to_tokens(nb, md, {}, None)
    starts = [t.map[0] for t in tokens if t.type == "paragraph_open"]
    # the second cell's two paragraphs, on its lines 1 and 3 (0-based: 0 and 2)
    assert [mystnb_adapter.cell_and_line(start) for start in starts[1:]] == [(2, 0), (2, 2)]


def test_mystnb_writes_images_beside_the_site():
    from myst_nb import sphinx_ext
    assert mystnb_adapter.outputs_folder(Path("/x/html")) == Path("/x") / sphinx_ext.OUTPUT_FOLDER


def sphinx_build(tmp_path: Path):
    """A tiny Sphinx project in `tmp_path`/src, built as the render stage builds (in a docutils registry
    of its own: Sphinx's directives and roles would otherwise stay registered for the other tests of this
    process, whose renders then warn that they already are)."""
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace

    with docutils_namespace():
        app = Sphinx(str(tmp_path / "src"), str(tmp_path / "src"), str(tmp_path / "out"), str(tmp_path / "dt"),
                     "html", status=None, warning=None)
        app.build()
    return app


def test_every_render_links_the_mystnb_stylesheet_the_same_way(tmp_path):
    """Clean or over a last site, a page links MyST-NB's stylesheet with Sphinx's checksum."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "conf.py").write_text(
        'extensions = ["myst_nb", "bookbuild.render.mystnb_adapter"]\nnb_execution_mode = "off"\n')
    (tmp_path / "src" / "index.md").write_text("# T\n\ntext\n")
    sphinx_build(tmp_path)
    index = (tmp_path / "out" / "index.html").read_text()
    link = re.search(r'_static/(mystnb\.[0-9a-f]+\.css)(\?v=[0-9a-f]+)?"', index)
    assert link and link.group(2), "a clean render links the stylesheet without its checksum"
    assert (tmp_path / "out" / "_static" / link.group(1)).is_file()


def test_sphinx_tabs_script_finds_our_tabs_and_keeps_its_memory_where_we_clear_it():
    import sphinx_tabs

    from bookbuild.render import sphinx_tabs_adapter as adapter
    script = (Path(sphinx_tabs.__file__).parent / "static" / "tabs.js").read_text()
    assert f"'{adapter.STORAGE_KEY}'" in script                     # its sessionStorage memory
    assert f".{adapter.TAB_CLASS}" in script                          # how it finds every tab
    assert f'classList.contains("{adapter.GROUP_CLASS}")' in script   # a group tab chooses in every group
    assert '[name="${name}"]' in script                               # ... by the tabs' `name`


def test_sphinx_tabs_nodes_write_the_elements_its_script_drives(tmp_path):
    """Our tab element, through sphinx-tabs' own HTML visitors."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "conf.py").write_text('extensions = ["sphinx_tabs.tabs"]\n')
    (tmp_path / "src" / "index.rst").write_text("T\n=\n\n.. tabs::\n\n   .. group-tab:: A\n\n      a\n")
    app = sphinx_build(tmp_path)
    from bookbuild.render import sphinx_tabs_adapter as adapter
    page = (tmp_path / "out" / "index.html").read_text()
    assert f'class="{adapter.ELEMENT_CLASS}' in page
    assert re.search(rf'<button[^>]*class="{adapter.TAB_CLASS} {adapter.GROUP_CLASS}"', page)
    assert re.search(rf'<div[^>]*class="{adapter.PANEL_CLASS} {adapter.GROUP_CLASS}"', page)
    assert {type(n).__name__ for n in app.env.get_doctree("index").findall()} >= {
        adapter.Tab.__name__, adapter.Panel.__name__, adapter.Tablist.__name__}


def test_the_search_page_extends_furos_scripts_deferred_and_in_order(multi_site):
    """templates/search.html extends Furo's script blocks: every script it writes is deferred (searchtools.js
    needs doctools.js, deferred on every page), and the book's touches come before the index, which starts
    the search."""
    paths, _ = multi_site
    page = (paths.site("html") / "search.html").read_text(encoding="utf-8")
    scripts = re.findall(r"<script\b([^>]*)\bsrc=\"([^\"?]+)", page)
    assert scripts and all("defer" in attributes for attributes, _ in scripts), scripts
    names = [Path(src).name for _, src in scripts]
    order = ["doctools.js", "searchtools.js", "language_data.js", "d2l-search.js", "searchindex.js"]
    assert [name for name in names if name in order] == order, names
