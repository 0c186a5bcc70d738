"""Stage 1 and 2: reading d2lbook's dialect and splitting it per framework (no kernels)."""
from __future__ import annotations

from pathlib import Path

import pytest
from books import ROOT  # noqa: E402

from bookbuild import errors, tab_marks
from bookbuild import published as references
from bookbuild.config import load
from bookbuild.errors import ConfigError, SourceError
from bookbuild.execute import split
from bookbuild.read import book as read_stage
from bookbuild.read import dialect

FRAMEWORKS = ("mxnet", "pytorch", "tensorflow")


def read(tmp_path, text: str, name: str = "page.md"):
    (tmp_path / name).write_text(text, encoding="utf-8")
    return dialect.read(tmp_path, Path(name), FRAMEWORKS)


def code(page):
    return [(b.source, b.tabs, b.line) for b in page.blocks if b.kind == "code"]


def test_tab_marks_follow_d2lbook(tmp_path):
    page = read(tmp_path, "\n".join([
        "# T", "",
        "```{.python .input}", "a = 1", "```", "",
        "```{.python .input}", "#@tab pytorch", "b = 2", "```", "",
        "```{.python .input}", "#@tab mxnet, tensorflow", "c = 3", "```", "",
        "```{.python .input}", "#@tab all", "d = 4", "```", "",
        "```{.python .input  n=3}", "e = 5", "```", ""]))
    assert code(page) == [
        ("a = 1", ("mxnet",), 4),                   # no mark: the first framework of build.yml
        ("b = 2", ("pytorch",), 9),
        ("c = 3", ("mxnet", "tensorflow"), 14),
        ("d = 4", FRAMEWORKS, 19),
        ("e = 5", ("mxnet",), 23),
    ]


def test_tab_prose_and_plain_fences(tmp_path):
    page = read(tmp_path, "\n".join([
        "Giriş", "", "```python", "not executed", "```", "",
        ":begin_tab:`pytorch`", "Yalnız PyTorch", ":end_tab:", "", "Son", ""]))
    prose = [(b.source.strip(), b.tabs) for b in page.blocks if not b.is_blank]
    assert prose == [("Giriş\n\n```python\nnot executed\n```", None), ("Yalnız PyTorch", ("pytorch",)), ("Son", None)]
    assert not page.has_code


@pytest.mark.parametrize("text, line, words", [
    ("x\n```{.python .input}\n#@tab jax\nx = 1\n```\n", 3, ["unknown tab 'jax'", "mxnet, pytorch, tensorflow"]),
    ("x\n:begin_tab:`caffe`\ny\n:end_tab:\n", 2, ["unknown tab 'caffe'"]),
    ("x\n:begin_tab:`pytorch`\ny\n", 2, [":begin_tab: is never closed", ":end_tab:"]),
    ("x\n\n:end_tab:\n", 3, [":end_tab: without a :begin_tab:"]),
    (":begin_tab:`pytorch`\n:begin_tab:`mxnet`\n:end_tab:\n", 2, ["inside the tab opened at line 1"]),
    (":begin_tab:`pytorch`\n```{.python .input}\nx\n```\n:end_tab:\n", 2, ["code cell inside :begin_tab:"]),
    ("x\n```{.python .input}\nx = 1\n", 2, ["never closed"]),
    ("```{.python .input}\n#@tab\nx\n```\n", 2, ["looks like a tab mark"]),
])
def test_bad_input_names_file_and_line(tmp_path, text, line, words):
    with pytest.raises(SourceError) as error:
        read(tmp_path, text, "bad.md")
    message = str(error.value)
    assert message.startswith(f"bad.md:{line}: "), message
    for word in words:
        assert word in message


def test_toc_is_followed_and_a_missing_page_is_named(make_book):
    book = make_book("# P\n")
    book.write("index.md", "# K\n\n```toc\n:maxdepth: 2\n\nch/a\nch/b\n```\n")
    book.write("ch/a.md", "# A\n\n```toc\nc\n```\n")
    book.write("ch/c.md", "# C\n")
    book.write("ch/b.md", "# B\n")
    pages = read_stage.read_book(book.config).pages
    assert [str(p.path) for p in pages] == ["index.md", "ch/a.md", "ch/c.md", "ch/b.md"]
    (book.root / "ch" / "b.md").unlink()
    with pytest.raises(SourceError, match=r"index.md:7: toc entry ch/b has no file ch/b.md"):
        read_stage.read_book(book.config)


def test_a_toc_entry_of_the_published_edition_links_there_and_one_found_nowhere_is_named(make_book):
    """A toc entry with no file that names a page of the published edition (by its path) stays in the
    toc as a link there, with its published number and title; a name found in neither place is an
    error at its toc line."""
    book = make_book("# P\n")
    book.write("index.md", "# K\n\n```toc\n:numbered:\n\nchapter_optimization/index\n```\n")
    book.write("chapter_optimization/index.md", "# Bizim Bölümümüz\n\n```toc\n:maxdepth: 2\n\ngd\nnowhere\n```\n")
    with pytest.raises(SourceError, match=r"^chapter_optimization/index.md:7: toc entry chapter_optimization/nowhere "
                                          r"has no file .*have no page chapter_optimization/nowhere.html"):
        read_stage.read_book(book.config)
    book.write("chapter_optimization/index.md", "# Bizim Bölümümüz\n\n```toc\n:maxdepth: 2\n\ngd\n```\n")
    source = read_stage.read_book(book.config)
    gd = references.published_pages(book.config.book.published_pages)["chapter_optimization/gd.html"]
    assert source.outside == {Path("chapter_optimization/gd.md"): gd}
    toctree = source.page(Path("chapter_optimization/index.md")).blocks[0].myst
    assert f"\n{gd.number}. {gd.title} <{book.config.book.published_url}chapter_optimization/gd.html>\n" in toctree


