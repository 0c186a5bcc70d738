"""What the book's references point at, besides its own pages: the published
edition's labels and the bibliography. Read by the read stage (to check every
reference before any kernel starts) and by the render stage (to link them).

The published edition's table (build.yml `book.published.labels`) is a TSV of
`label, kind, page, title, number`; lines starting with `#` are comments (provenance).
`number` is the published number of a numbered section ("11.6"), empty otherwise.
A published page's anchor for a label is what docutils makes of it: `sec_sgd`
becomes `#sec-sgd`.
"""
from __future__ import annotations

import csv
import dataclasses
import functools
import re
from pathlib import Path
from urllib.parse import urljoin

from docutils import nodes
from sphinx.builders.latex.nodes import thebibliography

from bookbuild.errors import ConfigError

WIDTH_ONLY = re.compile(r"^`?\d+(px|%|em)?`?$")
KIND_WORDS = {"section": "bölüm", "figure": "şekil", "table": "tablo"}
# d2l's label prefixes say what a label names more reliably than the table's kind column.
PREFIX_KINDS = {"fig": "figure", "tab": "table", "table": "table", "sec": "section", "subsec": "section",
                "chap": "section"}


@dataclasses.dataclass(frozen=True)
class PublishedLabel:
    label: str
    kind: str
    page: str      # the page's path on the published site, e.g. chapter_optimization/sgd.html
    title: str     # its heading or caption, cleaned of d2l's markup; may be ""
    number: str = ""   # the published number of a numbered section ("11.6"); "" for anything else

    def url(self, base: str) -> str:
        return urljoin(base, self.page) + "#" + anchor(self.label)

    @property
    def numbers(self) -> tuple[int, ...]:
        """The number as Sphinx keeps section numbers: "11.6" -> (11, 6); () when it has none."""
        return tuple(int(part) for part in self.number.split(".")) if self.number else ()

    def reads(self, role: str, section_format: str) -> str:
        """What a reference to it reads: a :numref: to a numbered section its number in the book's
        format ("Bölüm 11.4"), anything else its title."""
        return section_format % self.number if role == "numref" and self.number else self.text

    @property
    def text(self) -> str:
        """What a reference to it reads: its title, or what it is when the table has none."""
        kind = PREFIX_KINDS.get(self.label.split("_", 1)[0], self.kind)
        return self.title or f"yayımlanmış baskıdaki {KIND_WORDS.get(kind, 'bölüm')}"


def anchor(label: str) -> str:
    """docutils' id of a label (`sec_sgd` -> `sec-sgd`)."""
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def _clean_title(title: str) -> str:
    """d2l's "[**emphasis for Colab**]" markup and stray width specs are not titles."""
    title = re.sub(r"\[\*\*(.*?)\*\*\]", r"\1", title).replace("**", "").strip()
    return "" if WIDTH_ONLY.match(title) else title


def _table_rows(path: Path, text: str, required: tuple[str, str], columns: str):
    """(row number, row) of one of the published edition's tab-separated tables (`text`, read from `path`):
    each row holds its `required` columns, and its `number`, if any, is a section number."""
    lines = (line for line in text.splitlines(keepends=True) if line.strip() and not line.startswith("#"))
    for number, row in enumerate(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE), 2):
        if not all(row.get(column) for column in required):
            raise ConfigError(f"row {number} has no {' or '.join(required)}", path=path,
                              fix=f"each row is: {columns} (tab-separated)")
        if not re.fullmatch(r"(\d+(\.\d+)*)?", (row.get("number") or "").strip()):
            raise ConfigError(f"row {number}: number {row['number']!r} is not a section number", path=path,
                              fix='write it as the published edition does, e.g. "11.6", or leave it empty')
        yield number, row


def published_labels(path: Path | None) -> dict[str, PublishedLabel]:
    return _labels_in(path, _read_table(path)) if path else {}


def published_pages(path: Path | None) -> dict[str, PublishedLabel]:
    """The published edition's table of pages (page, title, number), by page: what a toc entry outside
    this build reads, for a page with no label as well."""
    return _pages_in(path, _read_table(path)) if path else {}


