"""The PDFs: one per framework of the whole book, named after the book and the framework,
read back with poppler's tools. Expectations come from the merged notebooks the build staged."""
from __future__ import annotations

import re
import subprocess

from books import figures, merged_pages, printed

import conf
from bookbuild import published as references
from bookbuild.read import book as read
from bookbuild.render import pdf


def run(*command) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def text_of(path, first=None, last=None) -> str:
    pages = [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else [])]
    return run("pdftotext", "-enc", "UTF-8", *pages, str(path), "-")


def test_one_pdf_per_framework_named_after_the_book(built):
    config, paths = built
    assert sorted(p.name for p in paths.pdf.glob("*.pdf")) == sorted(
        f"{config.book.short_name}-{fw.name}.pdf" for fw in config.frameworks)


def test_the_title_page_names_the_framework_and_fits(built):
    config, paths = built
    for fw in config.frameworks:
        title_page = " ".join(text_of(pdf.pdf_path(config, paths, fw.name), 1, 1).split())
        assert config.book.title in title_page and fw.label in title_page
        for author in config.book.authors:              # every author, whole: nothing runs off the page
            assert author in title_page, author


def test_each_pdf_holds_its_framework_only_and_everything_resolved(built):
    config, paths = built
    pages = merged_pages(paths.staging)
    for fw in config.frameworks:
        text = text_of(pdf.pdf_path(config, paths, fw.name))
        flat = " ".join(text.split())
        for docname, nb in pages.items():
            for line in printed(nb, fw.name):
                assert " ".join(line.split()) in flat, (fw.name, docname, line)
            for other in config.frameworks:
                mine = set(printed(nb, fw.name))
                for line in set(printed(nb, other.name)) - mine:
                    assert " ".join(line.split()) not in flat, (fw.name, other.name, line)
        assert "??" not in text
        for raw in (":numref:", ":cite:", ":label:", "begin_tab", "<Figure size", "d2l-tab"):
            assert raw not in text, raw
        # Turkish letters of the sources survive into the text layer.
        sources = "".join((config.root / p.path).read_text(encoding="utf-8") for p in read.read_book(config).pages)
        for letter in "ıİşŞçÇöÖüÜ":
            if letter in sources:
                assert letter in text, letter


def test_figures_are_vector_fonts_embedded(built):
    config, paths = built
    pages = merged_pages(paths.staging)
    for fw in config.frameworks:
        path = pdf.pdf_path(config, paths, fw.name)
        fonts = run("pdffonts", str(path)).splitlines()[2:]
        assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts   # the "emb" column
        assert run("pdfimages", "-list", str(path)).splitlines()[2:] == []         # no raster images
        latex = (paths.out / "latex" / fw.name / path.with_suffix(".tex").name).read_text(encoding="utf-8")
        expected = sum(figures(nb, fw.name) for nb in pages.values())
        assert latex.count("\\sphinxincludegraphics") == expected
        assert "\\setmainlanguage{turkish}" in latex


def test_links_to_the_published_edition_and_the_bibliography(built):
    config, paths = built
    source = read.read_book(config)
    table = references.published_labels(config.book.published_labels)
    outside = {(m.target, m.role) for p in source.pages for m in p.mentions
               if m.role in ("numref", "ref") and m.target not in source.labels}
    cited = {m.target for p in source.pages for m in p.mentions if m.role == "cite"}
    for fw in config.frameworks:
        latex = (paths.out / "latex" / fw.name / f"{config.book.short_name}-{fw.name}.tex").read_text(encoding="utf-8")
        for label, role in outside:
            url = table[label].url(config.book.published_url).replace("_", "\\_").replace("#", "\\#")
            reads = table[label].reads(role, conf.numfig_format["section"])   # "Bölüm 11.4" for a :numref:
            assert f"\\sphinxhref{{{url}}}{{{reads}}}" in latex, label
        assert len(set(re.findall(r"\\hyperlink\{cite\.[^}]+\}", latex))) == len(cited)


def test_every_page_of_the_site_links_the_pdfs(built):
    config, paths = built
    for page in paths.site("html").rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        if page.name in ("search.html", "genindex.html", "404.html"):   # not pages of the book
            continue
        for fw in config.frameworks:
            assert re.search(rf'href="[^"]*_pdf/{config.book.short_name}-{fw.name}\.pdf"', html), (page.name, fw.name)


def test_the_pdf_numbers_as_the_site(built):
    """Each page's title and each equation carries the number the site gives it (the published
    edition's, where it has one), not LaTeX's own count."""
    config, paths = built
    site = paths.site("html")
    titles, equations = [], []
    for page in read.read_book(config).pages:
        html = (site / page.path.with_suffix(".html")).read_text(encoding="utf-8")
        title = re.search(r'<h1><span class="section-number">([\d.]+)\. </span>([^<]+)<', html)
        if title:
            titles.append(f"{title.group(1)} {title.group(2)}")
        equations += re.findall(r'class="eqno">(\([\d.]+\))', html)
    assert titles and equations
    for fw in config.frameworks:
        flat = " ".join(text_of(pdf.pdf_path(config, paths, fw.name)).split())
        for title in titles:
            assert title in flat, (fw.name, title)
        for number in equations:
            assert number in flat, (fw.name, number)


def test_latex_warns_about_nothing(built):
    """The final LaTeX run of each PDF logs no warning: not from our settings (head height, language,
    Unicode maps), not from labels written twice, not a pending rerun."""
    config, paths = built
    for fw in config.frameworks:
        tex = pdf.pdf_path(config, paths, fw.name).with_suffix(".tex").name
        log = (paths.out / "latex" / fw.name / tex).with_suffix(".log").read_text(errors="replace")
        warnings = re.findall(r"^(?:LaTeX|Package \w+|Class \w+) Warning:.*$", log, re.M)
        assert warnings == [], (fw.name, warnings)


def test_the_bibliography_prints_under_its_own_page_once(built):
    """The cited works print under the heading of the page that holds the bibliography (its number too,
    where the site numbers it), and nowhere else: no empty chapter, no second line in the contents."""
    config, paths = built
    for fw in config.frameworks:
        toc = (paths.out / "latex" / fw.name / f"{config.book.short_name}-{fw.name}.toc").read_text(encoding="utf-8")
        chapters = [re.sub(r"\\numberline \{[\d.]+\}", "", title) for title in
                    re.findall(r"^\\contentsline \{chapter\}\{(.*)\}\{\d+\}\{[^}]*\}%$", toc, re.M)]
        assert chapters and len(chapters) == len(set(chapters)), (fw.name, chapters)
        text = text_of(pdf.pdf_path(config, paths, fw.name))
        heading = chapters[-1]
        # contents, chapter, works (author–year, as on the site: "[Goh, 2017] Gabriel Goh. ...")
        assert text.count(heading) >= 2 and re.search(r"^\[[^\]\n]+, \d{4}\] ", text, re.M), fw.name
