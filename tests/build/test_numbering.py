"""The published edition's numbers (bookbuild/render/numbering.py): sections, figures, equations and references
carry the numbers the published book gives them, read from its label table (column `number`); what the
published book does not have is numbered by the toc. The chapter page lists the whole published chapter,
its sections outside this build linking there. Expectations come from the table and the book's pages."""
from __future__ import annotations

import re
from html import unescape

from books import REAL, REFERENCES, Book, merged_pages

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
