"""Other packages' internals the build leans on, each held to its contract here (the adapters in
bookbuild/): an upgrade that changes one fails by name in this file."""
import re
import sys
from pathlib import Path

from books import script_files

from bookbuild.render import bibtex_adapter, mystnb_adapter, sphinx_adapter


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


def test_sphinxcontrib_bibtex_keeps_each_citation_formatted_in_the_environment(tmp_path):
    """What references.py reuses from the last render: each citation's pybtex entry and its formatted entry
    (label, key), found by the style of its bibliography."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "conf.py").write_text('extensions = ["sphinxcontrib.bibtex"]\nbibtex_bibfiles = ["refs.bib"]\n'
                                              'bibtex_default_style = "plain"\n')
    (tmp_path / "src" / "refs.bib").write_text("@article{Goh.2017, author = {Goh, Gabriel}, title = {Why Momentum "
                                               "Really Works}, journal = {Distill}, year = {2017}}\n")
    (tmp_path / "src" / "index.rst").write_text("T\n=\n\nA sentence :cite:p:`Goh.2017`.\n\n.. bibliography::\n")
    app = sphinx_build(tmp_path)
    found = list(bibtex_adapter.formatted_citations(app.env, "plain"))
    assert [(entry.key, formatted.key, formatted.label) for entry, formatted in found] == \
        [("Goh.2017", "Goh.2017", "1")]
    assert "Why momentum really works" in found[0][1].text.render_as("text")   # (plain lower-cases titles)
    assert list(bibtex_adapter.formatted_citations(app.env, "alpha")) == []


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


# --- nbclient and jupyter_client (bookbuild/execute/jupyter_adapter.py) -------------------------------

def _client(nb, kernel: str, kernel_dirs, sockets: Path, **hooks):
    """An nbclient as the build makes one (kernel_session)."""
    from bookbuild.execute import jupyter_adapter
    return jupyter_adapter.notebook_client(nb, tuple(map(str, kernel_dirs)), sockets, kernel_name=kernel,
                                           timeout=60, **hooks)


def test_nbclient_registers_its_exit_cleanup_and_jupyter_client_keeps_the_kernel_process(fixture_kernels,
                                                                                         tmp_path):
    """A real kernel, run as the build runs it: its process (the reaper, leading the kernel's process group)
    is where the adapter looks, its sockets and connection file are where the adapter put them, named as
    it expects, and nbclient's exit-time cleanup is the bound method the adapter unregisters."""
    import atexit
    import inspect
    import os
    import stat

    import nbformat
    from nbclient import NotebookClient

    from bookbuild import environments
    from bookbuild.execute import jupyter_adapter, reaper

    assert "atexit.register(self._cleanup_kernel)" in inspect.getsource(NotebookClient)
    seen = {}

    async def look(notebook):
        process = jupyter_adapter.kernel_process(client)
        seen.update(alive=process is not None and process.poll() is None,
                    group_leader=process is not None and os.getpgid(process.pid) == process.pid,
                    files=sorted(p.name for p in tmp_path.iterdir()),
                    sockets=sorted(p.name for p in tmp_path.iterdir() if stat.S_ISSOCK(p.lstat().st_mode)),
                    named=reaper.kernel_files(["kernel", "-f", client.km.connection_file]))

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")])
    client = _client(nb, fixture_kernels.frameworks[0].kernel, environments.kernel_dirs(), tmp_path,
                     on_notebook_start=look)
    client.execute()
    jupyter_adapter.forget_exit_cleanup(client)
    assert seen["alive"] and seen["group_leader"], seen
    assert seen["files"] == sorted(["k1.json", *seen["sockets"]]) and len(seen["sockets"]) == len(reaper.CHANNELS)
    assert all(re.fullmatch(r"k1-\d+", name) for name in seen["sockets"]), seen
    assert sorted(Path(p).name for p in seen["named"]) == seen["files"]   # what the reaper removes
    assert list(tmp_path.iterdir()) == []                    # the shutdown removed them (jupyter_client, reaper)
    assert callable(client._cleanup_kernel) and client._cleanup_kernel.__self__ is client
    atexit.unregister(client._cleanup_kernel)               # what forget_exit_cleanup does, and never fails


def test_nbclients_own_cleanup_shuts_down_a_kernel_the_build_kept(fixture_kernels, tmp_path):
    """A kernel kept running after its notebook, its channels stopped (kernel_session keeps it so for a
    reseeded run): the adapter's `shut_down`, nbclient's own clean-up, ends its process and removes its
    sockets and connection file. A client that never started a kernel has nothing to shut down."""
    import asyncio
    import concurrent.futures
    import inspect

    import nbformat
    from nbclient import NotebookClient

    from bookbuild import environments
    from bookbuild.execute import jupyter_adapter

    assert inspect.iscoroutinefunction(NotebookClient._async_cleanup_kernel)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")])
    client = _client(nb, fixture_kernels.frameworks[0].kernel, environments.kernel_dirs(), tmp_path)

    async def keep_then_shut_down():
        await client.async_execute(cleanup_kc=False)
        client.kc.stop_channels()
        client.kc = None
        process = jupyter_adapter.kernel_process(client)
        running = process is not None and process.poll() is None
        left = sorted(p.name for p in tmp_path.iterdir())
        await jupyter_adapter.shut_down(client)
        return process, running, left

    # In a thread of its own: a test before this one in the same process may have left its event loop running.
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        process, running, left = thread.submit(asyncio.run, keep_then_shut_down()).result()
    jupyter_adapter.forget_exit_cleanup(client)
    assert running and "k1.json" in left, left
    assert process.wait(timeout=30) is not None
    assert list(tmp_path.iterdir()) == []
    never = _client(nb, fixture_kernels.frameworks[0].kernel, environments.kernel_dirs(), tmp_path)
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, jupyter_adapter.shut_down(never)).result()
    assert never.km is None