def test_the_books_own_chapter_page_lists_every_section_of_the_published_chapter():
    """The chapter page, as the published edition has it: every toc entry that is not in this build is
    a page of the published chapter, numbered by its place in the toc (as d2lbook numbers them), which
    is the number the table gives each one it knows."""
    config = load(ROOT / "build.yml")
    source = read_stage.read_book(config)
    table = references.published_labels(config.book.published_labels)
    chapter = source.page(Path("chapter_optimization/index.md"))
    number = next(table[label.name].number for label in chapter.labels if label.name in table)
    assert source.outside and set(source.outside) < {entry for entry, _ in chapter.toc}
    pages = references.published_pages(config.book.published_pages)
    for place, (entry, _) in enumerate(chapter.toc, 1):
        known = references.published_page(table, entry.with_suffix(".html").as_posix())
        if entry in source.outside:
            assert source.outside[entry].number == f"{number}.{place}", entry
            # its published title, a page without a label too (issue 30.3: 11.1 read "Yayımlanmış baskıdaki bölüm")
            assert source.outside[entry].title == pages[entry.with_suffix(".html").as_posix()].title, entry
        assert known is None or known.number == f"{number}.{place}", entry


def test_tab_marks_as_d2lbook_finds_them(tmp_path):
    """d2lbook's pattern is `# *@tab +names`, anywhere in the cell; so is ours (test_oracle checks it)."""
    page = read(tmp_path, "\n".join([
        "```{.python .input}", "# @tab pytorch", "a = 1", "```", "",
        "```{.python .input}", "b = 2", "#@tab tensorflow", "c = 3", "```", "",
        "```{.python .input}", "%%tab mxnet,pytorch", "d = 4", "```", ""]))
    assert code(page) == [("a = 1", ("pytorch",), 3), ("b = 2\nc = 3", ("tensorflow",), 7),
                          ("d = 4", ("mxnet", "pytorch"), 14)]


@pytest.mark.parametrize("mark", ["#@tabpytorch", "#@ tab pytorch", "#@TAB pytorch", "#@tab: pytorch"])
def test_a_line_that_looks_like_a_tab_mark_is_an_error(tmp_path, mark):
    with pytest.raises(SourceError) as error:
        read(tmp_path, f"x\n\n```{{.python .input}}\n{mark}\nx = 1\n```\n", "bad.md")
    assert str(error.value).startswith(f"bad.md:4: `{mark}` looks like a tab mark but is not one")


def test_a_tab_mark_after_code_is_an_error(tmp_path):
    """d2lbook finds `# @tab` anywhere in a cell, and drops the whole line it is on, code and all."""
    with pytest.raises(SourceError, match=r"^bad.md:2: a tab mark after code \(`x = 1  # @tab pytorch`\)"):
        read(tmp_path, "```{.python .input}\nx = 1  # @tab pytorch\n```\n", "bad.md")


def test_two_tab_marks_in_one_cell_are_an_error(tmp_path):
    with pytest.raises(SourceError, match=r"bad.md:3: a second tab mark \(the first is at line 2\)"):
        read(tmp_path, "```{.python .input}\n#@tab pytorch\n#@tab mxnet\nx = 1\n```\n", "bad.md")


def test_roles_become_myst():
    source = "\n".join([
        "# Başlık", ":label:`sec_x`", "",
        "Bkz. :numref:`sec_y`, :eqref:`eq_z` ve :cite:`A.2000,B.2001`.", "",
        "$$x = 1$$", ":eqlabel:`eq_z`", "",
        "![Bir şekil](../img/a.svg)", ":width:`400px`", ":label:`fig_a`", "",
        "```toc", ":maxdepth: 2", "", "a", "```", ""])
    myst, lines = dialect.to_myst(source, Path("p.md"), 1)
    assert len(lines) == len(myst.splitlines())
    assert "(sec_x)=\n# Başlık" in myst
    assert "{numref}`sec_y`, {eq}`eq_z` ve {cite:p}`A.2000,B.2001`" in myst
    assert "$$x = 1$$ (eq_z)" in myst
    assert ":::{figure} ../img/a.svg\n:name: fig_a\n:width: 400px\nBir şekil\n:::" in myst
    assert "```{toctree}\n:maxdepth: 2" in myst


def test_a_label_with_nothing_to_name_is_an_error():
    with pytest.raises(SourceError, match=r"p.md:3: :label:`x` must follow"):
        dialect.to_myst("Metin\n\n:label:`x`\n", Path("p.md"), 1)


