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

import copy
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.transforms.post_transforms import SphinxPostTransform

from bookbuild import published as references
from bookbuild.render import sphinx_adapter

# LaTeX's sectioning counters, from the top; a book ("manual") starts its numbers at chapters.
LATEX_COUNTERS = ("part", "chapter", "section", "subsection", "subsubsection", "paragraph", "subparagraph")


def _table(app) -> dict:
    return references.published_labels(Path(app.config.d2l_published_labels)
                                       if app.config.d2l_published_labels else None)


def _section_number(env, docname: str, section_id: str) -> tuple[int, ...]:
    """Sphinx's number of the section with that id (the page's title is its toc entry without anchor)."""
    numbers = env.toc_secnumbers.get(docname, {})
    tree = skeleton(env, docname)   # its sections, in order
    for position, section in enumerate(tree.findall(nodes.section)):
        if section_id in section["ids"]:
            return numbers.get("#" + section["ids"][0]) or (numbers.get("", ()) if position == 0 else ())
    return ()


def published_renumbering(env, table: dict) -> dict[tuple[int, ...], tuple[int, ...]]:
    """{Sphinx's number: the published one} of every section of the build labelled in the table."""
    renumber: dict[tuple[int, ...], tuple[int, ...]] = {}
    for label, (docname, section_id, _title) in env.domains.standard_domain.labels.items():
        found = table.get(label)
        if found is not None and found.numbers and (number := _section_number(env, docname, section_id)):
            renumber[number] = found.numbers
    return renumber


def sphinx_numbers_back(app, env) -> list[str]:
    """`env-get-updated`, before the TocTreeCollector: Sphinx's own numbers of the last render back in place of
    the published ones, so that Sphinx compares its new numbers with its own and writes again only the pages
    whose numbers changed. With the published numbers in place every renumbered page differed, and a render
    after one edited sentence wrote every page of the book again."""
    if hasattr(env, "d2l_sphinx_numbers"):
        env.toc_secnumbers, env.toc_fignumbers = copy.deepcopy(env.d2l_sphinx_numbers)
    return []


def renumber_sections(app, env) -> list[str]:
    """`env-get-updated`, after the TocTreeCollector: section numbers, then figure and equation
    numbers, as the published edition has them. Returns the pages whose published numbers changed."""
    env.d2l_sphinx_numbers = copy.deepcopy((env.toc_secnumbers, env.toc_fignumbers))
    for docname in env.tocs.keys() - env.toc_secnumbers.keys():
        # Sphinx keeps a page's old numbers on its toc entries and title after the page has left a
        # numbered toc, until the page itself is read again: an incremental render would differ.
        for node in (*env.tocs[docname].findall(nodes.reference), env.titles.get(docname)):
            if node is not None:
                node.attributes.pop("secnumber", None)
    renumber = published_renumbering(env, _table(app))
    if renumber:
        _publish(env, renumber)
    # The last render's numbers, kept as it left them: Sphinx forgets those of a page it reads again.
    sections, figures = getattr(env, "d2l_published_numbers", ({}, {}))
    renumbered = {docname for docname in {*sections, *figures, *env.toc_secnumbers, *env.toc_fignumbers}
                  if (sections.get(docname), figures.get(docname))
                  != (env.toc_secnumbers.get(docname), env.toc_fignumbers.get(docname)) and docname in env.all_docs}
    env.d2l_published_numbers = copy.deepcopy((env.toc_secnumbers, env.toc_fignumbers))
    # A page that names a label of a renumbered page shows its number too (`:numref:`, `:eqref:`).
    moved = {label for label, (docname, *_) in env.domains.standard_domain.labels.items() if docname in renumbered}
    moved |= {label for label, (docname, _) in env.domains["math"].equations.items() if docname in renumbered}
    return sorted(renumbered | {docname for docname, named in references_of(env).items() if named & moved})


def references_of(env) -> dict[str, set[str]]:
    """{page: the labels its references name}, kept in Sphinx's environment: Sphinx writes again a page whose
    own numbers changed, not the pages that show them."""
    return env.__dict__.setdefault("d2l_references", {})


def note_references(app, doctree) -> None:
    """`doctree-read`."""
    references_of(app.env)[app.env.docname] = {node["reftarget"] for node in doctree.findall(addnodes.pending_xref)}


def merge_references(app, env, docnames, other) -> None:
    """`env-merge-info` (pages read in parallel)."""
    references_of(env).update({d: named for d, named in references_of(other).items() if d in docnames})


