"""Stage 5, render: a Sphinx extension for what the build puts around a page's content.

* Under the title (``{d2l-page-tools}``, placed by the merge stage): a framework
  chooser that sets every tab group of the page (shown when JavaScript runs), the
  page's notebook for each framework, the book's PDF for each framework, and, when
  build.yml names where CI publishes the notebooks (`launch`), "open in Colab" links.
* The readers' notebooks, written into the site with every reference and citation
  resolved to text and links, as the page shows them: no raw d2lbook roles.
* A meta description for search engines: the page's first paragraph.
* Every script of the page run once the page is parsed (``defer``), so none holds up its first paint.
Other builders (LaTeX) get none of it.
"""
from __future__ import annotations

import hashlib
import html
import json
import posixpath
import re
import shutil
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.locale import _
from sphinx.util.docutils import SphinxDirective

from bookbuild import notebook_json, tab_marks
from bookbuild import published as references
from bookbuild.marks import CITATION, LABEL_LINE, REFERENCE, WIDTH_LINE
from bookbuild.render import sphinx_adapter
from bookbuild.render import sphinx_tabs_adapter as sphinx_tabs


class page_tools(nodes.General, nodes.Element):
    """Holds {"notebooks": {framework: path}, "pdfs": {framework: path}}, paths relative to the site root."""


class PageToolsDirective(SphinxDirective):
    has_content = True

    def run(self):
        files = json.loads("\n".join(self.content))
        downloads(self.env)[self.env.docname] = files["notebooks"]   # for write_notebooks: handed on, not guessed
        return [page_tools(files=files)]


def downloads(env) -> dict[str, dict[str, str]]:
    """{docname: {framework: its staged notebook, relative to the site root}}, kept in Sphinx's environment."""
    if not hasattr(env, "d2l_downloads"):
        env.d2l_downloads = {}
    return env.d2l_downloads


def forget_page(app, env, docname) -> None:
    downloads(env).pop(docname, None)


def merge_pages(app, env, docnames, other) -> None:
    downloads(env).update({d: files for d, files in downloads(other).items() if d in docnames})


def visit_page_tools(translator, node) -> None:
    builder = translator.builder
    here = posixpath.dirname(builder.get_target_uri(builder.current_docname))

    def links(files: dict) -> str:
        return " · ".join(f'<a class="reference download" href="{html.escape(posixpath.relpath(path, here or "."))}" '
                          f'data-d2l-tab="{name}" download>{html.escape(label)}</a>'
                          for name, label in builder.config.d2l_frameworks if (path := files.get(name)))

    files = node["files"]
    parts = []
    if files["notebooks"]:
        buttons = "".join(f'<button type="button" data-d2l-choose="{name}" aria-pressed="false">'
                          f'{html.escape(label)}</button>' for name, label in builder.config.d2l_frameworks)
        # Shown from the first paint when scripts run (it does nothing without them: static/d2l.css).
        parts.append(f'<div class="d2l-chooser" role="group" aria-label="Kod çerçevesi">'
                     f'<span class="d2l-chooser-label">Çerçeve:</span> {buttons}</div>')
    taken = []
    if files["notebooks"]:
        taken.append(f"Defter: {links(files['notebooks'])}")
    if files["pdfs"]:
        taken.append(f"PDF: {links(files['pdfs'])}")
    if taken:
        parts.append(f'<p class="d2l-downloads">İndir — {" — ".join(taken)}</p>')
    if files["notebooks"] and builder.config.d2l_launch:
        repository, branch = builder.config.d2l_launch.split("@")
        opened = " · ".join(
            f'<a class="reference external" href="https://colab.research.google.com/github/{html.escape(repository)}'
            f'/blob/{html.escape(branch)}/{html.escape(path.split("/", 1)[1])}" data-d2l-tab="{name}">'
            f'{html.escape(label)}</a>' for name, label in builder.config.d2l_frameworks
            if (path := files["notebooks"].get(name)))
        parts.append(f'<p class="d2l-launch">Colab\'da aç — {opened}</p>')
    # `no-search`: page chrome, kept out of search result snippets (static/d2l-search.js), as Sphinx
    # keeps nodes of that class out of its index.
    translator.body.append(f'<div class="d2l-page-tools no-search">{"".join(parts)}</div>')
    raise nodes.SkipNode


def skip(translator, node) -> None:
    raise nodes.SkipNode


# --- the readers' notebooks -------------------------------------------------------------

