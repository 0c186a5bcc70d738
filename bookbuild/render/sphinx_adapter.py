"""Sphinx's internals that the render stage leans on, behind one door.

None of what follows is Sphinx's documented interface; tests/build/test_adapters.py holds each to its
contract against the installed Sphinx:

* the TocTreeCollector instance Sphinx connected (`app.add_env_collector` keeps no handle to it: it is found
  among the `env-get-updated` listeners), whose `assign_figure_numbers` numbers every page's figures and
  equations by walking the page's doctree, got through `env.get_doctree`. numbering.py has it walk a small
  outline of each page instead (unpickling every page's doctree, twice, was most of a render after one
  edited sentence). Where the collector is not found, Sphinx's own walk goes on: slower, the same numbers.
"""
from __future__ import annotations

from collections.abc import Callable

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
    env.get_doctree = lambda docname: outline(env, docname)   # for this walk only
    try:
        return TocTreeCollector.assign_figure_numbers(TocTreeCollector(), env)
    finally:
        del env.get_doctree


def doctree(env, docname: str) -> nodes.document:
    """The page's doctree, read from its pickle: Sphinx's own `get_doctree`, also while a walk of outlines
    has taken its place."""
    return BuildEnvironment.get_doctree(env, docname)