def test_split_gives_each_framework_its_own_code(tmp_path):
    page = read(tmp_path, "# T\n\n```{.python .input}\na\n```\n\n```{.python .input}\n#@tab pytorch\nb\n```\n\n"
                          ":begin_tab:`tensorflow`\nTF\n:end_tab:\n")
    config = load(ROOT / "build.yml")
    notebooks = split.split(page, config.frameworks, {name: "fp" for name in config.names})
    sources = {name: [(c.cell_type, c.source) for c in nb.cells] for name, nb in notebooks.items()}
    assert sources == {
        "mxnet": [("markdown", "# T"), ("code", "a")],
        "pytorch": [("markdown", "# T"), ("code", "b")],
        "tensorflow": [("markdown", "# T"), ("markdown", "TF")],
    }
    assert notebooks["pytorch"].metadata.kernelspec["name"] == "d2l-pytorch"
    assert all(not c.metadata for nb in notebooks.values() for c in nb.cells)  # nothing but code in the cache key


def test_chapter_source_is_the_seed_byte_for_byte():
    seed = ROOT.parent / "shared" / "seed" / "momentum.md"
    assert (ROOT / "chapter_optimization" / "momentum.md").read_bytes() == seed.read_bytes()


def test_the_chapter_page_is_the_books_own_byte_for_byte():
    seed = ROOT.parent / "shared" / "seed" / "chapter_optimization-index.md"
    assert (ROOT / "chapter_optimization" / "index.md").read_bytes() == seed.read_bytes()


def test_chapter_split_by_framework():
    """What each tab of the real chapter holds: its imports and its own code only."""
    config = load(ROOT / "build.yml")
    page = dialect.read(ROOT, Path("chapter_optimization/momentum.md"), config.names)
    notebooks = split.split(page, config.frameworks, {name: "fp" for name in config.names})
    for fw in config.frameworks:
        code = "\n".join(c.source for c in notebooks[fw.name].cells if c.cell_type == "code")
        assert f"from d2l import {fw.d2l_module} as d2l" in code
        for other in config.frameworks:
            if other is not fw:
                assert f"from d2l import {other.d2l_module} as d2l" not in code


def test_merge_groups_like_d2lbook(tmp_path):
    """Code and tab prose with no shared prose between them form one group; shared prose ends it."""
    from bookbuild.merge import pages as merge
    page = read(tmp_path, "# T\n\n```{.python .input}\n#@tab pytorch\nb\n```\n\n"
                          ":begin_tab:`mxnet`\nM\n:end_tab:\n\nOrtak.\n\n"
                          "```{.python .input}\n#@tab all\nc\n```\n\n```{.python .input}\n#@tab tensorflow\nd\n```\n")
    config = load(ROOT / "build.yml")
    notebooks = split.split(page, config.frameworks, {name: "fp" for name in config.names})
    merged = merge.merge(page, notebooks, config)
    groups = [(*tab_marks.cell_mark(c.metadata), c.source) for c in merged.cells
              if c.cell_type == "code"]
    assert groups == [("pytorch", 1, "b"), ("mxnet", 2, "c"), ("pytorch", 2, "c"), ("tensorflow", 2, "c"),
                      ("tensorflow", 2, "d")]
    prose = [c.source for c in merged.cells if c.cell_type == "markdown"]
    assert "::::{d2l-tab} mxnet\n:group: 1\n\nM\n::::" in prose


def test_the_notebooks_the_build_makes_are_valid_and_written_as_nbformat_writes(tmp_path):
    """The build makes its notebooks (split, merged, readers' downloads) without nbformat's schema check, which
    took minutes over the whole book: they still pass that check, and are the bytes nbformat.writes gives."""
    import nbformat

    from bookbuild import notebook_json
    from bookbuild.merge import downloads
    from bookbuild.merge import pages as merge
    config = load(ROOT / "build.yml")
    page = dialect.read(ROOT, Path("chapter_optimization/momentum.md"), config.names)
    notebooks = split.split(page, config.frameworks, {name: "fp" for name in config.names})
    wheel = tmp_path / "d2l-0-py3-none-any.whl"
    wheel.write_bytes(b"wheel")
    made = [*notebooks.values(), merge.merge(page, notebooks, config),
            *(downloads.for_download(nb, config.framework(name), wheel) for name, nb in notebooks.items())]
    for nb in made:
        nbformat.validate(nb)
        assert notebook_json.text(nb) == nbformat.writes(nb) + "\n"
        assert notebook_json.parse(notebook_json.text(nb)) == nbformat.reads(nbformat.writes(nb), as_version=4)


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("requirements/pytorch.txt", "requirements/nothing.txt"),
     r"frameworks.pytorch.requirements: .*nothing.txt does not exist"),
    (lambda t: t.replace("    label: PyTorch\n", ""), r"frameworks.pytorch.label: is missing"),
    (lambda t: t.replace("  tensorflow:\n", "  all:\n"), r"an identifier other than 'all'"),
    (lambda t: t.replace("index: index.md", "index: nowhere.md"), r"book.index: .*nowhere.md does not exist"),
    (lambda t: t.replace("  rtol: 0.05", "  rtol: 0.05\n  tolerance: 1"),
     r"agreement.tolerance: unknown key; known keys: atol, magnitude, noise"),
])
def test_bad_build_yml_is_named(tmp_path, edit, message):
    import shutil
    shutil.copytree(ROOT / "requirements", tmp_path / "requirements")
    for data in ("d2l.bib", "d2l-tr-labels.tsv", "d2l-tr-pages.tsv"):
        shutil.copy(ROOT / data, tmp_path / data)
    (tmp_path / "index.md").write_text("# K\n")
    (tmp_path / "build.yml").write_text(edit((ROOT / "build.yml").read_text()))
    with pytest.raises(ConfigError, match=message) as error:
        load(tmp_path / "build.yml")
    assert error.value.line                               # at its line of build.yml


