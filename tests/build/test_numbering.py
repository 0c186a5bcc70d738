"""The published edition's numbers (bookbuild/render/numbering.py): sections, figures, equations and references
carry the numbers the published book gives them, read from its label table (column `number`); what the
published book does not have is numbered by the toc. The chapter page lists the whole published chapter,
its sections outside this build linking there. Expectations come from the table and the book's pages."""
from __future__ import annotations

import re
from html import unescape

from books import INDEX, REAL, REFERENCES, Book, merged_pages

import conf
from bookbuild import config as book_config
from bookbuild import published as references
from bookbuild.read import book as read

SECTION = conf.numfig_format["section"]          # "Bölüm %s"


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def heading_numbers(html: str) -> dict[str, str]:
    """{a section's id: the number its heading shows}."""
    return {anchor: number.rstrip(". ") for anchor, number in re.findall(
        r'<section\b[^>]*\bid="([^"]+)"[^>]*>\s*(?:<span id="[^"]*"></span>)*'
        r'<h\d><span class="section-number">([^<]+)</span>', html)}


def equation_numbers(html: str) -> list[str]:
    return re.findall(r'class="eqno">\(([\d.]+)\)', html)


def published_sections(config) -> list[tuple[str, str, references.PublishedLabel]]:
    """(page docname, the section's id, its row of the table) for each section of the build that the
    published edition numbers."""
    table = references.published_labels(config.book.published_labels)
    return [(page.path.with_suffix("").as_posix(), references.anchor(name), table[name])
            for name, (page, label) in read.read_book(config).labels.items()
            if label.kind == "section" and name in table and table[name].number]


def test_the_chapter_carries_the_published_numbers(chapter_site):
    paths, _ = chapter_site
    site = paths.site("html")
    found = published_sections(REAL)
    assert found
    for docname, anchor, row in found:
        html = (site / f"{docname}.html").read_text(encoding="utf-8")
        numbers = heading_numbers(html)
        assert numbers[anchor] == row.number, (docname, anchor)
        assert re.search(rf"<title>{re.escape(row.number)}\. ", html), docname       # the browser's title too
        # Its subsections, figures and equations follow: 11.6.1, ..., (11.6.1), (11.6.2), ...
        assert all(n == row.number or n.startswith(row.number + ".") for n in numbers.values()), numbers
        equations = equation_numbers(html)
        prefix = ".".join(row.number.split(".")[:conf.numfig_secnum_depth])
        assert equations == [f"{prefix}.{k}" for k in range(1, len(equations) + 1)], equations
        assert len(equations) == sum("".join(c["source"]).count("$$") // 2
                                     for c in merged_pages(paths.staging)[docname]["cells"]
                                     if c["cell_type"] == "markdown")


def test_a_reference_to_a_section_outside_the_build_reads_its_published_number(chapter_site, make_book):
    """:numref: reads "Bölüm 11.4", linking to the published page; :ref: keeps reading its title."""
    table = references.published_labels(REAL.book.published_labels)
    html = (chapter_site[0].site("html") / "chapter_optimization/momentum.html").read_text(encoding="utf-8")
    outside = {label for page in read.read_book(REAL).pages for m in page.mentions
               if m.role == "numref" and (label := m.target) in table and label not in read.read_book(REAL).labels}
    assert outside
    for label in outside:
        url = table[label].url(REAL.book.published_url)
        assert re.search(rf'href="{re.escape(url)}"[^>]*><span>{re.escape(SECTION % table[label].number)}</span>', html)
    book = make_book("# Sayfa\n\n:numref:`sec_sgd` ve :ref:`sec_sgd`.\n")
    book.build()
    shown = re.findall(r'<a class="d2l-published[^>]*><span>([^<]+)</span>', book.html("ch/page"))
    assert shown == [SECTION % table["sec_sgd"].number, table["sec_sgd"].title]


