"""What the book's references point at, besides its own pages: the published
edition's labels and pages, and the bibliography. On the ground floor: the read stage
checks every reference against them before any kernel starts, the render stage links and
numbers by them (render/references.py, numbering.py, page_tools.py). No Sphinx here: the
read stage, and so `make check`, never imports it.

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