# --- d2lbook's marks, one behaviour each (d2lbook 1.0.3: notebook.py, slides.py, rst.py) ---------------

def myst_of(tmp_path, text: str) -> str:
    return "\n".join(b.myst for b in read(tmp_path, text).blocks if b.kind == "markdown")


def code_cell(*lines: str) -> str:
    return "\n".join(["```{.python .input}", *lines, "```", ""])


@pytest.mark.parametrize("mark, kept_for", [
    ("if tab.selected('pytorch'):", ("pytorch",)),
    ('if tab.selected("mxnet", "tensorflow"):', ("mxnet", "tensorflow")),
    ("if d2l.USE_PYTORCH:", ("pytorch",)),          # d2lbook's older form
])
def test_tab_selected_keeps_each_frameworks_branch(tmp_path, mark, kept_for):
    """`#@tab all` with `if tab.selected(...)`: each framework's cell holds its own branch, dedented;
    the `if` line goes, and a line indented like it ends the branch (d2lbook knows no `else`)."""
    page = read(tmp_path, "x\n\n" + code_cell("#@tab all", "a = 1", mark, "    b = 2", "    c = 3", "d = 4"))
    assert [(b.tabs, b.source, b.lines) for b in page.blocks if b.kind == "code"] == [
        ((fw,), "a = 1\nb = 2\nc = 3\nd = 4" if fw in kept_for else "a = 1\nd = 4",
         (5, 7, 8, 9) if fw in kept_for else (5, 9)) for fw in FRAMEWORKS]


def test_load_ext_d2lbook_tab_cell_is_in_no_tab(tmp_path):
    page = read(tmp_path, "x\n\n" + code_cell("#@tab all", "%load_ext d2lbook.tab", "tab.interact_select(['mxnet'])")
                + "\n" + code_cell("#@tab all", "a = 1"))
    assert code(page) == [("a = 1", FRAMEWORKS, 11)]


def test_save_mark_stays_in_the_cell(tmp_path):
    """`#@save` is for d2lbook's library: the book shows it, as d2lbook does."""
    page = read(tmp_path, code_cell("#@tab pytorch", "def f():  #@save", "    return 1"))
    assert code(page) == [("def f():  #@save\n    return 1", ("pytorch",), 3)]


@pytest.mark.parametrize("marks, hidden", [
    (["#@hide", ""], [("code", "output"), ()]),
    (["#@hide_code", ""], [("code",), ()]),
    (["#@hide_output", ""], [("output",), ()]),
    (["#@HIDE_OUTPUT", ""], [("output",), ()]),            # d2lbook compares lower-cased
    (["# hide code", "# hide outputs"], [("code",), ("output",)]),   # its older forms
    (["", "#@hide_all", ""], [(), ("code", "output"), ("code", "output")]),   # to the page's end
    (["# @hide", ""], [(), ()]),                             # not a mark: d2lbook wants `#@`
])
def test_hide_marks_as_d2lbook(tmp_path, marks, hidden):
    page = read(tmp_path, "x\n\n" + "\n".join(code_cell("#@tab all", mark, f"print({i})")
                                              for i, mark in enumerate(marks)))
    assert [b.hide for b in page.blocks if b.kind == "code"] == hidden


def test_begin_tab_lists_without_spaces(tmp_path):
    page = read(tmp_path, ":begin_tab:`mxnet,pytorch`\nİkisi\n:end_tab:\n")
    assert [(b.source, b.tabs) for b in page.blocks if not b.is_blank] == [("İkisi\n", ("mxnet", "pytorch"))]


def test_slide_marks_keep_bold_text_and_drop_strikethrough(tmp_path):
    """[**…**] and (**…**) keep their text without the marks (not bold); [~~…~~] and (~~…~~) are left
    out, text and all: across lines, around $$ equations and headings, nested; a bold link is a link."""
    myst = myst_of(tmp_path, "\n".join([
        "## [**Veri Kümesi**]", "",
        "Bir [**önemli\ncümle**] ve (~~yalnız slaytta~~) bir (**ayrıntı (~~gizli~~) burada**).", "",
        "[**Denklem:", "", "$$x = 1.$$", "**]", "",
        "[~~Slayt", "başlığı~~] [**bağlantı**](https://d2l.ai)", ""]))
    assert myst == ("## Veri Kümesi\n\nBir önemli\ncümle ve  bir ayrıntı  burada.\n\nDenklem:\n\n$$x = 1.$$\n\n\n"
                    " [**bağlantı**](https://d2l.ai)\n")


def test_slide_marks_keep_every_line_at_its_source_line(tmp_path):
    page = read(tmp_path, "A (~~bir\niki~~) B\nC :numref:`sec_x`\n")
    (block,) = page.blocks
    assert (block.source, block.lines, block.myst_lines) == ("A  B\nC :numref:`sec_x`\n", (1, 3), (1, 3))
    assert page.mentions[0].line == 3