def _read_table(path: Path) -> str:
    """A table's text, read at every call: the parse is kept per content, so a process that builds again
    (`make serve`, the tests) sees an edited table."""
    with open(path, encoding="utf-8", newline="") as table:
        return table.read()


@functools.lru_cache(maxsize=4)
def _labels_in(path: Path, text: str) -> dict[str, PublishedLabel]:
    return {row["label"]: PublishedLabel(row["label"], row.get("kind") or "section", row["page"],
                                         _clean_title(row.get("title") or ""), (row.get("number") or "").strip())
            for _, row in _table_rows(path, text, ("label", "page"), "label, kind, page, title, number")}


@functools.lru_cache(maxsize=4)
def _pages_in(path: Path, text: str) -> dict[str, PublishedLabel]:
    return {row["page"]: PublishedLabel("", "section", row["page"], _clean_title(row["title"]),
                                        (row.get("number") or "").strip())
            for _, row in _table_rows(path, text, ("page", "title"), "page, title, number")}


def published_page(table: dict[str, PublishedLabel], page: str) -> PublishedLabel | None:
    """The label of a published page's own title (`chapter_optimization/gd.html` -> sec_gd, not its
    subsection's): of the page's labels, the section with the shortest number, else the first one."""
    labels = [found for found in table.values() if found.page == page]
    if not labels:
        return None
    return min(labels, key=lambda found: (found.kind != "section", len(found.numbers) or 99))


def bibliography(path: Path | None):
    """The BibTeX entries by key (pybtex), or {} when the book has no bibliography."""
    if path is None:
        return {}
    from pybtex.exceptions import PybtexError
    try:
        return _parsed_bibliography(path.read_bytes())
    except (PybtexError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot be read as BibTeX: {err}", path=path) from None


@functools.lru_cache(maxsize=4)
def _parsed_bibliography(text: bytes) -> dict:
    """Parsed once per content, not per path: every copy of a book, and every build a process runs
    (`make serve`'s, the tests'), shares one parse of the same file (a third of a second for d2l.bib)."""
    from pybtex.database import parse_string
    return dict(parse_string(text.decode("utf-8"), bib_format="bibtex").entries)


def citation_text(entry) -> str:
    """A Turkish author–year citation: "Goh, 2017", "Flammarion ve Bach, 2015", "Sutskever vd., 2013"."""
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [" ".join(p.last_names) or " ".join(p.first_names) for p in people]
    year = entry.fields.get("year", "t.y.")
    if not names:
        return year
    if len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} ve {names[1]}"
    else:
        who = f"{names[0]} vd."
    return f"{who}, {year}".replace("{", "").replace("}", "")


# --- render stage: a Sphinx extension -------------------------------------------------

def link_published(app, env, node, contnode):
    """`missing-reference`: a label of the published edition, not of this build (the read stage has
    checked that every label is in one of the two), links to its page there, with its title as text."""
    from docutils import nodes

    if node.get("refdomain") != "std" or node.get("reftype") not in ("ref", "numref"):
        return None
    table = published_labels(Path(app.config.d2l_published_labels) if app.config.d2l_published_labels else None)
    found = table.get(node.get("reftarget"))
    if found is None:
        return None
    text = found.reads(node["reftype"], app.config.numfig_format["section"])
    # The title attribute is what static/preview.js shows on hover and focus (and the browser, without it).
    heading = f"{found.number}. {found.text}" if found.number else found.text
    reference = nodes.reference("", "", internal=False, classes=["d2l-published"],
                                refuri=found.url(app.config.d2l_published_url),
                                reftitle=f"{heading} (yayımlanmış baskı)")
    reference += nodes.inline(text, text)
    return reference


