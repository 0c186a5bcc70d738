"""Stage 5, render: a Sphinx extension that turns the merged page's tab groups into tabs.

The merge stage marks each framework's code cells and tab prose (`tab_marks`).
After Sphinx has resolved the page, consecutive marked nodes of one group become
one sphinx-tabs element (HTML), with group tabs named by label so that a click
switches every group on the page. Other builders (LaTeX) get one framework only,
``d2l_tab``, with no tabs at all.
"""
from __future__ import annotations

import base64

from docutils import nodes
from sphinx.util.docutils import SphinxDirective
from bookbuild import tab_marks
from bookbuild.render import sphinx_tabs_adapter as sphinx_tabs

HTML_FORMATS = ("html",)


class TabProseDirective(SphinxDirective):
    """``{d2l-tab} pytorch`` + ``:group: n``: prose shown in one framework's tab."""

    required_arguments = 1
    has_content = True
    option_spec = {"group": int}

    def run(self):
        node = nodes.container(classes=["d2l-tab-prose"])
        node["d2l_tab"] = self.arguments[0]
        node["d2l_group"] = self.options.get("group", 0)
        self.state.nested_parse(self.content, self.content_offset, node)
        return [node]


def tab_of(node) -> tuple[str, int] | None:
    """(framework, group) of a node the merge stage marked, else None."""
    if not isinstance(node, nodes.container):
        return None
    if "d2l_tab" in node:
        return node["d2l_tab"], node["d2l_group"]
    return tab_marks.node_mark(node)


def _runs(parent):
    """Consecutive children of `parent` that belong to one tab group."""
    run, group = [], None
    for child in parent.children:
        mark = tab_of(child)
        if mark and run and mark[1] == group:
            run.append(child)
            continue
        if run:
            yield run
        run, group = ([child], mark[1]) if mark else ([], None)
    if run:
        yield run


def make_tabs(app, doctree, docname) -> None:
    """`doctree-resolved`: HTML gets tab elements; other builders keep one framework."""
    parents = {id(n.parent): n.parent for n in doctree.findall(lambda n: tab_of(n) is not None)}
    frameworks = app.config.d2l_frameworks
    if app.builder.format in HTML_FORMATS:
        serial = 0
        for parent in parents.values():
            for run in list(_runs(parent)):
                serial += 1
                position = parent.index(run[0])
                for node in run:
                    parent.remove(node)
                parent.insert(position, tab_element(run, serial, frameworks))
    else:
        keep = app.config.d2l_tab or frameworks[0][0]
        for parent in parents.values():
            for node in [c for c in parent.children if tab_of(c) and tab_of(c)[0] != keep]:
                parent.remove(node)


def tab_element(run, serial: int, frameworks) -> nodes.container:
    """sphinx-tabs' own nodes, as its ``group-tab`` directive makes them, with two differences:
    no panel is `hidden` in the HTML and each begins with its framework's name, so that without
    scripts every framework is readable under its name (static/d2l.css hides the tab bars and
    shows the names only then; with scripts, the page's head hides the other frameworks before
    the first paint). Panels get no tabindex here: static/d2l.js gives one to a panel with
    nothing focusable in it (WAI-ARIA tabs). `no-search`: the tab bar and the names are chrome,
    kept out of the search index and of result snippets."""
    element = nodes.container(type="tab-element", classes=[sphinx_tabs.ELEMENT_CLASS, "d2l-tabs"])
    tablist = sphinx_tabs.Tablist(role="tablist", classes=["no-search"])
    tablist["aria-label"] = "Çerçeve"
    element += tablist
    for position, (name, label) in enumerate(frameworks):
        key = base64.b64encode(label.encode()).decode()
        tab_id, panel_id = f"tab-d2l{serial}-{key}", f"panel-d2l{serial}-{key}"
        first = position == 0
        tab = sphinx_tabs.Tab(label, label, classes=[sphinx_tabs.TAB_CLASS, sphinx_tabs.GROUP_CLASS], ids=[tab_id])
        tab.attributes.update({
            "role": "tab", "name": key, "data-d2l-tab": name, "tabindex": "0" if first else "-1",
            "aria-selected": "true" if first else "false", "aria-controls": panel_id})
        tablist += tab
        panel = sphinx_tabs.Panel(classes=[sphinx_tabs.PANEL_CLASS, sphinx_tabs.GROUP_CLASS], ids=[panel_id])
        panel.attributes.update({"role": "tabpanel", "name": key, "aria-labelledby": tab_id, "data-d2l-tab": name})
        panel += nodes.paragraph("", label, classes=["d2l-tab-label", "no-search"])
        members = [node for node in run if tab_of(node)[0] == name]
        panel += members or [nodes.paragraph("", f"Bu kısmın {label} sürümü yok.", classes=["d2l-tab-missing"])]
        element += panel
    return element


def setup(app):
    app.add_config_value("d2l_frameworks", [], "env", types=[list])        # [(name, label)], tab order
    # Non-HTML builders show this framework only; applied after reading: no re-read when it changes.
    app.add_config_value("d2l_tab", "", "", types=[str])
    app.add_directive(tab_marks.TAB_PROSE, TabProseDirective)
    app.connect("doctree-resolved", make_tabs)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