def resolve_roles(text: str, app, docname: str, notebook_uri: str) -> str:
    """d2lbook roles -> Markdown text and links, as the rendered page reads them."""
    env, builder = app.env, app.builder
    std = env.domains.standard_domain
    table = references.published_labels(Path(app.config.d2l_published_labels)
                                        if app.config.d2l_published_labels else None)
    bib = references.bibliography(Path(app.config.bibtex_bibfiles[0]) if app.config.bibtex_bibfiles else None)
    here = posixpath.dirname(notebook_uri)

    def reference(match) -> str:
        role, label = match.group(1), match.group(2).strip()
        if role == "eqref":
            node = addnodes.pending_xref("", refdomain="math", reftype="eq", reftarget=label, refexplicit=False)
            found = env.domains["math"].resolve_xref(env, docname, builder, "eq", label, node, nodes.Text(""))
            return found.astext() if found is not None else label
        if label in std.labels:
            target, anchor, title = std.labels[label]
            published = table.get(label)
            url = published.url(app.config.d2l_published_url) if published else \
                posixpath.relpath(builder.get_target_uri(target), here or ".") + f"#{anchor}"
            return f"[{title}]({url})"
        if label in table:
            return f"[{table[label].text}]({table[label].url(app.config.d2l_published_url)})"
        return label

    def citation(match) -> str:
        keys = [k.strip() for k in match.group(1).split(",") if k.strip()]
        return "(" + "; ".join(references.citation_text(bib[k]) if k in bib else k for k in keys) + ")"

    lines = [line for line in text.split("\n") if not (LABEL_LINE.match(line) or WIDTH_LINE.match(line))]
    return CITATION.sub(citation, REFERENCE.sub(reference, "\n".join(lines)))


def write_notebooks(app, exception) -> None:
    """`build-finished`: the readers' notebooks and the PDFs, into the site."""
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    # Kept with the doctrees, which the site written over the last one comes with: a notebook staged as it was,
    # whose references resolve as they did, is there already, and is not read nor written again.
    known = notebook_json.Known(Path(app.doctreedir) / READERS_NOTEBOOKS)
    resolved = _what_references_resolve_to(app.env)
    for docname, notebooks in sorted(downloads(app.env).items()):
        for uri in notebooks.values():
            _write_notebook(app, docname, uri, out, known, resolved)
    known.save()
    pdfs = Path(app.srcdir) / tab_marks.Staged.PDF
    if pdfs.is_dir():
        shutil.copytree(pdfs, out / tab_marks.Staged.PDF, dirs_exist_ok=True)


READERS_NOTEBOOKS = "readers-notebooks.json"   # in the doctrees folder: notebook_json.Known's index


def _what_references_resolve_to(env) -> bytes:
    """A digest of what `resolve_roles` reads of the book beside the notebook: the labels (their pages and
    titles), the equations and the numbers. The settings, the label table and the bibliography it reads too
    are the same wherever the doctrees are kept (render.site starts afresh when they change)."""
    read = [env.domains.standard_domain.labels, env.domains["math"].equations, env.toc_fignumbers, env.toc_secnumbers]
    return hashlib.sha256(json.dumps(read, sort_keys=True, default=str).encode()).digest()


def _write_notebook(app, docname: str, uri: str, out: Path, known: notebook_json.Known, resolved: bytes) -> None:
    """One reader's notebook, its references and citations resolved as the page reads them."""
    staged = (Path(app.srcdir) / uri).read_bytes()
    target, nb_key = out / uri, hashlib.sha256(resolved + staged).hexdigest()
    if known.same(uri, nb_key, target) is not None:
        return
    nb = notebook_json.parse(staged.decode("utf-8"))
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = resolve_roles(cell.source, app, docname, uri)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(notebook_json.text(nb), encoding="utf-8")
    known.wrote(uri, nb_key)


# --- a description for search engines ---------------------------------------------------

def describe_page(app, pagename, templatename, context, doctree) -> None:
    """`html-page-context`: the page's first paragraph of prose as its meta description (a page
    without one, e.g. the bibliography, is described by its title and the start of its text)."""
    if doctree is None:
        return
    paragraphs = (p for p in doctree.findall(nodes.paragraph)
                  if not any(isinstance(a, (nodes.container, page_tools, nodes.table)) for a in _ancestors(p)))
    text = next((t for p in paragraphs if len(t := re.sub(r"\s+", " ", p.astext()).strip()) >= 40), None)
    if text is None:
        title = re.sub(r"<[^>]+>", "", context.get("title", ""))
        text = f"{title} — {app.config.project}: " + re.sub(r"\s+", " ", doctree.astext()).strip()[len(title):]
    if len(text) > 160:
        text = text[:157].rsplit(" ", 1)[0] + " …"
    context["metatags"] = context.get("metatags", "") + f'\n<meta name="description" content="{html.escape(text)}" />'


