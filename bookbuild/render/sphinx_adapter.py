"""Sphinx's internals that the render stage leans on, behind one door; a Sphinx extension too (conf.py).

None of what follows is Sphinx's documented interface; tests/build/test_adapters.py holds each to its
contract against the installed Sphinx:

* the TocTreeCollector instance Sphinx connected (`app.add_env_collector` keeps no handle to it: it is found
  among the `env-get-updated` listeners), whose `assign_figure_numbers` numbers every page's figures and
  equations by walking the page's doctree, got through `env.get_doctree`. numbering.py has it walk a small
  outline of each page instead (unpickling every page's doctree, twice, was most of a render after one
  edited sentence). Where the collector is not found, Sphinx's own walk goes on: slower, the same numbers.
* each page's doctree, unpickled at most once a render for the lookups that only read it
  (`read_only_doctree`): the outlines above, the hover previews (previews.py), the tocs that list pages
  outside the site (page_tools.py), and the target of each `:numref:`, which Sphinx's standard domain
  (`StandardDomain._resolve_numref_xref`) finds in its page's whole doctree, got through `env.get_doctree`,
  once per reference. Those were 1,299 unpickles of 168 pages in a cold render of the whole book. The trees
  of all its pages hold about 60 MB. Sphinx's `get_and_resolve_doctree`, which resolves a page's tree in
  place before it is written, still gets a tree of its own, as every other caller of `env.get_doctree` does.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from docutils import nodes
from sphinx.environment import BuildEnvironment
from sphinx.environment.collectors.toctree import TocTreeCollector

Outline = Callable[[object, str], nodes.Element]   # (env, docname) -> what to walk of the page


def number_figures_by(app, outline: Outline) -> bool:
    """Sphinx's TocTreeCollector numbers figures walking `outline(env, docname)` of each page, not its doctree,
    keeping its place among the other listeners of its events. Whether Sphinx's collector was found."""
    found = False
    for listener in getattr(app.events, "listeners", {}).get("env-get-updated", ()):
        if isinstance(collector := getattr(listener.handler, "__self__", None), TocTreeCollector):
            collector.assign_figure_numbers = lambda env: assign_figure_numbers(env, outline)  # type: ignore[method-assign]
            found = True
    return found


def assign_figure_numbers(env, outline: Outline) -> list[str]:
    """Sphinx's TocTreeCollector.assign_figure_numbers (the pages whose numbers changed), walking outlines."""
    with _get_doctree_is(env, lambda docname: outline(env, docname)):
        return TocTreeCollector.assign_figure_numbers(TocTreeCollector(), env)


@contextlib.contextmanager
def _get_doctree_is(env, get_doctree: Callable[[str], nodes.Element]) -> Iterator[None]:
    """`env.get_doctree` is `get_doctree` for Sphinx's code that runs meanwhile, then what it was."""
    before = env.__dict__.get("get_doctree")
    env.get_doctree = get_doctree
    try:
        yield
    finally:
        if before is None:
            del env.get_doctree
        else:
            env.get_doctree = before


# --- each page's doctree, read once for the lookups that only read it ---------------------------

READ_ONLY = "d2l_read_only_doctrees"   # in Sphinx's environment


class _ThisRenders(dict):
    """{docname: doctree}, kept in Sphinx's environment for this render only: the environment, which Sphinx
    pickles between renders (and while rendering), pickles it empty; a later render may read the pages again."""

    def __reduce__(self):
        return type(self), ()


def read_only_doctree(env, docname: str) -> nodes.document:
    """The page's doctree as its pickle holds it, unpickled once a render (Sphinx's own `get_doctree`, also
    while a walk of outlines has taken its place): the same tree for every caller, which must not change it."""
    trees = env.__dict__.setdefault(READ_ONLY, _ThisRenders())
    if docname not in trees:
        trees[docname] = BuildEnvironment.get_doctree(env, docname)
    return trees[docname]


def resolve_numrefs_reading_once(app) -> None:
    """`builder-inited`: Sphinx's standard domain finds the target of a `:numref:` in `read_only_doctree`,
    not in a doctree unpickled for each reference (the node it reads, its caption and the numbers of its page
    are all it takes)."""
    standard = app.env.domains.standard_domain
    resolve = standard._resolve_numref_xref

    def reading_once(env, *args, **kwargs):
        with _get_doctree_is(env, lambda docname: read_only_doctree(env, docname)):
            return resolve(env, *args, **kwargs)

    standard._resolve_numref_xref = reading_once


def forget_page(app, env, docname: str) -> None:
    """`env-purge-doc`: the page is read again, or is gone."""
    env.__dict__.get(READ_ONLY, {}).pop(docname, None)


def forget_pages(app, exception) -> None:
    """`build-finished`, after every other listener: the trees' memory back."""
    app.env.__dict__.pop(READ_ONLY, None)


def setup(app):
    app.connect("builder-inited", resolve_numrefs_reading_once)
    app.connect("env-purge-doc", forget_page)
    app.connect("build-finished", forget_pages, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