def test_slide_marks_around_an_equation_keep_its_eqlabel(tmp_path):
    """calculus.md: `(**$$…$$**)` then `:eqlabel:` is a labelled display equation."""
    page = read(tmp_path, "Türev:\n\n(**$$f'(x) = 1,$$**)\n:eqlabel:`eq_derivative`\n\neğer ...\n")
    assert "\n$$f'(x) = 1,$$ (eq_derivative)\n" in page.blocks[0].myst
    assert page.labels == (dialect.Label("eq_derivative", "equation", "", 4),)


def test_an_equation_right_under_a_line_of_text_is_a_display_equation_with_its_eqlabel(tmp_path):
    """integral-calculus.md:230: `$$…$$` on the line after a sentence, `:eqlabel:` under it. Pandoc (d2lbook's
    conversion) makes the equation a `.. math::` block of its own, in the list item when the sentence is one
    (eigendecomposition.md's exercises), the text after it a paragraph of that item."""
    page = read(tmp_path, "Şöyle yazabiliriz:\n$$f(x).$$\n:eqlabel:`eq_ftc`\n\n"
                          "1. Nedir?\n$$\nA\n$$\nsonra\n1. İkinci\n")
    assert page.blocks[0].myst == ("Şöyle yazabiliriz:\n\n$$f(x).$$ (eq_ftc)\n\n"
                                   "1. Nedir?\n\n   $$\n   A\n   $$\n   sonra\n1. İkinci\n")
    assert page.blocks[0].myst_lines == (1, 2, 2, 4, 5, 6, 6, 7, 8, 9, 10)
    assert page.labels == (dialect.Label("eq_ftc", "equation", "", 3),)


def test_slide_marks_in_code_are_code(tmp_path):
    page = read(tmp_path, "x\n\n" + code_cell("f(**kwargs)  # [~~a~~]"))
    assert code(page) == [("f(**kwargs)  # [~~a~~]", ("mxnet",), 4)]


def test_an_unpaired_slide_mark_is_an_error_at_its_line(tmp_path):
    with pytest.raises(SourceError) as error:
        read(tmp_path, "Bir\n\n[**açık kalan\n\nson.\n", "bad.md")
    assert str(error.value).startswith("bad.md:3: the slide mark `[**` has no partner: 1 `[**` but 0 `**]`")


def test_table_caption_and_label_make_a_numbered_table(tmp_path):
    """d2lbook's `:Caption` line above a table and `:label:` under its last row; rows may leave out
    the leading `|`, the caption may cite."""
    page = read(tmp_path, "\n".join([
        "Bkz. :numref:`tab_x`.", "", ":Bir başlık (:cite:`Polyak.1964`) ", "",
        "|a|b|", "|--|--|", "1 | 2 |", ":label:`tab_x`", "", "Son.", ""]))
    (block,) = page.blocks
    assert block.myst == ("Bkz. {numref}`tab_x`.\n\n\n:::{table} Bir başlık ({cite:p}`Polyak.1964`)\n:name: tab_x\n\n"
                          "|a|b|\n|--|--|\n1 | 2 |\n:::\n\nSon.\n")
    assert page.labels == (dialect.Label("tab_x", "table", "Bir başlık (:cite:`Polyak.1964`)", 8),)
    assert ("cite", "Polyak.1964", 3) in [(m.role, m.target, m.line) for m in page.mentions]


def test_a_table_label_without_a_caption_is_an_error(tmp_path):
    with pytest.raises(SourceError, match=r"^bad.md:5: the table above :label:`tab_x` has no caption line"):
        read(tmp_path, "Metin.\n\n|a|b|\n|--|--|\n:label:`tab_x`\n", "bad.md")


@pytest.mark.parametrize("title", [" # Çok Değişkenli Hesap", "   # Çok Değişkenli Hesap #",
                                   "Çok Değişkenli Hesap\n===="])
def test_headings_as_commonmark_reads_them(tmp_path, title):
    """Indented up to three spaces, closed with #, or setext: the page's title, which a :label: names."""
    page = read(tmp_path, f"{title}\n:label:`sec_x`\n\nMetin.\n")
    assert page.title == "Çok Değişkenli Hesap"
    assert page.labels == (dialect.Label("sec_x", "section", "Çok Değişkenli Hesap", title.count("\n") + 2),)
    assert page.blocks[0].myst.startswith("(sec_x)=\n# Çok Değişkenli Hesap\n")


def test_a_heading_needs_its_space(tmp_path):
    """`##[**…**]` is a paragraph for CommonMark and for d2lbook's pandoc alike."""
    page = read(tmp_path, "##[**Başlık değil**]\n")
    assert page.title == "page" and page.blocks[0].myst == "##Başlık değil\n"