def _publish(env, renumber: dict[tuple[int, ...], tuple[int, ...]]) -> None:
    def published(number):
        for cut in range(len(number), 0, -1):      # the longest renumbered prefix
            if tuple(number[:cut]) in renumber:
                return (*renumber[tuple(number[:cut])], *number[cut:])
        return tuple(number)

    for docname, numbers in env.toc_secnumbers.items():
        env.toc_secnumbers[docname] = {anchor: published(number) for anchor, number in numbers.items()}
        # Where Sphinx also wrote them: the toc entries (contents, sidebar) and the title (prev/next, <title>).
        for reference in env.tocs[docname].findall(nodes.reference):
            if reference.get("secnumber"):
                reference["secnumber"] = list(published(reference["secnumber"]))
        title = env.titles.get(docname)
        if title is not None and title.get("secnumber"):
            title["secnumber"] = list(published(title["secnumber"]))
    sphinx_adapter.assign_figure_numbers(env, skeleton)   # derived from the new section numbers


def skeleton(env, docname: str) -> nodes.Element:
    """What Sphinx's TocTreeCollector numbers figures by in a page (`assign_figure_numbers`): its sections,
    tocs and whatever a domain numbers (figures, tables and code blocks whole, caption and all; display
    equations bare), in their order, under the elements that hold them. Made from the page's doctree once and kept in
    the environment until Sphinx reads the page again (`forget_page`): a render unpickled every page's
    doctree, twice, to number the figures of the one page it read again."""
    skeletons = env.__dict__.setdefault("d2l_skeletons", {})
    if docname not in skeletons:
        domains, standard = list(env.domains.sorted()), env.domains.standard_domain

        def kept(node: nodes.Element) -> nodes.Element | None:
            numbered = not isinstance(node, nodes.section) and any(domain.get_enumerable_node_type(node)
                                                                   for domain in domains)   # (as Sphinx walks)
            if numbered and standard.is_enumerable_node(node):
                return node.deepcopy()   # its caption or title, which Sphinx reads (get_numfig_title)
            children = [k for child in node.children if isinstance(child, nodes.Element)
                        and (k := kept(child)) is not None]
            if not children and not numbered and not isinstance(node, (nodes.section, addnodes.toctree)):
                return None
            bare = node.copy()   # its attributes (ids, toc entries), not its text (an equation's LaTeX)
            bare.rawsource = ""
            bare.extend(children)
            return bare

        doctree = sphinx_adapter.read_only_doctree(env, docname)
        page = nodes.Element()
        page.extend(k for child in doctree.children if isinstance(child, nodes.Element)
                    and (k := kept(child)) is not None)
        for node in page.findall():
            node.document = None   # a copy points at its document: the environment would pickle every page
        skeletons[docname] = page
    return skeletons[docname]


def forget_page(app, env, docname: str) -> None:
    """`env-purge-doc`: the page is read again, or is gone."""
    getattr(env, "d2l_skeletons", {}).pop(docname, None)
    references_of(env).pop(docname, None)


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
            parent, at = _before_targets(section)
            parent.insert(at, nodes.raw("", latex + "\n", format="latex"))


def _before_targets(section: nodes.section) -> tuple[nodes.Element, int]:
    """(parent, index): where to put what goes right before a section, ahead of the targets that name it
    too (a `(label)=` line). Sphinx writes them as the section's own labels only when nothing stands between
    them and the section; else each is a label of its own, and LaTeX finds the name defined twice. Docutils
    leaves a target above a heading at the end of the section before, however deep that one ends."""
    parent, at = section.parent, section.parent.index(section)
    while at > 0 and isinstance(parent[at - 1], nodes.section):
        parent, at = parent[at - 1], len(parent[at - 1])
    if at > 0 and isinstance(parent[at - 1], nodes.target):
        while at > 0 and isinstance(parent[at - 1], nodes.target):
            at -= 1
        return parent, at
    parent, at = section.parent, section.parent.index(section)
    while at > 0 and isinstance(parent[at - 1], nodes.target):
        at -= 1
    return parent, at


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
    app.connect("env-get-updated", sphinx_numbers_back, priority=400)   # before the TocTreeCollector (500)
    app.connect("env-get-updated", renumber_sections, priority=600)     # after it
    app.connect("doctree-resolved", latex_counters)
    app.connect("env-purge-doc", forget_page)
    app.connect("doctree-read", note_references)
    app.connect("env-merge-info", merge_references)
    sphinx_adapter.number_figures_by(app, skeleton)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