def _kernelspec(folder: Path, argv: list[str]) -> Path:
    import json

    (folder / "broken").mkdir(parents=True)
    (folder / "broken" / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "broken",
                                                               "language": "python"}))
    return folder


def test_a_kernel_that_ends_before_it_answers_is_a_runtime_error_with_its_process_ended(tmp_path):
    """jupyter_client tells of a kernel that died at start only in a RuntimeError's text: the adapter asks
    the kernel's process instead."""
    import sys

    import nbformat
    import pytest

    from bookbuild.execute import jupyter_adapter

    kernels = _kernelspec(tmp_path / "kernels", [sys.executable, "-c", "raise SystemExit(3)", "-f",
                                                 "{connection_file}"])
    (tmp_path / "sockets").mkdir()
    client = _client(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), "broken", [kernels],
                     tmp_path / "sockets")
    with pytest.raises(RuntimeError) as raised:
        client.execute()
    jupyter_adapter.forget_exit_cleanup(client)
    assert isinstance(jupyter_adapter.start_failure(raised.value, client), jupyter_adapter.KernelEndedAtStart)
    assert not isinstance(jupyter_adapter.start_failure(ValueError("ours"), client),
                          jupyter_adapter.KernelEndedAtStart)


def test_a_kernel_whose_program_is_gone_is_said_so_before_jupyter_client_starts_it(tmp_path):
    import nbformat
    import pytest

    from bookbuild.execute import jupyter_adapter

    kernels = _kernelspec(tmp_path / "kernels", [str(tmp_path / "gone" / "python"), "-f", "{connection_file}"])
    (tmp_path / "sockets").mkdir()
    client = _client(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), "broken", [kernels],
                     tmp_path / "sockets")
    with pytest.raises(jupyter_adapter.KernelExecutableMissing) as raised:
        client.execute()
    jupyter_adapter.forget_exit_cleanup(client)
    assert raised.value.executable == str(tmp_path / "gone" / "python")


