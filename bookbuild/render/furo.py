"""Render-stage helper: the theme, Furo, configured rather than rebuilt: what the site reads from it.

* Furo's sidebar navigation, the whole book's toctree, is the same tree on every page but for where its
  links lead from the page's folder, the page's own link (href="#") and the classes of the page's branch
  ("current", the expanders' checked boxes, "current-page"). Furo computes it anew for every page (Sphinx
  resolves and copies the whole toctree, Furo re-parses its HTML): the largest cost of rendering the book.
  Here Furo computes it once per render, as a page outside the toctree sees it from the site's root
  (`Navigation`), and each page's is derived from it: the same HTML Furo would write. Where the
  derivation cannot be sure (a page listed twice in the toctree or not at all, a shape Furo's tree did not
  have, a page above which Sphinx copies a toc otherwise), Furo computes the page's own. The Sphinx and
  Furo internals this leans on (`builder._get_local_toctree`, `furo._compute_navigation_tree`) are here
  alone, held by test_adapters.py, which compares the two on every page of a book.
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
import weakref
from dataclasses import dataclass

from sphinx import addnodes
from sphinx.util.osutil import relative_uri

PROBE = "D2LPROBE"
# The page Furo's navigation is computed for once: at the site's root, listed by no toctree (its links
# lead from the root, none is "current").
OUTSIDE = "d2l-navigation"

TAG = re.compile(r"(<[^>]*>)")   # Furo writes its tree through BeautifulSoup: no ">" inside a tag
LINK = re.compile(r'<a class="reference (?P<kind>internal|external)" href="(?P<href>[^"]*)">')
ITEM = re.compile(r'<li class="(?P<level>toctree-l\d+)(?P<children> has-children)?">')
CHECKBOX = ' class="toctree-checkbox"'   # BeautifulSoup writes a tag's attributes sorted: "checked" before it


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


def furos_navigation(builder, pagename: str) -> str:
    """Furo's own navigation tree of a page, computed as its `html-page-context` handler does."""
    import furo
    return furo._compute_navigation_tree(
        {"toctree": lambda **options: builder._get_local_toctree(pagename, **options)})


@dataclass
class Link:
    index: int          # of its tag, in `Navigation.parts`
    href: str           # from the site's root
    around: list[int]   # the elements it is in, outermost first (their tags' indices)


class Navigation:
    """Furo's navigation tree as the page at `outside` (a URI at the site's root, in no toctree) sees it,
    cut at its tags."""

    def __init__(self, tree: str, outside: str):
        self.parts = TAG.split(tree)   # text and tags, alternating: the tags at odd indices
        self.links: list[Link] = []
        self.checkboxes: dict[int, int] = {}   # the index of an item's tag -> its expander's
        self.whole = True   # False: a link this cut does not know, unbalanced tags, or a link to `outside`
        opened: list[int] = []
        for index in range(1, len(self.parts), 2):
            tag = self.parts[index]
            if tag.startswith("</"):
                name = tag[2:-1]
                if not opened or not self.parts[opened.pop()].startswith((f"<{name} ", f"<{name}>")):
                    self.whole = False
            elif tag.endswith("/>"):   # BeautifulSoup closes the void elements so
                if tag.startswith("<input ") and CHECKBOX in tag and opened:
                    self.checkboxes[opened[-1]] = index
            else:
                if tag.startswith("<a "):
                    link = LINK.fullmatch(tag)
                    if not link or link["href"].partition("#")[0] == outside:
                        self.whole = False
                    elif link["kind"] == "internal":
                        self.links.append(Link(index, link["href"], list(opened)))
                opened.append(index)
        self.whole = self.whole and not opened

    def of(self, target: str) -> str | None:
        """The tree of the page at `target` (its URI from the root), listed once in it: the links made
        relative to it (as Sphinx's `get_relative_uri`), its branch "current" (as Sphinx's
        `_toctree_add_classes` marks it) and Furo's marks of that branch. None: not sure."""
        own = [link for link in self.links if link.href == target]
        if not self.whole or len(own) != 1:
            return None
        parts = list(self.parts)
        for link in self.links:
            path, hash_, anchor = link.href.partition("#")
            parts[link.index] = f'<a class="reference internal" href="{relative_uri(target, path) + hash_ + anchor}">'
        parts[own[0].index] = '<a class="current reference internal" href="#">'   # Sphinx's writer: "#" for ""
        items = [index for index in own[0].around if parts[index] != "<ul>"]
        for index in own[0].around:
            if parts[index] == "<ul>":
                parts[index] = '<ul class="current">'
                continue
            item = ITEM.fullmatch(parts[index])
            if not item or bool(item["children"]) != (index in self.checkboxes):
                return None   # an element Sphinx would mark "current" where this cut does not know how
            classes = [item["level"], "current"]
            if index in self.checkboxes:   # Furo's: the item expands, and is expanded
                classes.append("has-children")
                checkbox = self.checkboxes[index]
                parts[checkbox] = parts[checkbox].replace(CHECKBOX, ' checked=""' + CHECKBOX, 1)
            if index == items[-1]:         # Furo's: the last item marked "current" is the page's
                classes.append("current-page")
            parts[index] = f'<li class="{" ".join(classes)}">'
        return "".join(parts)


