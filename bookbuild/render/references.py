"""Stage 5, render: the Sphinx side of the book's references (conf.py's extension list).

A reference to a label of the published edition links to its page there (`link_published`); citations
and the bibliography are author–year, in Turkish; in the PDF, the cited works print under the heading of
the page that holds the bibliography. The tables they read are the ground floor's (bookbuild/published.py).
"""
from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx.builders.latex.nodes import thebibliography

from bookbuild.published import published_labels
from bookbuild.render import bibtex_adapter


def link_published(app, env, node, contnode):
    """`missing-reference`: a label of the published edition, not of this build (the read stage has
    checked that every label is in one of the two), links to its page there, with its title as text."""
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

    from pybtex.backends.plaintext import Backend as PlainText
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

    PLAIN_TEXT = PlainText()

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
            # render(PlainText()), not render_as("text"): that looks the backend up among every installed
            # package's entry points on each call (40 ms; 28 s for the whole book's citations).
            last = [Text.from_latex(" ".join(person.last_names)).render(PLAIN_TEXT) for person in people]
            who = (last[0] if len(last) == 1 else f"{last[0]} ve {last[1]}" if len(last) == 2
                   else f"{last[0]} vd." if last else entry.key)
            return f"{who}, {entry.fields.get('year', 't.y.')}"

    class TurkishPlain(Plain):
        default_label_style = "author_year_tr"

        def format_entry(self, label, entry, bib_data=None):
            """pybtex's, for an entry not formatted under this label before (`FORMATTED`): sphinxcontrib-bibtex
            formats every entry of the bibliography on every render, twice (its text and its tooltip)."""
            known = FORMATTED.get((label, entry.key))
            if bib_data is not None or known is None or known[0] != entry:
                known = FORMATTED[(label, entry.key)] = (entry, super().format_entry(label, entry, bib_data))
            return known[1]

        def format_names(self, role, as_sentence=True):
            formatted = names(role, sep=", ", sep2=" ve ", last_sep=" ve ")
            return sentence[formatted] if as_sentence else formatted

    register_referencing("sphinxcontrib.bibtex.style.referencing", "author_year_tr", TurkishAuthorYear)
    register_plugin("pybtex.style.labels", "author_year_tr", TurkishAuthorYearLabels)
    register_plugin("pybtex.style.formatting", PLAIN, TurkishPlain)
    # sphinxcontrib-bibtex asks pybtex for its plain-text backend at each citation it resolves, and pybtex
    # looks it up among every installed package's entry points unless it is registered at run time (3% of a
    # cold render of the whole book). The same class.
    register_plugin("pybtex.backends", "plaintext", PlainText, force=True)


PLAIN = "plain_tr"   # pybtex's plain bibliography in Turkish (conf.py's bibtex_default_style)
# {(label, key): (the entry, its formatted entry)}: what the last render formatted (its citations, kept in
# Sphinx's environment) and this one. An entry is formatted again when its fields or persons changed.
FORMATTED: dict = {}


def formatted_last_time(app, env) -> None:
    """`env-updated`, before sphinxcontrib-bibtex's: the entries it formatted last time, as it kept them."""
    FORMATTED.clear()
    for entry, formatted in bibtex_adapter.formatted_citations(env, PLAIN):   # (a bibliography may name its own)
        FORMATTED[(formatted.label, formatted.key)] = (entry, formatted)


def visit_citation(translator, node) -> None:
    """HTML: a bibliography's entry as a list item of its list, as docutils writes it but for its role: docutils
    gives it DPUB-ARIA's `doc-biblioentry`, which DPUB-ARIA 1.1 deprecates for `listitem` (and a list holds list
    items only: axe flagged the bibliography page three times)."""
    if not isinstance(node.previous_sibling(), type(node)):
        translator.body.append('<div role="list" class="citation-list">\n')
    translator.body.append(translator.starttag(node, "div", classes=[node.tagname], role="listitem"))


def depart_citation(translator, node) -> None:
    translator.body.append("</div>\n")
    if not isinstance(node.next_node(descend=False, siblings=True), type(node)):
        translator.body.append("</div>\n")   # the list, after its last entry


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
    app.add_node(nodes.citation, override=True, html=(visit_citation, depart_citation))
    app.connect("env-updated", formatted_last_time, priority=400)
    app.add_config_value("d2l_published_url", "", "env", types=[str])
    app.add_config_value("d2l_published_labels", "", "env", types=[str])   # path of the label table
    app.connect("missing-reference", link_published)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