def register_turkish_citation_styles() -> None:
    """sphinxcontrib-bibtex's author–year citations and pybtex's plain bibliography, with Turkish
    joining words: "Flammarion ve Bach, 2015", "Sutskever vd., 2013" (conf.py selects them). The
    bibliography's entries carry the same author–year labels as the citations, as the published edition
    has them, not numbers ([Goh, 2017] in the text and in the list)."""
    import dataclasses

    from pybtex.plugin import register_plugin
    from pybtex.richtext import Text
    from pybtex.style.formatting.plain import Style as Plain
    from pybtex.style.labels import BaseLabelStyle
    from pybtex.style.template import names, sentence
    from sphinxcontrib.bibtex.plugin import register_plugin as register_referencing
    from sphinxcontrib.bibtex.style.referencing import PersonStyle
    from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle

    @dataclasses.dataclass
    class TurkishAuthorYear(AuthorYearReferenceStyle):
        person: PersonStyle = dataclasses.field(
            default_factory=lambda: PersonStyle(sep2=" ve ", last_sep=" ve ", other=Text(" vd.")))

    class TurkishAuthorYearLabels(BaseLabelStyle):
        """"Goh, 2017", "Flammarion ve Bach, 2015", "Sutskever vd., 2013"; a second work of the same
        label gets a letter, as author–year styles do: "Goh, 2017a"."""

        def format_labels(self, sorted_entries):
            labels = [self.label(entry) for entry in sorted_entries]
            twice = {label for label in labels if labels.count(label) > 1}
            seen: dict[str, int] = {}
            for label in labels:
                if label in twice:
                    seen[label] = seen.get(label, 0) + 1
                    label += "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]
                yield label

        @staticmethod
        def label(entry) -> str:
            people = entry.persons.get("author") or entry.persons.get("editor") or []
            last = [Text.from_latex(" ".join(person.last_names)).render_as("text") for person in people]
            who = (last[0] if len(last) == 1 else f"{last[0]} ve {last[1]}" if len(last) == 2
                   else f"{last[0]} vd." if last else entry.key)
            return f"{who}, {entry.fields.get('year', 't.y.')}"

    class TurkishPlain(Plain):
        default_label_style = "author_year_tr"

        def format_names(self, role, as_sentence=True):
            formatted = names(role, sep=", ", sep2=" ve ", last_sep=" ve ")
            return sentence[formatted] if as_sentence else formatted

    register_referencing("sphinxcontrib.bibtex.style.referencing", "author_year_tr", TurkishAuthorYear)
    register_plugin("pybtex.style.labels", "author_year_tr", TurkishAuthorYearLabels)
    register_plugin("pybtex.style.formatting", "plain_tr", TurkishPlain)


# LaTeX around the cited works when they print under their page's own heading: the environment's own
# page break, unnumbered chapter and line in the contents are left out (in this group only).
UNDER_THE_PAGE = (r"\begingroup\renewcommand{\chapter}[2]{}\renewcommand{\cleardoublepage}{}"
                  r"\renewcommand{\clearpage}{}\renewcommand{\addcontentsline}[3]{}" "\n")


def bibliography_under_its_page(app, doctree, docname) -> None:
    """`doctree-resolved`, LaTeX: the cited works print on the page that holds the bibliography, under
    its heading. Sphinx's LaTeX writer gathers them at the end of the book under a chapter of its own,
    which left that page an empty chapter, a blank page, and the bibliography twice in the contents."""
    gathered = next(doctree.findall(thebibliography), None) if app.builder.format == "latex" else None
    if gathered is None:
        return
    emptied = [section for section in doctree.findall(nodes.section)
               if all(isinstance(child, nodes.title) or _prints_nothing(child) for child in section.children)]
    if not emptied:
        return
    gathered.parent.remove(gathered)
    emptied[-1] += [nodes.raw("", UNDER_THE_PAGE, format="latex"), gathered,
                    nodes.raw("", "\\endgroup\n", format="latex")]


def _prints_nothing(node) -> bool:
    return not node.astext().strip() and not any(node.findall(nodes.image))


def setup(app):
    register_turkish_citation_styles()
    app.connect("doctree-resolved", bibliography_under_its_page)
    app.add_config_value("d2l_published_url", "", "env", types=[str])
    app.add_config_value("d2l_published_labels", "", "env", types=[str])   # path of the label table
    app.connect("missing-reference", link_published)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
