"""Stage 1 and 2: reading d2lbook's dialect and splitting it per framework (no kernels)."""
from __future__ import annotations

from pathlib import Path

import pytest

from bookbuild import tab_marks
from bookbuild.read import dialect, references
from bookbuild.execute import split
from bookbuild.read import book as read_stage
from bookbuild.config import load
from bookbuild.errors import ConfigError, SourceError

from books import ROOT  # noqa: E402
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
                                          r"has no file .*has no page chapter_optimization/nowhere.html"):
        read_stage.read_book(book.config)
    book.write("chapter_optimization/index.md", "# Bizim Bölümümüz\n\n```toc\n:maxdepth: 2\n\ngd\n```\n")
    source = read_stage.read_book(book.config)
    gd = references.published_page(references.published_labels(book.config.book.published_labels),
                                   "chapter_optimization/gd.html")
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
    for place, (entry, _) in enumerate(chapter.toc, 1):
        known = references.published_page(table, entry.with_suffix(".html").as_posix())
        if entry in source.outside:
            assert source.outside[entry].number == f"{number}.{place}", entry
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


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("requirements/pytorch.txt", "requirements/nothing.txt"),
     r"frameworks.pytorch.requirements: .*nothing.txt does not exist"),
    (lambda t: t.replace("    label: PyTorch\n", ""), r"frameworks.pytorch.label: is missing"),
    (lambda t: t.replace("  tensorflow:\n", "  all:\n"), r"an identifier other than 'all'"),
    (lambda t: t.replace("index: index.md", "index: nowhere.md"), r"book.index: .*nowhere.md does not exist"),
    (lambda t: t.replace("  rtol: 0.05", "  rtol: 0.05\n  tolerance: 1"), r"agreement.tolerance: unknown key; known keys: atol, magnitude, noise"),
])
def test_bad_build_yml_is_named(tmp_path, edit, message):
    import shutil
    shutil.copytree(ROOT / "requirements", tmp_path / "requirements")
    for data in ("d2l.bib", "d2l-tr-labels.tsv"):
        shutil.copy(ROOT / data, tmp_path / data)
    (tmp_path / "index.md").write_text("# K\n")
    (tmp_path / "build.yml").write_text(edit((ROOT / "build.yml").read_text()))
    with pytest.raises(ConfigError, match=message) as error:
        load(tmp_path / "build.yml")
    assert error.value.line                               # at its line of build.yml