def _ancestors(node):
    while node.parent is not None:
        node = node.parent
        yield node


# Inline in <head>, before anything is drawn. Scripts run, so the page drops Furo's `no-js` class
# (which, without scripts, shows every framework's panel under its name: static/d2l.css). The
# reader's framework: ?tab= first (any case; an unknown value is ignored and not saved), then the
# reader's last choice anywhere (localStorage), then the book's first framework. sphinx-tabs' own
# memory (sessionStorage) would override it on the next load: it is cleared. The other frameworks'
# panels are hidden from the first paint on; static/d2l.js takes over once the page is parsed.
# Furo's "Back to top" link sits outside every landmark: it gets a nav of its own as soon as the parser
# reaches it, before the page is first laid out (done once the page was parsed, it cost a layout of the
# whole page again: a tenth of a second on a phone).
EARLY_SCRIPT = """(function () {
  document.documentElement.classList.remove("no-js");
  var names = %(names)s, labels = %(labels)s, chosen = null, saved = null;
  var wanted = (new URLSearchParams(window.location.search).get("tab") || "").toLowerCase();
  for (var i = 0; i < names.length; i++) {
    if (wanted && (names[i].toLowerCase() === wanted || labels[i].toLowerCase() === wanted)) chosen = names[i];
  }
  try {
    window.sessionStorage.removeItem(%(sphinx_tabs_key)s);
    if (chosen) window.localStorage.setItem("d2l-tab", chosen);
    else saved = window.localStorage.getItem("d2l-tab");
  } catch (e) { /* private mode: no memory */ }
  if (!chosen) chosen = names.indexOf(saved) >= 0 ? saved : names[0];
  window.d2lTab = {chosen: chosen};
  var panel = '.d2l-tabs .%(panel_class)s[data-d2l-tab', tab = '.d2l-tabs .%(tab_class)s[data-d2l-tab';
  var style = document.createElement("style");
  style.id = "d2l-tab-early";
  style.textContent = panel + ']:not([data-d2l-tab="' + chosen + '"]){display:none!important}' +
    tab + ']:not([data-d2l-tab="' + chosen + '"]){border-bottom-color:transparent!important}' +
    tab + '="' + chosen + '"]{border-bottom-color:var(--color-brand-primary)!important}';
  document.head.appendChild(style);
  var landmark = new MutationObserver(function () {
    var back = document.querySelector("a.back-to-top"), nav;
    if (!back) return;
    landmark.disconnect();
    nav = document.createElement("nav");
    nav.setAttribute("aria-label", %(back_to_top)s);
    back.replaceWith(nav);
    nav.append(back);
  });
  landmark.observe(document.documentElement, {childList: true, subtree: true});
  document.addEventListener("DOMContentLoaded", function () { landmark.disconnect(); });
})();"""


def add_early_script(app, pagename, templatename, context, doctree) -> None:
    """`html-page-context`: the early script, with the frameworks of build.yml, for the head of the
    page (templates/page.html puts it there: the theme writes its scripts at the end of the body)."""
    if app.config.d2l_frameworks:
        names, labels = zip(*app.config.d2l_frameworks, strict=True)
        context["d2l_early_script"] = EARLY_SCRIPT % {
            "names": json.dumps(names), "labels": json.dumps(labels), "back_to_top": json.dumps(_("Back to top")),
            "sphinx_tabs_key": json.dumps(sphinx_tabs.STORAGE_KEY), "tab_class": sphinx_tabs.TAB_CLASS,
            "panel_class": sphinx_tabs.PANEL_CLASS}