def test_every_role_becomes_myst():
    myst, _ = dialect.to_myst("\n".join([
        ":numref:`sec_y` :ref:`sec_y` :eqref:`eq_z` :cite:`A.2000,B.2001` :cite:` C.2002` :citet:`A.2000` "
        ":citep:`B.2001` :class:`d2l.Module` :func:`d2l.plot` :mod:`d2l.torch`", ""]), Path("p.md"), 1)
    assert myst == ("{numref}`sec_y` {ref}`sec_y` {eq}`eq_z` {cite:p}`A.2000,B.2001` {cite:p}`C.2002` "
                    "{cite:t}`A.2000` {cite:p}`B.2001` {py:class}`d2l.Module` {py:func}`d2l.plot` "
                    "{py:mod}`d2l.torch`\n")


def test_eqref_with_a_space_is_text_as_in_d2lbook():
    assert dialect.to_myst(":eqref: `eq_x`\n", Path("p.md"), 1)[0] == ":eqref: `eq_x`\n"


def test_image_width_height_and_label(tmp_path):
    page = read(tmp_path, "![Bir şekil](../img/a.svg)\n:width:`400px`\n:height:`200px`\n:label:`fig_a`\n")
    assert page.blocks[0].myst == (":::{figure} ../img/a.svg\n:name: fig_a\n:height: 200px\n:width: 400px\n"
                                   "Bir şekil\n:::\n")
    assert page.labels == (dialect.Label("fig_a", "figure", "Bir şekil", 4),)


def test_an_image_within_a_line_is_checked_and_staged_too(tmp_path):
    """deepfm.md and ranking.md put an image in a line of text: an inline image, whose file must exist."""
    page = read(tmp_path, "Mimari: ,![DeepFM](../img/a.svg) \n\n![B](../img/b.svg) ve metin; $[\\![x]\\!] = 1$\n")
    assert [(m.role, m.target, m.line) for m in page.mentions] == [("image", "../img/a.svg", 1),
                                                                   ("image", "../img/b.svg", 3)]


def test_eqlabel_on_an_image_names_the_figure(tmp_path):
    """word2vec.md writes `:eqlabel:` under an image and refers to it with :numref:."""
    page = read(tmp_path, "![CBOW](../img/cbow.svg)\n:eqlabel:`fig_cbow`\n")
    assert page.labels == (dialect.Label("fig_cbow", "figure", "CBOW", 2),)
    assert ":name: fig_cbow" in page.blocks[0].myst


def test_width_without_an_image_names_its_role(tmp_path):
    with pytest.raises(SourceError, match=r"^bad.md:2: :height:`20px` must follow an image"):
        read(tmp_path, "Metin\n:height:`20px`\n", "bad.md")


def test_bibliography_role_lists_the_works_cited(tmp_path):
    page = read(tmp_path, "# Kaynakça\n\n:bibliography:`../d2l.bib`\n")
    assert page.blocks[0].myst == "# Kaynakça\n\n```{bibliography}\n```\n"
    assert [(m.role, m.line) for m in page.mentions] == [("bibliography", 3)]


def test_eval_rst_is_restructuredtext_and_toc_options_are_toctree_options(tmp_path):
    myst = myst_of(tmp_path, "```eval_rst\n.. only:: html\n\n   Kaynakça\n```\n\n"
                             "```toc\n:maxdepth: 2\n:numbered:\n:caption: Bölümler\n\na\n```\n")
    assert myst == ("```{eval-rst}\n.. only:: html\n\n   Kaynakça\n```\n\n"
                    "```{toctree}\n:maxdepth: 2\n:numbered:\n:caption: Bölümler\n\na\n```\n")


def test_a_title_in_an_eval_rst_fence_is_the_pages_title(tmp_path):
    """d2l-tr's bibliography page has its title only in reStructuredText (`.. only:: html`)."""
    page = read(tmp_path, "```eval_rst\n\n.. only:: html\n\n   Kaynakça\n   ========\n\n```\n\n"
                          ":bibliography:`../d2l.bib`\n")
    assert page.title == "Kaynakça"


# --- source errors: each at its line, naming the role as written, all at once -----------------------

def test_a_line_that_is_an_unknown_mark_is_an_error(tmp_path):
    """d2lbook drops a mark it does not know (a typo of :label:, say) with a log line; here it is named."""
    with pytest.raises(SourceError, match=r"^bad.md:2: `:lable:`sec_x`` is not a mark d2lbook knows"):
        read(tmp_path, "# T\n:lable:`sec_x`\n", "bad.md")


def test_an_eqlabel_with_no_equation_names_eqlabel(tmp_path):
    with pytest.raises(SourceError) as error:
        read(tmp_path, "# Başlık\n:eqlabel:`eq_x`\n", "bad.md")
    assert str(error.value).startswith("bad.md:2: :eqlabel:`eq_x` must follow a $$ equation")
    assert "right under the equation's closing $$" in str(error.value)


def test_a_label_under_an_equation_that_does_not_end_with_dollars_says_so(tmp_path):
    """The label sits right under its equation: the advice is not to move it."""
    with pytest.raises(SourceError) as error:
        read(tmp_path, "$$x = 1$$,\n:eqlabel:`eq_x`\n", "bad.md")
    message = str(error.value)
    assert message.startswith("bad.md:2: :eqlabel:`eq_x` follows a line that does not end with $$")
    assert "move" not in message and "end the equation's line with its closing $$" in message


