"""Stage 5, render: a Sphinx extension for the hover previews of references (static/preview.js).

A reference to a section, an equation or a figure shows a small preview on hover and on keyboard
focus. The script finds what to show without fetching anything:

* a target on the same page: the page itself (the equation, the section's title and first
  sentence, the figure), read by the script, so nothing is written twice;
* a citation and a section of the published edition: the link's title attribute, which
  sphinxcontrib-bibtex (the entry's text) and references.py (number and title) already write;
* a target on another page of this build: written here, at the end of the page, as a
  `<template data-d2l-preview="<the link's href>">` with the section's number, title and first
  sentence, the equation typeset (typeset_math, with the page's other formulas) and its number,
  or the figure's number and caption.

Pages without such references load neither the script nor its style.
"""
from __future__ import annotations

import html
import posixpath
import re

from docutils import nodes

from bookbuild.render import sphinx_adapter, typeset_math

SENTENCE_END = re.compile(r"[.!?…](?=\s|$)")
LONGEST_SENTENCE = 240   # characters; a longer first sentence is cut at a word, with "…"


def _in_toctree(node) -> bool:
    while node is not None:
        if isinstance(node, nodes.compound) and "toctree-wrapper" in node["classes"]:
            return True
        node = node.parent
    return False


def previewable(doctree) -> list[nodes.reference]:
    """The page's references with a preview: those with an anchor, in the text (not its toc)."""
    return [ref for ref in doctree.findall(nodes.reference)
            if ("#" in ref.get("refuri", "") or ref.get("refid") or "d2l-published" in ref["classes"])
            and not _in_toctree(ref)]


def _first_sentence(paragraph, formula) -> str:
    """The paragraph's first sentence as HTML (its inline math typeset), cut short if very long."""
    parts, length = [], 0
    for node in paragraph.findall(lambda n: isinstance(n, (nodes.Text, nodes.math))):
        if isinstance(node.parent, nodes.math):
            continue
        if isinstance(node, nodes.math):
            parts.append(formula(node.astext(), False))
            continue
        text = re.sub(r"\s+", " ", str(node))
        end = SENTENCE_END.search(text)
        if end:
            text = text[:end.end()]
        if length + len(text) > LONGEST_SENTENCE:
            parts.append(html.escape(text[:max(0, LONGEST_SENTENCE - length)].rsplit(" ", 1)[0]) + " …")
            break
        parts.append(html.escape(text))
        length += len(text)
        if end:
            break
    return "".join(parts).strip()


class Previews:
    """The previews of one page's references to other pages of the build."""

    def __init__(self, app, pagename: str):
        self.app, self.env, self.page = app, app.env, pagename
        self.uri = app.builder.get_target_uri(pagename)
        self.docs = {app.builder.get_target_uri(doc): doc for doc in self.env.found_docs}

    def formula(self, tex: str, display: bool) -> str:
        return typeset_math.placeholder(self.app.builder, self.page, tex, display, f"{self.page} (preview)")

    def target(self, refuri: str):
        """(docname, node) a link on this page points at, on another page of the build; else None."""
        path, _, anchor = refuri.partition("#")
        if not path or not anchor or "://" in path:
            return None
        docname = self.docs.get(posixpath.normpath(posixpath.join(posixpath.dirname(self.uri), path)))
        if docname is None:
            return None
        tree = sphinx_adapter.read_only_doctree(self.env, docname)   # only read here, never changed
        node = next((n for n in tree.findall(nodes.Element) if anchor in n.get("ids", ())), None)
        return (docname, node, tree) if node is not None else None

    def html(self, refuri: str) -> str | None:
        found = self.target(refuri)
        if found is None:
            return None
        docname, node, tree = found
        figures = self.env.toc_fignumbers.get(docname, {})
        if isinstance(node, nodes.section):
            numbers = self.env.toc_secnumbers.get(docname, {})
            first = next(tree.findall(nodes.section)) is node
            number = numbers.get("#" + node["ids"][0]) or (numbers.get("") if first else None)
            title = ".".join(map(str, number)) + ". " if number else ""
            title += node[0].astext()
            paragraph = next((child for child in node.children if isinstance(child, nodes.paragraph)), None)
            sentence = _first_sentence(paragraph, self.formula) if paragraph is not None else ""
            return f"<strong>{html.escape(title)}</strong>" + (f"<p>{sentence}</p>" if sentence else "")
        if isinstance(node, nodes.math_block):
            number = figures.get("displaymath", {}).get(node["ids"][0]) or (node.get("number"),)
            eqno = f'<span class="eqno">({".".join(map(str, number))})</span>' if any(number) else ""
            return f'<div class="math">{eqno}{self.formula(typeset_math.display_tex(node), True)}</div>'
        if isinstance(node, nodes.figure):
            number = figures.get("figure", {}).get(node["ids"][0])
            caption = next(node.findall(nodes.caption), None)
            label = self.app.config.numfig_format["figure"] % ".".join(map(str, number)) if number else ""
            text = caption.astext() if caption is not None else ""
            return f"<strong>{html.escape(label)}</strong> {html.escape(text)}".strip()
        return None


def add_previews(app, pagename, templatename, context, doctree) -> None:
    """`html-page-context`: the page's previews of other pages as templates at the end of its body,
    and the script and style, for a page with references that have one."""
    if doctree is None or app.builder.format != "html":
        return
    references = previewable(doctree)
    if not references:
        return
    previews = Previews(app, pagename)
    templates = {}
    for reference in references:
        refuri = reference.get("refuri", "")
        if refuri and refuri not in templates and (content := previews.html(refuri)):
            templates[refuri] = f'<template data-d2l-preview="{html.escape(refuri)}">{content}</template>'
    context["body"] += "".join(templates.values())
    app.add_js_file("preview.js")   # during html-page-context: for this page only (deferred by page_tools)
    app.add_css_file("preview.css")


def setup(app):
    # Before typeset_math's handler (500), which links math.css when the page has formulas.
    app.connect("html-page-context", add_previews, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": False}
