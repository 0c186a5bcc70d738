"""One prose block of d2lbook's dialect -> MyST, as d2lbook's own conversion (d2lbook/rst.py) reads it.

* roles: ``:numref:`` ``:ref:`` ``:eqref:`` ``:cite:`` ``:citet:`` ``:citep:`` ``:class:`` ``:func:``
  ``:mod:`` become MyST roles (``{numref}``, ``{eq}``, ``{cite:p}``, ``{cite:t}``, ``{py:class}`` ...);
* ``:label:`` names the heading, ``$$`` equation, image or table right above it; ``:eqlabel:`` the
  equation (d2lbook turns it into the equation's ``:label:``); on an image d2lbook would emit a broken
  figure, the book means the figure (word2vec.md), so it names the figure;
* ``:width:`` / ``:height:`` under an image size the figure; an image alone on its line is a figure;
* a table with a caption line (``:Caption`` above it, a blank line between) and a ``:label:`` on the line
  under its last row is a numbered table (MyST's ``{table}``);
* ``:bibliography:`file.bib``` lists the works cited (the book's bibliography is build.yml's);
* ``toc`` fences become ``{toctree}`` (their ``:option:`` lines are toctree options), ``eval_rst`` fences
  ``{eval-rst}`` (reStructuredText as it is);
* headings as CommonMark reads them (indented up to three spaces, setext) are written ``# Title``, the
  one form every later stage looks for.

Every line of the result knows the source line it came from; every slip is an error at its line.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from bookbuild.errors import SourceError, raise_all
from bookbuild.marks import (
    ANY_FENCE,
    BIBLIOGRAPHY_LINE,
    IMAGE_LINE,
    LABEL_LINE,
    OPTION_LINE,
    TABLE_CAPTION,
    closes,
    structure,
)
from bookbuild.source import Label as Named  # what a `:label:` / `:eqlabel:` line names

ROLE = re.compile(r":(numref|ref|eqref|cite|citet|citep|class|func|mod):`([^`]+)`")
MYST_ROLES = {"numref": "numref", "ref": "ref", "eqref": "eq", "cite": "cite:p", "citet": "cite:t",
              "citep": "cite:p", "class": "py:class", "func": "py:func", "mod": "py:mod"}
FENCES = {"toc": "{toctree}", "eval_rst": "{eval-rst}"}
# A line that is one mark (d2lbook's md_mark_pattern, whole): its key must be one d2lbook converts.
UNKNOWN_MARK = re.compile(r"^:([-/\\.\w]+):`[ *+,\-./\\\w]+`\s*$")
KNOWN_MARKS = {"label", "eqlabel", "width", "height", "bibliography", "begin_tab", "end_tab", *MYST_ROLES}


@dataclasses.dataclass
class Prose:
    text: str
    lines: tuple[int, ...]                 # the source line of each line of `text`
    labels: list[Named]


def inline(line: str) -> str:
    return ROLE.sub(lambda m: f"{{{MYST_ROLES[m.group(1)]}}}`{m.group(2).strip()}`", line)


def to_myst(markdown: str, where: Path, lines, errors: list | None = None) -> tuple[str, tuple[int, ...]]:
    """(MyST, the source line of each MyST line); `lines`: the first source line, or that of each line."""
    prose = convert(markdown, where, lines, errors)
    return prose.text, prose.lines


def convert(markdown: str, where: Path, lines, errors: list | None = None) -> Prose:
    """The block in MyST. Errors go to `errors` when it is given (else they are raised at the end), and
    the conversion goes on past each, so that one reading reports them all."""
    raising = errors is None
    errors = [] if errors is None else errors
    source = markdown.split("\n")
    if markdown.endswith("\n"):
        source.pop()
    if isinstance(lines, int):
        lines = [lines + i for i in range(len(source))]
    headings, tables = structure(markdown)
    heading_at = {h.first: h for h in headings}
    labelled = _labelled_tables(source, tables, lines, where, errors)
    taken = {t[key] for t in labelled.values() for key in ("caption", "label")} - {None}   # read with the table
    out = _Out()
    labels: list[Named] = []
    in_fence = None
    i = 0
    while i < len(source):
        line, number = source[i], lines[i]
        fence = ANY_FENCE.match(line)
        if in_fence:
            in_fence = None if closes(in_fence, line) else in_fence
            out.emit(line, number)
        elif fence:
            in_fence = fence.group(1)
            out.emit(f"{in_fence}{FENCES[fence.group(2).strip()]}" if fence.group(2).strip() in FENCES else line,
                     number)
        elif i in heading_at:
            heading = heading_at[i]
            canonical = f"{'#' * heading.level} {heading.title}"
            out.emit(inline(line if line.startswith("#") and heading.first == heading.last else canonical), number)
            out.headings[len(out.text) - 1] = heading.title
            i = heading.last
        elif i in labelled:
            table = labelled[i]
            out.emit(f":::{{table}} {inline(table['title'])}".rstrip(), number)
            out.emit(f":name: {table['name']}", lines[table["label"]])
            out.emit("", number)
            for row in range(i, table["end"] + 1):
                if row != table["label"]:
                    out.emit(source[row], lines[row])
            out.emit(":::", lines[table["end"]])
            labels.append(Named(table["name"], "table", table["title"], lines[table["label"]]))
            i = table["end"]
        elif i in taken:
            pass
        elif label_mark := LABEL_LINE.match(line):
            role, name = label_mark.groups()
            try:
                labels.append(out.attach_label(role, name, where, number))
            except SourceError as err:
                errors.append(err)
                labels.append(Named(name, "equation" if role == "eqlabel" else "section", "", number))
        elif option_mark := OPTION_LINE.match(line):
            try:
                out.attach_option(option_mark.group(1), option_mark.group(2), where, number)
            except SourceError as err:
                errors.append(err)
        elif BIBLIOGRAPHY_LINE.match(line):
            out.emit("```{bibliography}", number)   # d2lbook passes the file; here it is build.yml's
            out.emit("```", number)
        elif (unknown_mark := UNKNOWN_MARK.match(line)) and unknown_mark.group(1) not in KNOWN_MARKS:
            errors.append(SourceError(f"`{line.strip()}` is not a mark d2lbook knows", path=where, line=number,
                                      fix=f"write one of :{':, :'.join(sorted(KNOWN_MARKS))}: (d2lbook drops "
                                          f"an unknown one)"))
        elif image_mark := IMAGE_LINE.match(line):
            caption, target = image_mark.groups()
            for text in ([f":::{{figure}} {target}", caption, ":::"] if caption else [f":::{{image}} {target}", ":::"]):
                out.emit(text, number)
            out.captions[len(out.text) - 1] = caption
        else:
            out.emit(inline(line), number)
        i += 1
    if raising:
        raise_all(errors)
    text = "\n".join(out.text) + ("\n" if markdown.endswith("\n") else "")
    return Prose(text, tuple(out.origin), labels)


def _labelled_tables(source: list[str], tables, lines: list[int], where: Path, errors: list) -> dict[int, dict]:
    """{index of the header row: the table} of each table with a `:label:` under it: d2lbook's numbered
    tables, whose caption is the `:Caption` paragraph above (a blank line between)."""
    found = {}
    for table in tables:
        label_at = table.last if LABEL_LINE.match(source[table.last]) else None
        after = table.last + 1
        while label_at is None and after < len(source) and not source[after].strip():
            after += 1
        if label_at is None and after < len(source) and LABEL_LINE.match(source[after]):
            label_at = after
        label = LABEL_LINE.match(source[label_at]) if label_at is not None else None
        if label_at is None or label is None or label.group(1) != "label":
            continue
        name = label.group(2)
        above = table.first - 1
        while above >= 0 and not source[above].strip():
            above -= 1
        caption_line = TABLE_CAPTION.match(source[above]) if 0 <= above < table.first - 1 and (
            above == 0 or not source[above - 1].strip()) else None
        caption = above if caption_line else None
        if caption is None:
            errors.append(SourceError(f"the table above :label:`{name}` has no caption line", path=where,
                                      line=lines[label_at],
                                      fix="write its caption as d2lbook does: a line `:Caption` above the table, "
                                          "then a blank line"))
        title = caption_line.group(1).strip() if caption_line else ""
        found[table.first] = {"name": name, "title": title, "caption": caption, "label": label_at,
                              "end": max(label_at, table.last)}
    return found


class _Out:
    """The MyST lines written so far, with the source line of each, and what stands where."""

    def __init__(self):
        self.text: list[str] = []
        self.origin: list[int] = []
        self.headings: dict[int, str] = {}    # index of a heading line -> its title as written
        self.captions: dict[int, str] = {}    # index of a figure's closing ::: -> its caption

    def emit(self, text: str, number: int, at: int | None = None) -> None:
        if at is None:
            at = len(self.text)
        else:   # what stood from `at` on moves down a line
            self.headings = {h + (h >= at): title for h, title in self.headings.items()}
            self.captions = {c + (c >= at): caption for c, caption in self.captions.items()}
        self.text.insert(at, text)
        self.origin.insert(at, number)

    def previous(self) -> int:
        j = len(self.text) - 1
        while j >= 0 and not self.text[j].strip():
            j -= 1
        return j

    def _directive_start(self, j: int) -> int:
        k = j - 1
        while not self.text[k].startswith(":::{"):
            k -= 1
        return k

    def attach_label(self, role: str, name: str, where: Path, number: int) -> Named:
        """`:label:` names the heading, equation or figure just before it; `:eqlabel:` the equation
        (or, meant so, the figure)."""
        j = self.previous()
        target = self.text[j] if j >= 0 else ""
        if role == "label" and j in self.headings:
            title = self.headings[j]
            self.emit(f"({name})=", number, at=j)
            return Named(name, "section", title, number)
        if target.rstrip().endswith("$$"):
            self.text[j] = target.rstrip() + f" ({name})"
            return Named(name, "equation", "", number)
        if j in self.captions:
            caption = self.captions[j]
            self.emit(f":name: {name}", number, at=self._directive_start(j) + 1)
            return Named(name, "figure", caption, number)
        message, fix = _misplaced(role, name, target)
        raise SourceError(message, fix=fix, path=where, line=number)

    def attach_option(self, option: str, value: str, where: Path, number: int) -> None:
        j = self.previous()
        if j not in self.captions:
            raise SourceError(f":{option}:`{value}` must follow an image", path=where, line=number,
                              fix="put it on the line right under the image's line `![caption](file)`")
        self.emit(f":{option}: {value}", number, at=self._directive_start(j) + 1)


def _misplaced(role: str, name: str, target: str) -> tuple[str, str]:
    """(message, what to do) for a label line with nothing it can name right above it."""
    mark = f":{role}:`{name}`"
    if "$$" in target:
        return (f"{mark} follows a line that does not end with $$ (`{target.strip()[-40:]}`)",
                "end the equation's line with its closing $$, with nothing after it")
    if role == "eqlabel":
        return (f"{mark} must follow a $$ equation", "put it on the line right under the equation's closing $$, "
                "or write :label: to name a heading, image or table")
    return (f"{mark} must follow a heading, a $$ equation, an image or a table",
            "put it on the line right under what it names")
