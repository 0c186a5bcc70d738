"""What the read and merge stages keep from one build for the next (bookbuild/kept.py, read/kept.py, the merge
stage's staged index): after an edit they do again only what it changed, and what they make is what a build from
nothing makes, whatever changed: the page's file, the build's code, the settings, an image, a sidecar, another
page's labels. A page read with errors, or whose merge warned, is done again (and says so again) at every build;
a stage stopped half-way leaves nothing the next one trusts."""
from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from books import INDEX, REFERENCES, Book

from bookbuild import kept
from bookbuild.errors import SourceError
from bookbuild.merge import pages
from bookbuild.read import book as read_stage
from bookbuild.read import dialect, files

SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>\n'
PAGE = """# Sayfa
:label:`sec_page`

Bir cümle. Bkz. :numref:`sec_other`.

![Kare.](../img/kare.svg)

```{.python .input}
#@tab all
print(6 * 7)
```
"""
OTHER = "# Öteki\n:label:`sec_other`\n\nBaşka bir cümle.\n\n## Alt\n:label:`sec_alt`\n\nSon.\n"
PAGES = {"index.md": INDEX.replace("ch/page\n", "ch/page\nch/other\n"), "kaynakca.md": REFERENCES,
         "ch/page.md": PAGE, "ch/other.md": OTHER, "img/kare.svg": SVG}


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != ".buildinfo"}   # (Sphinx's digest of the settings names the book's folder)


# --- the read stage ---------------------------------------------------------------------------------

@pytest.fixture
def reading(tmp_path, monkeypatch):
    """(the book, a read through what the last one kept, the pages the dialect read in that read)."""
    (tmp_path / "book").mkdir()
    book = Book(tmp_path / "book", PAGES)
    read = []
    real = dialect.read
    monkeypatch.setattr(dialect, "read", lambda root, path, *args: read.append(Path(path).as_posix()) or
                        real(root, path, *args))

    def read_book(config=None):
        read.clear()
        return read_stage.read_book(config or book.config, kept=tmp_path / "read.pickle")
    return book, read_book, read


def test_the_read_stage_reads_again_only_the_pages_whose_files_changed(reading, tmp_path):
    book, read_book, read = reading
    every = ["index.md", "ch/page.md", "ch/other.md", "kaynakca.md"]
    first = read_book()
    assert read == every
    assert read_book() == first and read == []
    book.write("ch/other.md", OTHER.replace("Başka bir cümle.", "Başka bir cümle, düzenlendi."))
    edited = read_book()
    assert read == ["ch/other.md"]
    assert edited == read_stage.read_book(book.config) != first   # what a read from nothing makes
    book.write("ch/other.md", OTHER.encode("utf-8").replace(b"\n", b"\r\n"))   # other bytes, the same text
    assert read_book() == first and read == ["ch/other.md"]


def test_what_a_page_is_read_from_besides_its_file_reads_it_again(reading, tmp_path, monkeypatch):
    """The frameworks of build.yml (which tabs a mark names), and the build's code; a kept file that cannot be
    read is none."""
    book, read_book, read = reading
    every = ["index.md", "ch/page.md", "ch/other.md", "kaynakca.md"]
    read_book()
    fewer = dataclasses.replace(book.config, frameworks=book.config.frameworks[:2])
    afresh = read_stage.read_book(fewer)
    assert read_book(fewer) == afresh and read == every
    read_book()
    afresh = read_stage.read_book(book.config)
    monkeypatch.setattr(kept, "code", lambda: "another build's code")
    assert read_book() == afresh and read == every
    (tmp_path / "read.pickle").write_bytes(b"cut short")
    assert read_book() == afresh and read == every


def test_every_check_is_made_afresh_and_a_page_read_with_errors_is_read_again(reading):
    """A kept page's references are checked against the pages as they are now: a label removed from another
    page fails the kept page at its line. A page with a dialect error is not kept: it fails at every read."""
    book, read_book, read = reading
    read_book()
    book.write("ch/other.md", OTHER.replace(":label:`sec_other`", ":label:`sec_renamed`"))
    with pytest.raises(SourceError) as failed:
        read_book()
    assert read == ["ch/other.md"]
    assert "label sec_other is neither in this build" in str(failed.value)
    assert failed.value.path == Path("ch/page.md") and failed.value.line == 4
    book.write("ch/other.md", OTHER + "\n:begin_tab:`pytorch`\nAçık kalan sekme.\n")
    for _ in range(2):
        with pytest.raises(SourceError, match=":begin_tab: is never closed"):
            read_book()
        assert "ch/other.md" in read


def test_a_drawing_is_checked_by_its_bytes(reading, monkeypatch):
    """An SVG drawing found sound is not parsed again while its bytes are the same; other bytes are checked."""
    book, read_book, _ = reading
    parsed = []
    real = files.root_element
    monkeypatch.setattr(files, "root_element", lambda data: parsed.append(data) or real(data))
    read_book()
    assert parsed == [SVG.encode()]
    read_book()
    assert parsed == [SVG.encode()]
    book.write("img/kare.svg", "<html>bir resim değil</html>\n")
    with pytest.raises(SourceError, match="is not an SVG drawing: html"):
        read_book()
    book.write("img/kare.svg", "<svg")
    with pytest.raises(SourceError, match="is not an SVG drawing: not XML"):
        read_book()


# --- the merge stage --------------------------------------------------------------------------------

def built_afresh(book: Book, folder: Path) -> Book:
    """The book built again in a copy from its execution cache alone: nothing staged, kept or rendered."""
    clean = book.copy(folder)
    for made in clean.paths.out.iterdir():
        if made.name != "cache":
            shutil.rmtree(made) if made.is_dir() else made.unlink()
    clean.build()
    return clean