def test_the_chapter_page_lists_the_published_chapter(chapter_site):
    """Its toc, in the page and in the sidebar of every page: each section outside this build with its
    published number and title, linking to its published page; the one in the build, local."""
    paths, _ = chapter_site
    site = paths.site("html")
    source = read.read_book(REAL)
    chapter = source.page(next(p.path for p in source.pages if any(e in source.outside for e, _ in p.toc)))
    table = references.published_labels(REAL.book.published_labels)
    chapter_number = next(table[label.name].number for label in chapter.labels if label.name in table)
    expected = []
    for place, (entry, _) in enumerate(chapter.toc, 1):
        number = f"{chapter_number}.{place}"
        if entry in source.outside:
            title = source.outside[entry].text
            expected.append((REAL.book.published_url + entry.with_suffix(".html").as_posix(),
                             f"{number}. {title[:1].upper()}{title[1:]}"))
        else:
            page = source.page(entry)
            expected.append((entry.with_suffix(".html").name, f"{number}. {page.title}"))
    html = (site / chapter.path.with_suffix(".html")).read_text(encoding="utf-8")
    wrapper = re.search(r'<div class="toctree-wrapper compound">(.*?)</div>', html, re.S).group(1)
    shown = re.findall(r'<li class="toctree-l1"><a class="reference (?:internal|external)" href="([^"]+)">([^<]+)</a>',
                       wrapper)
    assert shown == expected
    for page in source.pages:                                 # the sidebar of every page
        html = (site / page.path.with_suffix(".html")).read_text(encoding="utf-8")
        sidebar = html.split('class="sidebar-tree"', 1)[1].split('class="main"', 1)[0]
        for url, title in expected:
            if url.startswith("http"):
                assert f'href="{url}">{title}</a>' in sidebar, (page.path, title)


def test_prev_next_and_the_front_page_keep_their_order(chapter_site):
    """Outside pages are not pages of the site: previous and next go through the site's own pages,
    in reading order, each with its number."""
    site = chapter_site[0].site("html")
    pages = [p.path.with_suffix(".html") for p in read.read_book(REAL).pages]
    for before, page, after in zip(pages, pages[1:], pages[2:], strict=False):
        html = (site / page).read_text(encoding="utf-8")
        prev = re.search(r'class="prev-page" href="([^"]+)"', html).group(1)
        nxt = re.search(r'class="next-page" href="([^"]+)"', html).group(1)
        assert (site / page).parent.joinpath(prev).resolve() == (site / before).resolve()
        assert (site / page).parent.joinpath(nxt).resolve() == (site / after).resolve()


def test_a_section_the_published_edition_lacks_follows_the_toc(multi_site):
    """The multi-section book's labels are not in the table: numbered by its toc, as Sphinx does."""
    paths, _ = multi_site
    source = read.read_book(book_config.load(paths.out.parent / "build.yml"))
    numbered = [p for p in source.pages[1:] if p.labels][:4]
    site = paths.site("html")
    numbers = [heading_numbers((site / p.path.with_suffix(".html")).read_text(encoding="utf-8"))
               [references.anchor(p.labels[0].name)] for p in numbered]
    chapter = numbers[0]
    assert numbers == [chapter] + [f"{chapter}.{k}" for k in range(1, len(numbered))]


RENUMBERED = {
    "index.md": "# Kitap\n\n```toc\n:maxdepth: 2\n:numbered:\n\nbolum/index\n```\n\n"
                "```toc\n:maxdepth: 1\n\nkaynakca\n```\n",
    "kaynakca.md": REFERENCES,
    # Our own chapter page, carrying the published chapter's label; one section the published edition
    # does not have, one it has (its label), each with an equation and a figure.
    "bolum/index.md": "# Bizim Bölüm\n:label:`chap_optimization`\n\n```toc\n:maxdepth: 2\n\nyeni\nadam\n```\n",
    "bolum/yeni.md": "# Yeni Bir Kısım\n\nBkz. :numref:`sec_adam`.\n\n$$a = 1.$$\n\n![Kare.](../kare.svg)\n",
    "bolum/adam.md": "# Adam\n:label:`sec_adam`\n\n## Alt\n\n$$b = 2.$$\n\n$$c = 3.$$\n\n![Kare.](../kare.svg)\n"
                     ":label:`fig_adam_kare`\n\nBkz. :numref:`fig_adam_kare`.\n",
    "kare.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
}


def test_a_partial_build_is_renumbered_from_its_labels_and_the_rest_follows(tmp_path):
    book = Book(tmp_path, RENUMBERED)
    book.build()
    table = references.published_labels(book.config.book.published_labels)
    chapter, adam = table["chap_optimization"].number, table["sec_adam"].number
    assert heading_numbers(book.html("bolum/index"))["chap-optimization"] == chapter
    new = book.html("bolum/yeni")
    assert heading_numbers(new)["yeni-bir-kisim"] == f"{chapter}.1"          # its place in the toc, under 11
    assert equation_numbers(new) == [f"{chapter}.1.1"]
    assert f"{conf.numfig_format['figure'] % f'{chapter}.1.1'}" in text(new)
    assert f"{SECTION % adam}" in text(new)                                    # a local :numref:, published number
    html = book.html("bolum/adam")
    assert heading_numbers(html) == {"sec-adam": adam, "alt": f"{adam}.1"}
    assert equation_numbers(html) == [f"{adam}.1", f"{adam}.2"]
    assert text(html).count(conf.numfig_format["figure"] % f"{adam}.1") == 2    # the caption and the reference
    assert "Kaynakça" in text(html) and not re.search(r">\d+\. Kaynakça<", html)   # the unnumbered toc stays so