def test_every_error_of_a_page_is_reported_at_once(tmp_path):
    with pytest.raises(errors.BookErrors) as error:
        read(tmp_path, "\n".join(["# T", ":eqlabel:`eq_a`", "", "Metin", ":label:`b`", "",
                                  "```{.python .input}", "#@tab jax", "x", "```", "", "[**açık", ""]), "bad.md")
    assert [(e.line, e.message.split(" ")[0]) for e in error.value.errors] == [
        (2, ":eqlabel:`eq_a`"), (5, ":label:`b`"), (8, "unknown"), (12, "the")]
    assert str(error.value).count("error: ") == 3      # after the first, which the command line prefixes


def test_every_source_error_of_the_book_is_reported_at_once(make_book):
    """Errors of several pages, and of the book (a reference to nothing), in one report; the pages under
    a page with errors are read too."""
    book = make_book("# P\n:eqlabel:`eq_p`\n\n```toc\nq\n```\n", **{"ch/q.md": "# Q\n\n:numref:`sec_none`\n\n[**x\n"})
    with pytest.raises(errors.BookErrors) as error:
        read_stage.read_book(book.config)
    assert [f"{e.path}:{e.line}" for e in error.value.errors] == ["ch/page.md:2", "ch/q.md:5", "ch/q.md:3"]


# --- the whole Turkish book through the page-level checks -----------------------------------------

D2L_TR = ROOT.parent / "shared" / "book" / "d2l-tr"


def test_every_page_of_the_turkish_book_reads():
    """Every page reached from d2l-tr's index.md by its tocs reads without an error (the frameworks are
    its config.ini's tabs); the count is the tocs'."""
    import configparser

    settings = configparser.ConfigParser()
    settings.read(D2L_TR / "config.ini", encoding="utf-8")
    frameworks = tuple(t.strip() for t in settings["build"]["tabs"].split(","))
    found, pages, entries, waiting = [], [], 0, [Path("index.md")]
    while waiting:
        page = dialect.read(D2L_TR, waiting.pop(0), frameworks, found)
        pages.append(page)
        entries += len(page.toc)
        waiting = [entry for entry, _ in page.toc] + waiting
    assert found == []
    assert len(pages) == 1 + entries == len({p.path for p in pages})
    assert all(page.title != page.path.stem for page in pages)      # each has a title


# --- the marks on a built page (cheap kernels) -------------------------------------------------------

MARKS_PAGE = """ # [**Lehçe**] Sayfası
:label:`sec_page`

Bu sayfa [**ana fikri**] anlatır (~~yalnız slaytta~~). [~~Slayt
başlığı~~] Bkz. :numref:`tab_page`, :eqref:`eq_page`, :citet:`Polyak.1964` ve :citep:`Polyak.1964`.

(**$$x = 1$$**)
:eqlabel:`eq_page`

Hemen altında, :eqref:`eq_under_text`:
$$y = 2$$
:eqlabel:`eq_under_text`

:Bir tablo başlığı :cite:`Polyak.1964`

| a | b |
|---|---|
| 1 | 2 |
:label:`tab_page`

## [**Kod**]

```{.python .input}
#@tab all
print("gör" + "ünen")
```

```{.python .input}
#@tab all
#@hide_output
print("gizli" + " çıktı")
```

```{.python .input}
#@tab all
#@hide_code
print("kodu" + " gizli")
```

```{.python .input}
#@tab all
x = 0
if tab.selected('pytorch'):
    import os
print("seçilen")
```
"""


# multiple-gpus.md's shape: code for two frameworks and shared cells; d2lbook gives it no TensorFlow version.
TWO_FRAMEWORKS_PAGE = """# İki Çerçeve

```{.python .input}
#@tab all
print("ortak" + " hücre")
```

```{.python .input}
#@tab mxnet, pytorch
print("iki" + " çerçeve")
```
"""


@pytest.fixture(scope="session")
def marks_site(tmp_path_factory, data_cache, fixture_kernels):
    from books import INDEX, REFERENCES, Book, made_once

    pages = {"index.md": INDEX.replace("ch/page\n", "ch/page\nch/two\n"), "kaynakca.md": REFERENCES,
             "ch/page.md": MARKS_PAGE, "ch/two.md": TWO_FRAMEWORKS_PAGE}
    folder = made_once(tmp_path_factory, "dialect-marks", lambda f: Book(f, pages).build())
    return Book(folder)


def page_text(html: str) -> str:
    import re
    from html import unescape
    main = html[html.index('<article role="main"'):html.index("</article>")]
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", "", main, flags=re.S))).split())


def test_slide_marks_never_reach_the_page_or_its_notebooks(marks_site):
    html = marks_site.html("ch/page")
    notebooks = [p.read_text(encoding="utf-8") for p in marks_site.paths.site("html").rglob("*.ipynb")]
    assert notebooks
    for text in (page_text(html), *notebooks):
        for mark in ("[**", "**]", "(**", "**)", "~~", "slaytta", "Slayt"):
            assert mark not in text, mark
    assert "Bu sayfa ana fikri anlatır" in page_text(html)
    assert "<h1><span class=\"section-number\">1. </span>Lehçe Sayfası<" in html      # the indented heading
    assert '<div class="math notranslate nohighlight">\n<span class="eqno">(1.1)' in html