def assert_as_built_afresh(book: Book, folder: Path) -> None:
    clean = built_afresh(book, folder)
    assert tree(book.paths.staging) == tree(clean.paths.staging)
    assert tree(book.paths.site("html")) == tree(clean.paths.site("html"))


@pytest.fixture
def merging(tmp_path, monkeypatch):
    """(a built book, the pages the merge stage merged in the last build)."""
    (tmp_path / "book").mkdir()
    book = Book(tmp_path / "book", PAGES)
    book.build()
    merged: list[str] = []
    real = pages.merge
    monkeypatch.setattr(pages, "merge", lambda page, *args: merged.append(page.path.as_posix()) or real(page, *args))
    return book, merged


def test_the_merge_stage_merges_again_only_the_pages_whose_inputs_changed(merging, tmp_path):
    book, merged = merging
    book.build()
    assert merged == []
    book.write("ch/page.md", PAGE.replace("Bir cümle.", "Bir cümle, düzenlendi."))
    book.build()
    assert merged == ["ch/page.md"]
    assert "düzenlendi" in book.html("ch/page")
    assert_as_built_afresh(book, tmp_path / "clean")


def test_an_image_the_settings_or_the_code_changed_stage_what_a_build_from_nothing_stages(merging, tmp_path,
                                                                                           monkeypatch):
    """An image is staged from its bytes at every build; the settings (a framework's label, which every page's
    tabs show) and the build's code merge every page again."""
    book, merged = merging
    book.write("img/kare.svg", SVG.replace('width="4" height="4"/>', 'width="2" height="2"/>'))
    book.build()
    assert merged == []
    assert (book.paths.staging / "img/kare.svg").read_text(encoding="utf-8") == \
        (book.root / "img/kare.svg").read_text(encoding="utf-8")
    assert_as_built_afresh(book, tmp_path / "clean1")
    settings = (book.root / "build.yml").read_text(encoding="utf-8")
    label = book.config.frameworks[1].label
    book.write("build.yml", settings.replace(f"label: {label}\n", f"label: {label} 2\n"))
    merged.clear()   # (the build afresh merged its own)
    book.build()
    assert sorted(merged) == sorted(p.path.as_posix() for p in read_stage.read_book(book.config).pages)
    assert f"{label} 2" in book.html("ch/page")
    assert_as_built_afresh(book, tmp_path / "clean2")
    merged.clear()
    monkeypatch.setattr(kept, "code", lambda: "another build's code")
    book.build()
    assert len(merged) == len(read_stage.read_book(book.config).pages)


def test_a_sidecar_that_changed_merges_its_page_again(merging, tmp_path):
    """An interactive figure placed beside the page, then described otherwise: the page is merged again (its
    description is on it); its script, edited, is staged from its new bytes."""
    book, merged = merging
    book.write("ch/fig.js", "console.log('bir');\n")
    book.write("ch/page.interactive.yml", "- id: fig\n  after: sec_page\n  script: fig.js\n  description: Bir.\n")
    book.build()
    assert merged == ["ch/page.md"] and "Bir." in book.html("ch/page")
    merged.clear()
    book.write("ch/page.interactive.yml", "- id: fig\n  after: sec_page\n  script: fig.js\n  description: İki.\n")
    book.write("ch/fig.js", "console.log('iki');\n")
    book.build()
    assert merged == ["ch/page.md"] and "İki." in book.html("ch/page")
    assert_as_built_afresh(book, tmp_path / "clean")


def test_a_page_whose_merge_warns_is_merged_and_warns_at_every_build(make_book, capsys, monkeypatch):
    """A cell's output cut to the limit warns where the merge stage cuts it: skipping that merge would skip the
    warning (which `warnings: fatal` turns into a failed build)."""
    book = make_book("# Sayfa\n\n```{.python .input}\n#@tab all\nprint('x' * 500)\n```\n")
    book.write("build.yml", (book.root / "build.yml").read_text(encoding="utf-8") + "limits:\n  output_bytes: 100\n")
    merged: list[str] = []
    real = pages.merge
    monkeypatch.setattr(pages, "merge", lambda page, *args: merged.append(page.path.as_posix()) or real(page, *args))
    capsys.readouterr()
    book.build()
    assert "[output-cut]" in capsys.readouterr().out and len(merged) == 3
    merged.clear()
    book.build()
    assert "[output-cut]" in capsys.readouterr().out and merged == ["ch/page.md"]   # the others are kept


def test_a_merge_stopped_half_way_leaves_nothing_the_next_one_trusts(merging, tmp_path, monkeypatch):
    """The staged index is removed while the stage stages, and written whole after it: a stage stopped between two
    pages leaves none, and the next build merges every page again, as a build from nothing does."""
    book, merged = merging
    noted = pages.merge

    def stopped(page, *args):
        if page.path.as_posix() == "ch/other.md":
            raise KeyboardInterrupt
        return noted(page, *args)

    monkeypatch.setattr(pages, "merge", stopped)
    book.write("ch/page.md", PAGE.replace("Bir cümle.", "Bir cümle, düzenlendi."))
    book.write("ch/other.md", OTHER.replace("Son.", "Son, düzenlendi."))
    with pytest.raises(BaseException):  # noqa: B017 - Ctrl-C, as the pipeline passes it on
        book.build()
    assert not book.paths.staged.exists()
    monkeypatch.setattr(pages, "merge", noted)
    merged.clear()
    book.build()
    assert len(merged) == len(read_stage.read_book(book.config).pages)
    assert_as_built_afresh(book, tmp_path / "clean")