def defer_scripts(app, pagename, templatename, context, doctree) -> None:
    """`html-page-context`, after every other handler: each script file of the page (Sphinx's, the
    theme's, the extensions') is deferred, as static/d2l.js is. All of them start from
    DOMContentLoaded or run on a parsed page; deferred ones still run in their order, before it.
    The browser's catalog (translations.js) comes right after doctools.js, which it fills: deferred, a
    script runs on a parsed page, and sphinx_highlight.js writes "Hide Search Matches" as it runs, in
    whatever language the catalog then has. (The scripts Furo writes into the search page
    itself are deferred by templates/search.html.)"""
    scripts = context.get("script_files")
    named = lambda script, name: str(getattr(script, "filename", script) or "").endswith(name)  # noqa: E731
    if isinstance(scripts, list):
        deferred = [_deferred(script) for script in scripts]
        doctools = next((s for s in deferred if named(s, "doctools.js")), None)
        catalog = [type(s)(s.filename, **{**s.attributes, "priority": doctools.priority})
                   for s in deferred if doctools and named(s, "translations.js")]
        rest = [s for s in deferred if not named(s, "translations.js")] if catalog else deferred
        at = rest.index(doctools) + 1 if catalog else 0   # Sphinx then sorts by priority, keeping this order
        scripts[:] = rest[:at] + catalog + rest[at:]


# Stylesheets of what a deferred script makes (sphinx-copybutton's buttons, our reference previews): nothing of
# theirs is on the first paint, so they are linked at the end of the body, where they do not hold it back.
LATE_STYLESHEETS = ("copybutton.css", "preview.css")


def link_late_stylesheets(app, pagename, templatename, context, doctree) -> None:
    """`html-page-context`: LATE_STYLESHEETS move from the head to the end of the body (templates/page.html)."""
    sheets = context.get("css_files")
    if not isinstance(sheets, list):
        return
    late = [s for s in sheets if str(getattr(s, "filename", s) or "").endswith(LATE_STYLESHEETS)]
    sheets[:] = [s for s in sheets if s not in late]
    context["d2l_late_css"] = late


def _deferred(script):
    attributes = getattr(script, "attributes", None)
    if attributes is None or not script.filename or {"async", "defer"} & attributes.keys() \
            or attributes.get("type", "text/javascript") != "text/javascript":
        return script
    return type(script)(script.filename, priority=script.priority, **attributes, defer="defer")


# --- links that leave the site: explained once -------------------------------------------

OUTSIDE_NOTE = "↗ işaretli bağlantılar bu sitenin dışına çıkar: çoğu, kitabın yayımlanmış baskısına gider."


def explain_outside_links(app, doctree, docname) -> None:
    """`doctree-resolved`, HTML: after the first block of the page that holds a link leaving the site (the
    text's or a toc's; static/d2l.css marks every such link with ↗), a line that says what ↗ means."""
    if app.builder.format != "html":
        return
    def listed_outside(toctree, depth: int) -> bool:
        """Whether a toctree, as Sphinx will write it (`maxdepth` deep), lists a page outside the site."""
        for _title, ref in toctree.get("entries", []):   # not `_`: that is Sphinx's translation
            if "://" in (ref or ""):
                return True
            if depth > 1 and ref in app.env.all_docs and any(
                    listed_outside(inner, depth - 1)
                    for inner in sphinx_adapter.read_only_doctree(app.env, ref).findall(addnodes.toctree)):
                return True
        return False

    def leaves(node) -> bool:   # toctrees are still unresolved here: their entries say where they go
        if isinstance(node, addnodes.toctree):
            return listed_outside(node, node.get("maxdepth", -1) if node.get("maxdepth", -1) > 0 else 99)
        return isinstance(node, nodes.reference) and "://" in node.get("refuri", "") and not node.get("internal")
    first = next(doctree.findall(leaves), None)
    if first is None:
        return
    block = first
    while block.parent is not None and not isinstance(block.parent, (nodes.section, nodes.document)):
        block = block.parent
    if block.parent is None:
        return
    note = nodes.paragraph("", OUTSIDE_NOTE, classes=["d2l-outside-note", "no-search"])
    block.parent.insert(block.parent.index(block) + 1, note)


def setup(app):
    app.connect("html-page-context", add_early_script)
    app.connect("html-page-context", defer_scripts, priority=900)
    app.connect("html-page-context", link_late_stylesheets, priority=900)
    app.add_node(page_tools, html=(visit_page_tools, None), latex=(skip, None), text=(skip, None),
                 man=(skip, None), texinfo=(skip, None))
    app.add_directive(tab_marks.PAGE_TOOLS, PageToolsDirective)
    app.connect("build-finished", write_notebooks)
    app.connect("env-purge-doc", forget_page)
    app.connect("env-merge-info", merge_pages)
    # "owner/name@branch" where CI publishes the readers' notebooks (build.yml `launch`): "open in Colab"
    app.add_config_value("d2l_launch", "", "html", types=[str])
    app.connect("html-page-context", describe_page)
    app.connect("doctree-resolved", explain_outside_links)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
