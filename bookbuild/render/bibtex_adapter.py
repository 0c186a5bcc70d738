"""sphinxcontrib-bibtex's internals that the render stage leans on, behind one door.

None of what follows is sphinxcontrib-bibtex's documented interface; tests/build/test_adapters.py holds it
to its contract against the installed version:

* its `cite` domain keeps, in Sphinx's environment, every citation it resolved (`domain.citations`), each
  with the pybtex entry it formatted (`entry`), what that gave (`formatted_entry`: pybtex's FormattedEntry,
  with its `label` and `key`), and the bibliography it belongs to (`bibliography_key`), whose formatting
  style is named in `domain.bibliographies[key].style`. references.py reuses last render's formatting
  (`formatted_citations`): sphinxcontrib-bibtex formats every entry again on every render.
"""
from __future__ import annotations

from collections.abc import Iterator

from pybtex.database import Entry
from pybtex.style import FormattedEntry


def formatted_citations(env, style: str) -> Iterator[tuple[Entry, FormattedEntry]]:
    """(pybtex entry, its FormattedEntry) of each citation Sphinx's environment keeps from the last render,
    of the bibliographies formatted in `style` (a pybtex formatting style's name)."""
    domain = env.get_domain("cite")
    for citation in domain.citations:
        if domain.bibliographies[citation.bibliography_key].style == style:
            yield citation.entry, citation.formatted_entry
