"""Stage 5, render: a Sphinx extension that numbers what this build holds as the published edition does.

A build of part of the book numbers its sections by its own toc: the Momentum section alone would be
1.1. The published edition's table (bookbuild/published.py, column `number`) knows better. Once Sphinx's
TocTreeCollector has numbered the sections (`env-get-updated`), every section number whose section
carries a label of the table becomes the published one, and so does that prefix of every number under
it: 1.1 -> 11.6 makes 1.1.2 -> 11.6.2. Figure and equation numbers are derived from section numbers
(numfig, math_numfig), so they are assigned again from the new ones: (11.6.1), (11.6.2), ... A section
the published edition does not have keeps its place in the toc, under its nearest renumbered parent
(or as Sphinx numbers it, when it has none).

The LaTeX builder numbers with LaTeX's counters instead: before each numbered section the PDF's
source sets them (`\\setcounter`), so its headings, figures and equations read the same numbers.
"""
from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx.environment.collectors.toctree import TocTreeCollector
from sphinx.transforms.post_transforms import SphinxPostTransform

from bookbuild import published as references

# LaTeX's sectioning counters, from the top; a book ("manual") starts its numbers at chapters.
LATEX_COUNTERS = ("part", "chapter", "section", "subsection", "subsubsection", "paragraph", "subparagraph")


def _table(app) -> dict:
    return references.published_labels(Path(app.config.d2l_published_labels)
                                       if app.config.d2l_published_labels else None)


def _section_number(env, docname: str, section_id: str, trees: dict) -> tuple[int, ...]:
    """Sphinx's number of the section with that id (the page's title is its toc entry without anchor)."""
    numbers = env.toc_secnumbers.get(docname, {})
    tree = trees.get(docname) or trees.setdefault(docname, env.get_doctree(docname))
    for position, section in enumerate(tree.findall(nodes.section)):
        if section_id in section["ids"]:
            return numbers.get("#" + section["ids"][0]) or (numbers.get("", ()) if position == 0 else ())
    return ()


def published_renumbering(env, table: dict) -> dict[tuple[int, ...], tuple[int, ...]]:
    """{Sphinx's number: the published one} of every section of the build labelled in the table."""
    renumber: dict[tuple[int, ...], tuple[int, ...]] = {}
    trees: dict[str, nodes.document] = {}
    for label, (docname, section_id, _title) in env.domains.standard_domain.labels.items():
        found = table.get(label)
        if found is not None and found.numbers and (number := _section_number(env, docname, section_id, trees)):
            renumber[number] = found.numbers
    return renumber


def renumber_sections(app, env) -> list[str]:
    """`env-get-updated`, after the TocTreeCollector: section numbers, then figure and equation
    numbers, as the published edition has them. Returns the pages to write again."""
    for docname in env.tocs.keys() - env.toc_secnumbers.keys():
        # Sphinx keeps a page's old numbers on its toc entries and title after the page has left a
        # numbered toc, until the page itself is read again: an incremental render would differ.
        for node in (*env.tocs[docname].findall(nodes.reference), env.titles.get(docname)):
            if node is not None:
                node.attributes.pop("secnumber", None)
    renumber = published_renumbering(env, _table(app))
    if not renumber:
        return []

    def published(number):
        for cut in range(len(number), 0, -1):      # the longest renumbered prefix
            if tuple(number[:cut]) in renumber:
                return (*renumber[tuple(number[:cut])], *number[cut:])
        return tuple(number)

    changed = set()
    for docname, numbers in env.toc_secnumbers.items():
        new = {anchor: published(number) for anchor, number in numbers.items()}
        if new != numbers:
            env.toc_secnumbers[docname] = new
            changed.add(docname)
        # Where Sphinx also wrote them: the toc entries (contents, sidebar) and the title (prev/next, <title>).
        for reference in env.tocs[docname].findall(nodes.reference):
            if reference.get("secnumber"):
                reference["secnumber"] = list(published(reference["secnumber"]))
        title = env.titles.get(docname)
        if title is not None and title.get("secnumber"):
            title["secnumber"] = list(published(title["secnumber"]))
    changed.update(TocTreeCollector().assign_figure_numbers(env))   # derived from the new section numbers
    return sorted(changed)


def latex_counters(app, doctree, docname) -> None:
    """`doctree-resolved` (LaTeX: the whole book in one tree): before each numbered section, the LaTeX
    counters that make \\chapter, \\section, ... print its number; a page the site leaves unnumbered
    (a toc without `:numbered:`, e.g. the bibliography) is unnumbered in the PDF too."""
    if app.builder.format != "latex":
        return
    env = app.env
    top = LATEX_COUNTERS.index(app.config.latex_toplevel_sectioning or "chapter")
    first_of: dict[str, nodes.section] = {}
    numbering = True
    for section in list(doctree.findall(nodes.section)):
        page = section.get("docname", docname)
        numbers = env.toc_secnumbers.get(page, {})
        is_title = first_of.setdefault(page, section) is section
        number = numbers.get("#" + section["ids"][0]) if section["ids"] else None
        if number is None and is_title:
            number = numbers.get("")
        latex = ""
        if is_title and page != docname and page not in env.toc_secnumbers and numbering:
            latex, numbering = SAVE_AND_STOP_NUMBERING, False
        elif number and top + len(number) <= len(LATEX_COUNTERS):
            latex = "" if numbering else RESUME_NUMBERING
            numbering = True
            latex += "".join(f"\\setcounter{{{LATEX_COUNTERS[top + depth]}}}{{{value - (depth == len(number) - 1)}}}"
                             for depth, value in enumerate(number))
        if latex:
            # Before the targets that name the section too (a `(label)=` line): Sphinx writes them as the
            # section's own labels only when nothing stands between them and the section.
            at = section.parent.index(section)
            while at > 0 and isinstance(section.parent[at - 1], nodes.target):
                at -= 1
            section.parent.insert(at, nodes.raw("", latex + "\n", format="latex"))


SAVE_AND_STOP_NUMBERING = (r"\ifdefined\dtwolsecnumdepth\else\edef\dtwolsecnumdepth{\the\value{secnumdepth}}\fi"
                           r"\setcounter{secnumdepth}{-1}")
RESUME_NUMBERING = r"\setcounter{secnumdepth}{\dtwolsecnumdepth}"


class OneIdPerTable(SphinxPostTransform):
    """Furo wraps each table in a container with the table's attributes, ids included (for sideways
    scrolling): a numbered table's id would be on the page twice. The table keeps it (Sphinx numbers
    the table's caption by it), the wrapper drops it."""
    formats = ("html",)
    default_priority = 501   # right after Furo's WrapTableAndMathInAContainerTransform (500)

    def run(self, **kwargs) -> None:
        for table in self.document.findall(nodes.table):
            if isinstance(table.parent, nodes.container) and table["ids"] and table.parent["ids"] == table["ids"]:
                table.parent["ids"] = []


def setup(app):
    app.add_post_transform(OneIdPerTable)
    app.connect("env-get-updated", renumber_sections, priority=600)   # after the TocTreeCollector (500)
    app.connect("doctree-resolved", latex_counters)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
