"""sphinx-tabs' internals that the render stage leans on, behind one door.

We build its tab elements ourselves (render/tabs.py) so that its script (static/tabs.js) drives them;
none of what follows is its documented interface, and tests/build/test_adapters.py holds each to its
contract against the installed sphinx-tabs:

* its node classes, whose HTML visitors write the tab bar, the tabs and the panels;
* the classes and attributes its script finds them by (`.sphinx-tabs-tab`, `group-tab`, `name`);
* the sessionStorage key where its script keeps the last tab chosen, which would override the reader's
  choice on the next page: the page's early script clears it (render/page_tools.py).
"""
from __future__ import annotations

from sphinx_tabs.tabs import SphinxTabsPanel as Panel
from sphinx_tabs.tabs import SphinxTabsTab as Tab
from sphinx_tabs.tabs import SphinxTabsTablist as Tablist

ELEMENT_CLASS = "sphinx-tabs"
TAB_CLASS = "sphinx-tabs-tab"
PANEL_CLASS = "sphinx-tabs-panel"
GROUP_CLASS = "group-tab"          # a tab of a group: choosing it chooses the same name in every group
STORAGE_KEY = "sphinx-tabs-last-selected"

__all__ = ["ELEMENT_CLASS", "GROUP_CLASS", "PANEL_CLASS", "STORAGE_KEY", "TAB_CLASS", "Panel", "Tab", "Tablist"]