def test_the_search_page_extends_furos_scripts_deferred_and_in_order(multi_site):
    """templates/search.html extends Furo's script blocks: every script it writes is deferred (searchtools.js
    needs doctools.js, deferred on every page), and the book's touches come before the index, which starts
    the search."""
    paths, _ = multi_site
    page = (paths.site("html") / "search.html").read_text(encoding="utf-8")
    scripts = re.findall(r"<script\b([^>]*)\bsrc=\"([^\"?]+)", page)
    assert scripts and all("defer" in attributes for attributes, _ in scripts), scripts
    names = [Path(src).name for src in script_files(paths.site("html") / "search.html")]
    order = ["doctools.js", "searchtools.js", "language_data.js", "d2l-search.js", "searchindex.js"]
    assert [name for name in names if name in order] == order, names


def test_sphinx_numbers_figures_walking_the_outline_the_adapter_gives_it(tmp_path):
    """Sphinx's TocTreeCollector is found among its listeners, and numbers a page's figures by what
    `number_figures_by` gives it for the page, not by the page's doctree (render/numbering.py)."""
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace

    source = tmp_path / "source"
    source.mkdir()
    (source / "conf.py").write_text("numfig = True\n")
    (source / "index.rst").write_text("Book\n====\n\n.. toctree::\n   :numbered:\n\n   page\n")
    (source / "page.rst").write_text("Page\n====\n\n.. code-block:: python\n   :caption: Code\n   :name: listing\n\n"
                                     "   x = 1\n")
    walked = []

    def outline(env, docname):
        walked.append(docname)
        return sphinx_adapter.read_only_doctree(env, docname)

    with docutils_namespace():   # as sphinx-build: this process's later renders register their directives anew
        app = Sphinx(str(source), str(source), str(tmp_path / "html"), str(tmp_path / "doctrees"), "html",
                     status=None, warning=None, freshenv=True)
        assert sphinx_adapter.number_figures_by(app, outline)
        app.build()
    assert "page" in walked
    assert app.env.toc_fignumbers["page"]["code-block"] == {"listing": (1, 1)}


def test_furo_navigation_derived_on_every_page_is_furos_own(tmp_path, monkeypatch):
    """Each page's sidebar navigation, derived from the one Furo computes once per render
    (render/furo.py), is what Furo computes for the page itself: on pages of nested sections in two
    folders, a page of two titles, and the pages left to Furo (the index, outside the toctree; the
    references, whose title Sphinx copies inside an `only`; the search page)."""
    from books import INDEX, Book

    from bookbuild.render import furo as furo_adapter

    toc = "```toc\n:maxdepth: 2\n\n{}\n```\n".format
    pages = {"index.md": INDEX.replace("ch/page\nkaynakca", "bolum/index\nek/index\nkaynakca"),
             "bolum/index.md": "# Bölüm\n\nGiriş.\n\n" + toc("birinci\nalt/index"),
             "bolum/birinci.md": "# Birinci\n\nMetin.\n\n## Alt Başlık\n\nMetin.\n",
             "bolum/alt/index.md": "# Alt Bölüm\n\nGiriş.\n\n" + toc("derin"),
             "bolum/alt/derin.md": "# Derin\n\nMetin.\n\n# İkinci Başlık\n\nMetin.\n",
             "ek/index.md": "# Ek\n\nGiriş.\n\n" + toc("notlar"),
             "ek/notlar.md": "# Notlar `kod`\n\nMetin.\n",
             "kaynakca.md": "```eval_rst\n.. only:: html\n\n   Kaynakça\n   ========\n\n.. bibliography::\n```\n"}
    navigations = {}
    name_expanders = furo_adapter.name_expanders

    def compared(app, pagename, templatename, context, doctree):
        name_expanders(app, pagename, templatename, context, doctree)
        if "toctree" in context:
            navigations[pagename] = (context["furo_navigation_tree"],
                                     furo_adapter.turkish(furo_adapter.furos_navigation(app.builder, pagename)),
                                     furo_adapter.navigation(app, pagename) is not None)

    monkeypatch.setattr(furo_adapter, "name_expanders", compared)   # what the render's Sphinx connects
    Book(tmp_path, pages).build()
    listed = {name.removesuffix(".md") for name in pages} - {"index", "kaynakca"}
    assert {"index", "kaynakca", "search", "404", *listed} <= navigations.keys()
    for page, (ours, furos, derived) in navigations.items():
        assert ours == furos, page
        assert derived == (page in listed), page
    for page in listed:
        ours = navigations[page][0]
        assert ours.count("current-page") == 1 and ours.count('href="#"') == 1 and "Alt başlıkları aç" in ours, page


