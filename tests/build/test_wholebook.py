"""A render without executing (EXECUTE=none), a d2lbook book built from its own config.ini, and the
whole Turkish book (../shared/book/d2l-tr, read only) read through every source check."""
from __future__ import annotations

import hashlib
import logging
import re
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from books import FIXTURE_YML, ROOT, SHARED, Book  # noqa: E402

from bookbuild import config as book_config  # noqa: E402
from bookbuild import pipeline
from bookbuild.config import Paths  # noqa: E402
from bookbuild.errors import ConfigError  # noqa: E402
from bookbuild.read import book as read  # noqa: E402

CORPUS = SHARED / "book" / "d2l-tr"
NOTICE = "Bu sayfanın kodu bu derlemede çalıştırılmadı"
TOC = re.compile(r"^```toc\n(.*?)^```", re.M | re.S)

PAGE = """# Hesap

```{.python .input}
#@tab all
print("bir çıktı")
```

```{.python .input}
#@tab pytorch
print("yalnız pytorch")
```
"""
INDEX = "# Deneme\n\n```toc\n:maxdepth: 2\n:numbered:\n\nch/page\n```\n"


def _not_executed(report: dict) -> list[tuple[str, str]]:
    return sorted((r["page"], r["framework"]) for r in report["notebooks"] if r["status"] == "not executed")


def test_execute_none_renders_code_without_outputs_and_says_so(tmp_path):
    """No kernel starts and no framework environment is needed: here the frameworks' environment was never
    made (a build that executes refuses it: checked first), and their kernels do not exist."""
    book = Book(tmp_path, {"index.md": INDEX, "ch/page.md": PAGE, "never-made.txt": "numpy==1.0\n"})
    (tmp_path / "build.yml").write_text(re.sub(r"kernel: \S+\n    environment: \S+",
                                               "kernel: no-such-kernel\n    environment: no-such-environment\n"
                                               "    requirements: never-made.txt", FIXTURE_YML), encoding="utf-8")
    assert book.main("html").returncode == 2   # executing needs the (missing) environment
    result = book.main("--execute", "none", "html")
    assert result.returncode == 0, result.stderr
    page = book.html("ch/page")
    assert "yalnız pytorch" in page and NOTICE in page and "önbellek" not in page
    assert "bir çıktı" in page and 'class="cell_output' not in page
    # The page's frameworks, as d2lbook counts them (TensorFlow has no cell of its own here: no tab).
    frameworks = read.read_book(book.config).page(Path("ch/page.md")).frameworks
    assert f"({', '.join(fw.label for fw in book.config.frameworks if fw.name in frameworks)})" in page
    assert _not_executed(book.report()) == sorted(("ch/page.md", fw) for fw in frameworks)
    assert NOTICE not in book.html("index")     # a page without code has nothing to say


def test_execute_none_shows_what_the_cache_holds_and_marks_it(make_book):
    """A page whose PyTorch code changed since the cached run: MXNet and TensorFlow show their cached
    outputs, marked as such; PyTorch shows none."""
    book = make_book(PAGE)
    book.build()
    assert 'class="cell_output' in book.html("ch/page") and NOTICE not in book.html("ch/page")
    book.write("ch/page.md", PAGE.replace("yalnız pytorch", "yalnız pytorch, değişti"))
    book.write("ch/page.md", PAGE.replace("yalnız pytorch", "yalnız pytorch, değişti"))
    pipeline.build(book.config.with_options(execute="none"), paths=book.paths)
    page = book.html("ch/page")
    assert NOTICE in page and "(PyTorch)" in page
    assert "MXNet sekmelerindeki çıktılar" in page and "önbelleğinden" in page
    assert _not_executed(book.report()) == [("ch/page.md", "pytorch")]


# --- a d2lbook book, as it is --------------------------------------------------------------------

CONFIG_INI = """[project]
name = deneme-kitap
title = Deneme Kitabı
author = Birinci Yazar, İkinci Yazar, and Üçüncü Yazar
copyright = 2026, Yazarlar
lang = tr

[build]
notebooks = *.md */*.md
eval_notebook = False
tabs = mxnet, pytorch, tensorflow

[html]
header_links = GitHub, https://github.com/d2l-ai/d2l-tr, fab fa-github

[pdf]
bibfile = d2l.bib
main_font = Source Serif Pro

[colab]
github_repo = mxnet, d2l-ai/d2l-tr-colab
"""