def test_latex_counters_go_before_the_targets_that_name_the_section():
    """Docutils leaves the target above a heading at the end of the section before (the deepest one that
    ends there): the PDF's counters go before it, so that Sphinx writes it as the section's own label, not as
    a second \\label of the same name beside it (d2l-tr: 291 labels LaTeX found defined twice)."""
    from docutils import nodes
    from docutils.core import publish_doctree

    from bookbuild.render.numbering import _before_targets

    tree = publish_doctree("Kitap\n=====\n\nA\n-\n\nMetin.\n\nA.1\n~~~\n\nMetin.\n\n.. _sec_b:\n\nB\n-\n\nMetin.\n\n"
                           ".. _sec_c:\n.. _sec_c2:\n\nC\n-\n")
    sections = {s["names"][0]: s for s in tree.findall(nodes.section)}
    a11, b, c = sections["a.1"], sections["b"], sections["c"]
    assert _before_targets(b) == (a11, a11.index(next(a11.findall(nodes.target))))   # at A.1's end, before sec_b
    assert [type(n) for n in b[-2:]] == [nodes.target, nodes.target]                    # sec_c, sec_c2
    assert _before_targets(c) == (b, len(b) - 2)
    assert _before_targets(sections["a"]) == (sections["a"].parent, sections["a"].parent.index(sections["a"]))


def test_one_edited_sentence_writes_its_page_only(make_book):
    """Pages the published edition numbers (11.6, 11.7): after an edit of one sentence Sphinx writes that page
    again, and the page whose toc lists it (Sphinx's rule), no other page of the book. It compared its own new
    numbers with the published ones it was left with, found every renumbered page changed, and wrote them all."""

    book = make_book("# Momentum\n:label:`sec_momentum`\n\nBir cümle.\n\n## Temel\n\n$$x = 1$$\n",
                     **{"ch/other.md": "# Adagrad\n:label:`sec_adagrad`\n\nBaşka bir cümle.\n\n$$y = 2$$\n",
                        "index.md": INDEX.replace("ch/page\n", "ch/page\nch/other\n")})
    book.build()
    site = book.paths.site("html")
    pages = {page: (site / page).with_suffix(".html") for page in ("index", "ch/page", "ch/other", "kaynakca")}
    assert "11.7" in book.html("ch/other")
    before = {page: path.stat().st_mtime_ns for page, path in pages.items()}
    book.write("ch/page.md", book.root.joinpath("ch/page.md").read_text(encoding="utf-8").replace(
        "Bir cümle.", "Bir cümle, düzenlendi."))
    book.build()
    assert "düzenlendi" in book.html("ch/page")
    assert [page for page, path in pages.items() if path.stat().st_mtime_ns != before[page]] == ["index", "ch/page"]


def test_one_edited_sentence_renders_what_a_clean_render_of_the_book_makes(make_book, tmp_path):
    """Sphinx writes only the edited page again and keeps the rest of the last site: that site is still the
    clean render's, byte for byte. math.css keeps the rules of the other page's wide formula (it held the
    written page's only), the written page links math.css as a clean render does (not with the checksum of
    the last site's file), and the search index keeps the other page's index entry (Sphinx pickles what it
    gathers while writing nowhere). The page's readers' notebooks hold the edit: only a notebook that changed
    is made into text again, staged and on the site."""
    wide = " + ".join(f"x_{{{i}}}^2" for i in range(40))
    book = make_book("# Momentum\n\nBir cümle.\n\n$$x = 1$$\n\n```{.python .input}\n#@tab all\nprint(6 * 7)\n```\n",
                     **{"ch/other.md": f"# Adagrad\n\n```{{index}} gradyan\n```\n\nBaşka bir cümle.\n\n$${wide}$$\n",
                        "index.md": INDEX.replace("ch/page\n", "ch/page\nch/other\n")})
    book.build()
    book.write("ch/page.md", book.root.joinpath("ch/page.md").read_text(encoding="utf-8").replace(
        "Bir cümle.", "Bir cümle, düzenlendi."))
    book.build()
    assert "düzenlendi" in book.html("ch/page") and "d2l-fit-" in book.html("ch/other")
    readers = sorted(book.paths.site("html").rglob("page-*.ipynb"))
    assert readers and all("düzenlendi" in notebook.read_text(encoding="utf-8") for notebook in readers)
    _renders_as_a_clean_render(book, tmp_path / "clean")


