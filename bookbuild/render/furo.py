"""Render-stage helper: the theme, Furo, configured rather than rebuilt: what the site reads from it.

* Furo names each expander of the sidebar in English, "Toggle navigation of <title>", written by its
  Python (`furo.navigation`), past Sphinx's catalog. The prefix is asked of Furo itself (its navigation
  tree of one probe entry) and each page's tree gets the catalog's Turkish for it: an upgrade that
  changes how Furo names them fails here, loudly (`toggle_prefix`), not on the page.
(The search page's scripts are Furo's, extended by templates/search.html, which defers every one: Furo writes
searchtools.js undeferred, and it needs doctools.js, which every page defers.)
(Where Furo makes its sidebars drawers, static/d2l.js reads from furo.css itself.)
"""
from __future__ import annotations

import functools
import html
import re

PROBE = "D2LPROBE"


@functools.cache
def toggle_prefix() -> str:
    """What Furo writes before an entry's title in its expander's name ("Toggle navigation of ")."""
    from furo.navigation import get_navigation_tree
    tree = get_navigation_tree(f'<ul><li class="toctree-l1"><a class="reference internal" href="#">{PROBE}</a>'
                               '<ul><li class="toctree-l2"><a class="reference internal" href="#">x</a></li></ul>'
                               '</li></ul>')
    found = re.search(rf'aria-label="([^"]*){PROBE}"', tree)
    if not found or not found.group(1).strip():
        raise RuntimeError("Furo no longer names its sidebar's expanders 'Toggle navigation of <title>': "
                           "bookbuild/render/furo.py must learn its new way (furo.navigation)")
    return html.unescape(found.group(1))


def name_expanders(app, pagename, templatename, context, doctree) -> None:
    """`html-page-context`, after Furo's: its navigation tree with the expanders named in Turkish."""
    from sphinx.locale import _
    tree = context.get("furo_navigation_tree")
    if not tree:
        return
    prefix = toggle_prefix()
    context["furo_navigation_tree"] = tree.replace(f'aria-label="{html.escape(prefix)}',
                                                   f'aria-label="{html.escape(_(prefix.strip()))} ')


def setup(app):
    app.connect("html-page-context", name_expanders, priority=600)   # Furo's handler has the default, 500
    return {"parallel_read_safe": True, "parallel_write_safe": True}