RAW_FILE = "\n```eval_rst\n.. raw:: html\n   :file: {}\n```\n"


def _d2lbook_book(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.ini").write_text(CONFIG_INI, encoding="utf-8")
    (folder / "index.md").write_text(INDEX + "\n```toc\n:maxdepth: 1\n\nkaynakca\n```\n"
                                     + RAW_FILE.format("front.html"), encoding="utf-8")
    (folder / "front.html").write_text('<p class="kapak">Kapak sayfası</p>\n', encoding="utf-8")
    (folder / "ch").mkdir()
    (folder / "ch" / "page.md").write_text(PAGE + "\nBkz. :cite:`Polyak.1964`. Bir satırın içinde bir resim, "
                                           "![bir daire](../img/daire.svg)\n" + RAW_FILE.format("yok.html"),
                                           encoding="utf-8")
    (folder / "img").mkdir()
    (folder / "img" / "daire.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
                                              '<circle cx="5" cy="5" r="4"/></svg>', encoding="utf-8")
    (folder / "kaynakca.md").write_text("# Kaynakça\n\n```eval_rst\n.. bibliography::\n```\n", encoding="utf-8")
    shutil.copy(ROOT / "d2l.bib", folder / "d2l.bib")
    return folder


def _snapshot(folder: Path) -> dict[str, tuple]:
    return {p.relative_to(folder).as_posix(): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(folder.rglob("*")) if p.is_file()} | {"": tuple(sorted(
                p.relative_to(folder).as_posix() for p in folder.rglob("*")))}


class Collected(logging.Handler):
    """The build's warnings (the `bookbuild` logger's, which does not propagate once configured)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_a_d2lbook_book_builds_from_its_config_ini_and_its_folder_is_only_read(tmp_path):
    folder = _d2lbook_book(tmp_path / "kitap")
    config = book_config.load(folder)
    assert (config.book.title, config.book.short_name, config.names, config.execute) == \
        ("Deneme Kitabı", "deneme-kitap", ("mxnet", "pytorch", "tensorflow"), "none")   # eval_notebook = False
    assert config.book.authors == ("Birinci Yazar", "İkinci Yazar", "Üçüncü Yazar")
    assert config.frameworks == book_config.load().frameworks       # the project's kernels and environments
    assert Paths.of(config).out == book_config.BOOKS_OUT / "kitap"  # not in the book's folder
    unused, = config.notices                                       # one warning names every unused key once
    for key in ("[html] header_links", "main_font", "[colab] github_repo"):
        assert unused.count(key) == 1
    assert "bibfile" not in unused and "tabs" not in unused

    before = _snapshot(folder)
    folder.chmod(0o555)   # as ../shared is in CI (root writes anyway: the snapshot is the check)
    try:
        paths = Paths(tmp_path / "out")
        collected = Collected()
        logging.getLogger("bookbuild").addHandler(collected)
        try:
            pipeline.build(config, paths=paths)
        finally:
            logging.getLogger("bookbuild").removeHandler(collected)
        logged = collected.messages
    finally:
        folder.chmod(0o755)
    assert _snapshot(folder) == before
    assert sum(unused in line for line in logged) == 1
    page = (paths.site() / "ch" / "page.html").read_text(encoding="utf-8")
    assert NOTICE in page and "Polyak" in page and "Deneme Kitabı" in page
    assert re.search(r'<img alt="bir daire" src="\.\./_images/daire\.svg"', page)   # an image inside a line
    # A raw directive's file is shown; one the book lacks (d2l-tr's frontpage.html) is left out, with a warning.
    assert '<p class="kapak">Kapak sayfası</p>' in (paths.site() / "index.html").read_text(encoding="utf-8")
    line = (folder / "ch" / "page.md").read_text(encoding="utf-8").split("\n").index(".. raw:: html") + 1
    assert [m for m in logged if "yok.html" in m] == [
        f"ch/page.md:{line + 1}: raw :file: yok.html: no such file (looked for ch/yok.html); the directive is left out"]


def test_a_d2lbook_tab_that_is_not_a_framework_here_is_named_at_its_line(tmp_path):
    folder = _d2lbook_book(tmp_path / "kitap")
    (folder / "config.ini").write_text(CONFIG_INI.replace("tabs = mxnet,", "tabs = jax, mxnet,"), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        book_config.load(folder)
    line = CONFIG_INI.splitlines().index("tabs = mxnet, pytorch, tensorflow") + 1
    assert "'jax'" in str(error.value) and f"config.ini:{line}:" in str(error.value)


# --- the whole Turkish book ----------------------------------------------------------------------

def _toc_pages(root: Path, page: Path = Path("index.md")) -> list[Path]:
    """Every page the corpus's toc fences reach, from its index, read here with a regular expression."""
    found = [page]
    for fence in TOC.findall((root / page).read_text(encoding="utf-8")):
        for entry in fence.splitlines():
            if entry.strip() and not entry.strip().startswith(":"):
                found += _toc_pages(root, (page.parent / entry.strip()).with_suffix(".md"))
    return found


def test_every_section_of_the_turkish_book_passes_the_source_checks():
    """d2l-tr as it is (read only, through its config.ini): every page its tocs reach is read and checked."""
    config = book_config.load(CORPUS)
    sections = [p for p in _toc_pages(CORPUS) if p != config.book.index]
    source = read.read_book(config)
    assert sorted(p.path for p in source.pages if p.path != config.book.index) == sorted(sections)
    assert len(sections) == len(set(sections)) == len(list(CORPUS.glob("chapter_*/*.md")))


def test_every_equation_label_of_the_turkish_book_labels_a_display_equation_as_myst_reads_it():
    """Each `:eqlabel:` under a `$$` equation (word2vec.md puts two under images: they name the figures) labels
    that equation as MyST reads the page the read stage makes: an equation whose first line follows a
    sentence (integral-calculus.md:230) is a block of its own, as pandoc (d2lbook's conversion) makes it."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    source = read.read_book(book_config.load(CORPUS))
    markdown = MarkdownIt("commonmark").use(dollarmath_plugin, allow_labels=True)
    expected, labelled = set(), set()
    for page in source.pages:
        lines = (CORPUS / page.path).read_text(encoding="utf-8").split("\n")
        expected |= {(page.path, mark.group(1)) for number, line in enumerate(lines)
                     if (mark := re.match(r":eqlabel:`([^`]+)`\s*$", line)) and "$$" in lines[number - 1]}
        labelled |= {(page.path, token.info.split("--")[0]) for block in page.blocks if block.kind == "markdown"
                     for token in markdown.parse(block.myst) if token.type == "math_block_label"}
    assert len(expected) > 100 and sorted(expected - labelled) == []


def test_the_search_index_stems_every_word_of_the_book_as_the_readers_browser_stems_a_query(tmp_path):
    """The site's search finds a word when the stem Sphinx indexed it under (Python: snowball's Turkish
    stemmer, compiled by PyStemmer) is the stem Sphinx's JS stemmer makes of the reader's query: every word of
    the whole book, lower-cased as both sides lower-case it."""
    import json
    import subprocess

    import sphinx.search

    from bookbuild.render import turkish

    index = turkish.search_language()({})
    assert type(index.stemmer).__module__ == "Stemmer"   # the compiled stemmer (requirements.txt: PyStemmer)
    words = sorted({turkish.turkish_lower(word) for path in CORPUS.rglob("*.md")
                    for word in re.findall(r"[^\W\d_]+", path.read_text(encoding="utf-8"))})
    scripts = Path(sphinx.search.__file__).parent / "non-minified-js"
    (tmp_path / "words.json").write_text(json.dumps(words), encoding="utf-8")
    program = (f"const fs = require('fs'); eval(fs.readFileSync({json.dumps(str(scripts / 'base-stemmer.js'))}, 'utf8')"
               f" + fs.readFileSync({json.dumps(str(scripts / index.js_stemmer_rawcode))}, 'utf8')"
               " + '; globalThis.Stemmer = TurkishStemmer;'); const stemmer = new Stemmer();"
               f" const words = JSON.parse(fs.readFileSync({json.dumps(str(tmp_path / 'words.json'))}, 'utf8'));"
               " process.stdout.write(JSON.stringify(words.map((w) => stemmer.stemWord(w.toLocaleLowerCase('tr')))));")
    queried = json.loads(subprocess.run(["node", "-e", program], capture_output=True, text=True, check=True).stdout)
    indexed = index.stemmer.stemWords(words)
    assert len(words) > 10_000
    assert [(w, i, q) for w, i, q in zip(words, indexed, queried, strict=True) if i != q] == []