def _renders_as_a_clean_render(book: Book, folder) -> None:
    """The book's site is what a render from nothing (its site and doctrees removed) makes, byte for byte."""
    import shutil

    clean = book.copy(folder)
    for made in (clean.paths.site("html"), clean.paths.doctrees):
        shutil.rmtree(made)
    Book(clean.root).build()

    def tree(site):   # Sphinx's digest of the settings names the book's folder
        return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*"))
                if p.is_file() and p.name != ".buildinfo"}
    assert tree(book.paths.site("html")) == tree(clean.paths.site("html"))


def test_figures_and_equations_added_to_a_page_are_numbered_as_a_clean_render_numbers_them(tmp_path):
    """Sphinx numbers the figures from each page's skeleton (its sections, tocs, figures and equations), kept
    from the last render for the pages it does not read again. An edit that adds a figure and an equation to a
    page ahead of its own renumbers them: the page is read again, its skeleton made again."""
    (tmp_path / "book").mkdir()
    book = Book(tmp_path / "book", RENUMBERED)
    book.build()
    book.write("bolum/yeni.md", RENUMBERED["bolum/yeni.md"].replace("Bkz.", "Bir cümle. Bkz."))
    book.build()   # (a sentence: the skeletons are those of the last render)
    book.write("bolum/adam.md", RENUMBERED["bolum/adam.md"].replace(
        "## Alt\n\n", "## Alt\n\n$$z = 0.$$\n\n![Önce.](../kare.svg)\n:label:`fig_adam_once`\n\n"))
    book.build()
    adam = references.published_labels(book.config.book.published_labels)["sec_adam"].number
    html = book.html("bolum/adam")
    assert equation_numbers(html) == [f"{adam}.{k}" for k in (1, 2, 3)]
    assert text(html).count(conf.numfig_format["figure"] % f"{adam}.2") == 2   # the caption and the reference
    _renders_as_a_clean_render(book, tmp_path / "clean")


def test_a_bibliography_entry_edited_or_cited_again_renders_as_a_clean_render(make_book, tmp_path):
    """The bibliography's entries are formatted once and kept (references.FORMATTED, from the citations Sphinx's
    environment keeps): an entry whose fields changed is formatted again, and so is one a new label names."""
    book = make_book("# Momentum\n\nBir cümle :cite:`Goh.2017`.\n",
                     **{"ch/other.md": "# Adagrad\n\nBaşka bir cümle :cite:`Duchi.Hazan.Singer.2011`.\n",
                        "index.md": INDEX.replace("ch/page\n", "ch/page\nch/other\n")})
    book.build()
    book.write("ch/page.md", "# Momentum\n\nBir cümle, düzenlendi :cite:`Goh.2017`.\n")
    book.build()
    _renders_as_a_clean_render(book, tmp_path / "clean1")
    bib = book.root / "d2l.bib"
    bib.write_text(bib.read_text(encoding="utf-8").replace("Why Momentum Really Works", "Why momentum works well"),
                   encoding="utf-8")
    book.build()
    assert "Why momentum works well" in book.html("kaynakca")
    _renders_as_a_clean_render(book, tmp_path / "clean2")


def test_a_readers_notebook_follows_the_number_of_an_equation_on_another_page(make_book, tmp_path):
    """A reader's notebook whose staged notebook did not change is not resolved again while what its references
    resolve to (labels, titles, numbers) is as it was. An equation added on another page, ahead of the one it
    names, changes none of the headings (Sphinx writes over the last site) but that equation's number: the
    notebook has the new number, as a clean render has it."""
    book = make_book("# Momentum\n\nBkz. :eqref:`eq_b`.\n\n```{.python .input}\n#@tab all\nprint(6 * 7)\n```\n",
                     **{"ch/other.md": "# Adagrad\n\n$$b = 2$$\n:eqlabel:`eq_b`\n",
                        "index.md": INDEX.replace("ch/page\n", "ch/page\nch/other\n")})
    book.build()
    readers = sorted(book.paths.site("html").rglob("page-*.ipynb"))
    assert readers and all("(2.1)" in notebook.read_text(encoding="utf-8") for notebook in readers)
    book.write("ch/other.md", "# Adagrad\n\n$$a = 1$$\n\n$$b = 2$$\n:eqlabel:`eq_b`\n")
    book.build()
    assert all("(2.2)" in notebook.read_text(encoding="utf-8") for notebook in readers)
    _renders_as_a_clean_render(book, tmp_path / "clean")