NUMBERED = {"index.rst": "Book\n====\n\n.. toctree::\n   :numbered:\n\n   page\n\n"
                         ".. code-block:: python\n   :caption: Here\n   :name: here\n\n   x = 0\n\n"
                         "See :numref:`here`, :numref:`listing` and :numref:`listing`.\n",
            "page.rst": "Page\n====\n\n.. code-block:: python\n   :caption: Code\n   :name: listing\n\n   x = 1\n\n"
                        "Again :numref:`listing` and :numref:`here`.\n"}


def test_sphinx_finds_each_numref_target_in_the_one_read_only_doctree_of_its_page(tmp_path, monkeypatch):
    """Sphinx's standard domain finds a `:numref:`'s target through `env.get_doctree`, in its
    `_resolve_numref_xref` (swapped by sphinx_adapter): each page is unpickled once for all the references to
    it. The tree a page is written from (`get_and_resolve_doctree`, which resolves it in place) is one of its
    own, incremental render or clean, and the read-only tree stays as its pickle holds it; the environment
    pickles the read-only trees empty, for the next render reads some pages again."""
    import pickle

    from docutils import nodes
    from sphinx import addnodes
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment
    from sphinx.util.docutils import docutils_namespace

    source = tmp_path / "source"
    source.mkdir()
    (source / "conf.py").write_text('extensions = ["bookbuild.render.sphinx_adapter"]\nnumfig = True\n'
                                   'numfig_format = {"code-block": "Listing %s"}\n')   # in any language
    for name, text in NUMBERED.items():
        (source / name).write_text(text)
    unpickled: list[tuple[str, str]] = []   # (the caller of BuildEnvironment.get_doctree, the page)
    get_doctree = BuildEnvironment.get_doctree

    def counted(env, docname):
        unpickled.append((sys._getframe(1).f_code.co_name, docname))
        return get_doctree(env, docname)
    monkeypatch.setattr(BuildEnvironment, "get_doctree", counted)

    def render() -> dict[str, tuple[nodes.document, nodes.document | None, object]]:
        written = {}

        def resolved(app, doctree, docname):
            read_only = app.env.__dict__.get(sphinx_adapter.READ_ONLY, {})
            written[docname] = (doctree, read_only.get(docname),
                                pickle.loads(pickle.dumps(app.env)).__dict__.get(sphinx_adapter.READ_ONLY))
        unpickled.clear()
        with docutils_namespace():
            app = Sphinx(str(source), str(source), str(tmp_path / "html"), str(tmp_path / "doctrees"), "html",
                         status=None, warning=None)
            app.connect("doctree-resolved", resolved)
            app.build()
        assert sphinx_adapter.READ_ONLY not in app.env.__dict__   # its memory given back
        return written

    written = render()
    numbers = {page: re.findall(r"std-numref\">([^<]+)<", (tmp_path / "html" / f"{page}.html").read_text())
               for page in ("index", "page")}
    assert numbers == {"index": ["Listing 1", "Listing 1.1", "Listing 1.1"], "page": ["Listing 1.1", "Listing 1"]}
    assert sorted(d for caller, d in unpickled if caller == "read_only_doctree") == ["index", "page"]
    assert not [d for caller, d in unpickled if caller == "_resolve_numref_xref"]
    (source / "page.rst").write_text(NUMBERED["page.rst"].replace("Again", "Once more"))
    written = render()
    assert written.keys() == {"index", "page"}   # the edited page, and the page whose toc lists it
    assert sorted(d for caller, d in unpickled if caller == "read_only_doctree") == ["index", "page"]
    for tree, read_only, pickled in written.values():
        assert read_only is not None and tree is not read_only and not pickled
        assert not list(tree.findall(addnodes.pending_xref)) and list(read_only.findall(addnodes.pending_xref))
    assert re.findall(r"std-numref\">([^<]+)<", (tmp_path / "html" / "index.html").read_text()) == numbers["index"]