def test_an_equation_right_under_a_line_of_text_is_numbered_and_referenced(marks_site):
    html = marks_site.html("ch/page")
    assert '<p>Hemen altında, <a class="reference internal" href="#equation-eq-under-text">(1.2)</a>:</p>' in html
    assert '<div class="math-wrapper docutils container" id="equation-eq-under-text">' in html


def test_a_captioned_table_is_numbered_and_referenced(marks_site):
    html = marks_site.html("ch/page")
    text = page_text(html)
    assert "Tablo 1.1 Bir tablo başlığı [ Polyak, 1964 ]" in text                # the caption, its citation too
    assert '<a class="reference internal" href="#tab-page"><span class="std std-numref">Tablo 1.1</span></a>' in html
    assert html.count('id="tab-page"') == 1


def test_citet_and_citep_read_as_sphinxcontrib_bibtex_writes_them(marks_site):
    text = page_text(marks_site.html("ch/page"))
    assert "Polyak [ 1964 ] ve [ Polyak, 1964 ]" in text and ":cite" not in text


def test_hide_marks_hide_on_the_page_and_the_cells_still_run(marks_site):
    html = marks_site.html("ch/page")
    text = page_text(html)
    assert 'print ( "gizli" + " çıktı" )' in text and "gizli çıktı" not in text          # #@hide_output
    assert "kodu gizli" in text and "#@hide_code" not in text                           # #@hide_code
    notebook = (marks_site.paths.site("html") / "_notebooks/ch/page-pytorch.ipynb").read_text(encoding="utf-8")
    assert "gizli çıktı" in notebook and "#@hide_code" in notebook                       # the download has all


def test_a_framework_no_mark_names_has_no_tab_on_that_page(marks_site):
    """d2lbook's rule: a page whose marks name only MXNet and PyTorch has no TensorFlow version, not even of
    its `#@tab all` cells: its TensorFlow tab says so (as the site's tabs do for any part a framework lacks)."""
    import json
    staged = json.loads((marks_site.paths.staging / "ch/two.ipynb").read_text(encoding="utf-8"))
    code = [(tab_marks.cell_mark(c["metadata"]), "".join(c["source"])) for c in staged["cells"]
            if c["cell_type"] == "code"]
    assert code == [(("mxnet", 1), 'print("ortak" + " hücre")'), (("mxnet", 1), 'print("iki" + " çerçeve")'),
                    (("pytorch", 1), 'print("ortak" + " hücre")'), (("pytorch", 1), 'print("iki" + " çerçeve")')]
    html = marks_site.html("ch/two")
    assert "tag_d2l-tab-tensorflow" not in html and "tag_d2l-tab-pytorch" in html
    assert "Bu kısmın TensorFlow sürümü yok." in html


def test_tab_selected_branches_show_in_their_own_tab(marks_site):
    import json
    staged = json.loads((marks_site.paths.staging / "ch/page.ipynb").read_text(encoding="utf-8"))
    branch = {tab_marks.cell_mark(c["metadata"])[0]: "".join(c["source"]) for c in staged["cells"]
              if c["cell_type"] == "code" and "seçilen" in "".join(c["source"])}
    assert branch == {"mxnet": 'x = 0\nprint("seçilen")', "pytorch": 'x = 0\nimport os\nprint("seçilen")',
                      "tensorflow": 'x = 0\nprint("seçilen")'}


# --- the reader's Markdown structure is markdown-it-py's (CommonMark + GFM tables, as MyST reads it) ---

def markdown_it_structure(text: str):
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    headings = [(t.map[0], t.map[1] - 1, int(t.tag[1:]), " ".join(tokens[i + 1].content.split()))
                for i, t in enumerate(tokens) if t.type == "heading_open"]
    return headings, [(t.map[0], t.map[1] - 1) for t in tokens if t.type == "table_open"]


def our_structure(text: str):
    headings, tables = dialect.structure(text)
    return ([(h.first, h.last, h.level, " ".join(h.title.split())) for h in headings],
            [(t.first, t.last) for t in tables])


@pytest.mark.parametrize("text", [
    " # Bir\n  ## İki ##\n    # kod\n#\tSekme\n##Değil\n",
    "Başlık\n======\n\nİki satırlı\nbaşlık\n---\n\n---\n\n- madde\n---\n\n> alıntı\n===\n",
    "```\n# kod\n|a|b|\n|-|-|\n```\n~~~~\n# kod\n~~~~\n",
    "Metin\n|a|b|\n|--|--|\n1 | 2\n:label:`t`\n\n| a |\n|---|---|\n\n|a|\n|:-:|\n",
    "    |a|b|\n    |-|-|\n\n| x | y |\n| --- | --- |\n# Başlık bitirir\n",
])
def test_headings_and_tables_are_read_as_markdown_it_reads_them(text):
    assert our_structure(text) == markdown_it_structure(text)


def test_headings_and_tables_of_the_turkish_book_are_read_as_markdown_it_reads_them():
    """Every prose block of d2l-tr (the reader's own scan runs where markdown-it-py is not installed)."""
    blocks = [b.source for path in sorted(D2L_TR.rglob("*.md"))
              for b in dialect.read(D2L_TR, path.relative_to(D2L_TR), FRAMEWORKS).blocks if b.kind == "markdown"]
    assert len(blocks) > 1000
    assert [our_structure(text) for text in blocks] == [markdown_it_structure(text) for text in blocks]
