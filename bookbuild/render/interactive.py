"""Stage 5, render: a Sphinx extension for the interactive figures the build places on a page.

A page's `<page>.interactive.yml` lists them (read and checked by sidecars.py); the merge
stage places a ``{d2l-interactive}`` directive (tab_marks); this extension writes the
element, which the script fills. Until then, and for readers without scripts, the element
holds a still: the description (or a general sentence) and the section's own last figure
as the page's executed code drew it, in the book's first framework. The PDF leaves the
figure out: there the page is exactly as its source says.

The element is empty, of no height, until its script fills it. A script that fills it late (when
the reader nears it, as the momentum explorer does) must fill it at once when the page opens at
an anchor and before a link within the page is followed: what lies above a link's target must
keep its height while the page scrolls there.
"""
from __future__ import annotations

import html
import json
import posixpath
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from bookbuild import tab_marks
from bookbuild.render import tabs

# --- render stage: a Sphinx extension ---------------------------------------------------

class interactive_figure(nodes.General, nodes.Element):
    """An element a script fills: {"id", "script", "style", "description"} (paths from the site root).
    Its children, the still, are what it shows until then."""


class InteractiveDirective(SphinxDirective):
    required_arguments = 1
    has_content = True

    def run(self):
        return [interactive_figure(figure={"id": self.arguments[0], **json.loads("\n".join(self.content))})]


STILL_TEXT = "Bu etkileşimli şekil tarayıcıda JavaScript ile çalışır."
STILL_FIGURE = "Durağan hâli, bölümün son şekli:"
STILL_ALT = "Durağan hâli:"


def add_stills(app, doctree, docname) -> None:
    """`doctree-resolved`: each figure's still, from its section's last figure before it."""
    first = app.config.d2l_frameworks[0][0] if app.config.d2l_frameworks else None
    for figure in list(doctree.findall(interactive_figure)):
        image = _last_figure_before(figure, first)
        still = nodes.container(classes=["d2l-still", "no-search"])
        text = " ".join(filter(None, [figure["figure"].get("description"), STILL_TEXT,
                                       STILL_FIGURE if image is not None else None]))
        still += nodes.paragraph("", text)
        if image is not None:
            copy = image.deepcopy()
            copy["ids"] = []
            copy["alt"] = f"{STILL_ALT} {image.get('alt', '')}".strip()
            still += copy
        figure += still


def _last_figure_before(figure, framework: str | None):
    """The last image before `figure` in its section (or the enclosing ones), shown for
    `framework` or for every framework; None if there is none."""
    section = figure.parent
    while section is not None:
        if isinstance(section, nodes.section):
            found = None
            for node in section.findall(lambda n: n is figure or isinstance(n, nodes.image)):
                if node is figure:
                    break
                if _framework_of(node) in (None, framework):
                    found = node
            if found is not None:
                return found
        section = section.parent
    return None


def _framework_of(node) -> str | None:
    while node is not None:
        mark = tabs.tab_of(node)
        if mark:
            return mark[0]
        node = node.parent
    return None


def visit_interactive(translator, node) -> None:
    figure = node["figure"]
    here = posixpath.dirname(translator.builder.get_target_uri(translator.builder.current_docname)) or "."
    parts = []
    if figure.get("style"):
        parts.append(f'<link rel="stylesheet" href="{html.escape(posixpath.relpath(figure["style"], here))}">')
    parts.append(f'<div id="{html.escape(figure["id"])}" class="d2l-interactive no-search">')
    translator.body.append("\n".join(parts) + "\n")


def depart_interactive(translator, node) -> None:
    figure = node["figure"]
    here = posixpath.dirname(translator.builder.get_target_uri(translator.builder.current_docname)) or "."
    translator.body.append(f'</div>\n<script defer src="{html.escape(posixpath.relpath(figure["script"], here))}">'
                           '</script>\n')


def skip(translator, node) -> None:
    raise nodes.SkipNode


def copy_assets(app, exception) -> None:
    """`build-finished`: the staged scripts and styles, into the site."""
    staged = Path(app.srcdir) / tab_marks.INTERACTIVE_ASSETS
    if exception is None and app.builder.format == "html" and staged.is_dir():
        shutil.copytree(staged, Path(app.outdir) / tab_marks.INTERACTIVE_ASSETS, dirs_exist_ok=True)


def setup(app):
    app.add_node(interactive_figure, html=(visit_interactive, depart_interactive), latex=(skip, None),
                 text=(skip, None), man=(skip, None), texinfo=(skip, None))
    app.add_directive(tab_marks.INTERACTIVE, InteractiveDirective)
    app.connect("doctree-resolved", add_stills)
    app.connect("build-finished", copy_assets)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