def copied_whole(env, pagename: str) -> bool:
    """Whether Sphinx copies the tocs of the page and of those above it whole, as for a page outside the
    toctree: not when one sets a `tocdepth` or has an `only` node (`_toctree_standard_entry` copies the
    toc of a page above as it is; `_toctree_add_classes` does not look into an `only`)."""
    parent = {child: page for page, children in env.toctree_includes.items() for child in children}
    above, docname = [], pagename
    while docname in parent and docname not in above:
        above.append(docname)
        docname = parent[docname]
    return not any("tocdepth" in env.metadata.get(docname, {})
                   or (docname in env.tocs and env.tocs[docname].next_node(addnodes.only))
                   for docname in above)


_navigations: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # builder -> its Navigation


def navigation(app, pagename: str) -> str | None:
    """Furo's navigation tree of the page, derived from the one computed once per render; None where
    Furo must compute it itself."""
    if app.builder.name != "html" or OUTSIDE in app.env.all_docs or not copied_whole(app.env, pagename):
        return None
    if app.builder not in _navigations:
        _navigations[app.builder] = Navigation(furos_navigation(app.builder, OUTSIDE),
                                               app.builder.get_target_uri(OUTSIDE))
    return _navigations[app.builder].of(app.builder.get_target_uri(pagename))


def derive_navigation(app, pagename, templatename, context, doctree) -> None:
    """`html-page-context`, before Furo's: the page's navigation derived, and Furo given no toctree to
    compute it from again (`name_expanders` gives it back)."""
    if "toctree" not in context:
        return
    tree = navigation(app, pagename)
    if tree is not None:
        context["d2l_navigation"] = (tree, context.pop("toctree"))


def turkish(tree: str) -> str:
    """Furo's navigation tree with its expanders named in Turkish."""
    from sphinx.locale import _
    prefix = toggle_prefix()
    return tree.replace(f'aria-label="{html.escape(prefix)}', f'aria-label="{html.escape(_(prefix.strip()))} ')


def name_expanders(app, pagename, templatename, context, doctree) -> None:
    """`html-page-context`, after Furo's: its navigation tree (or the one derived for it) with the
    expanders named in Turkish."""
    if "d2l_navigation" in context:
        context["furo_navigation_tree"], context["toctree"] = context.pop("d2l_navigation")
    tree = context.get("furo_navigation_tree")
    if tree:
        context["furo_navigation_tree"] = turkish(tree)


def forget_navigation(app, env) -> None:
    """`env-updated`: a build of the same builder reads the toctree anew."""
    _navigations.pop(app.builder, None)


def setup(app):
    app.connect("html-page-context", derive_navigation, priority=400)   # Furo's handler has the default, 500
    app.connect("html-page-context", name_expanders, priority=600)
    app.connect("env-updated", forget_navigation)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
