"""Stage 5, render: a Sphinx extension for the book's math.

* Every display equation is numbered, as the published edition numbers them: Sphinx's
  ``math_number_all`` only reaches its own ``math`` directive, not MyST's ``$$``.
* HTML: all math is typeset at build time by MathJax 4 in Node (bookbuild/render/mathjax)
  into SVG with hidden MathML for screen readers. The page loads no math JavaScript,
  and no formula is a tab stop. A display formula too wide for a phone is also drawn broken
  into lines (MathJax 4's line breaking), and math.css shows that drawing, by a container
  query, wherever the whole one does not fit beside its number. Writers leave a placeholder per formula; once Sphinx
  has written the pages, the placeholders are replaced, each page gets its glyph
  definitions once, and the site its math.css. A TeX error is reported at the
  formula's source line.
* The typeset pages are cached (in the doctrees folder, kept between renders) by their
  formulas: a render sends Node only the pages whose formulas it has not typeset before,
  and starts no Node when there are none. A page is typeset as a whole, in a MathJax
  document of its own, as a browser would (its glyphs defined once, its \newcommands its
  own), so a cached page is byte for byte what a cold render makes of it.
LaTeX typesets math itself.
"""
from __future__ import annotations

import hashlib
import html
import json
import os
import re
import subprocess
import time
import unicodedata
from pathlib import Path

from docutils import nodes
from sphinx.errors import ExtensionError
from sphinx.locale import _
from sphinx.util.math import get_node_equation_number

from bookbuild import environments
from bookbuild.whole import write_whole

# The formulas' stylesheet, written by every render (its rules are those of the pages' formulas)
MATH_CSS = "math.css"

PROGRAM = Path(__file__).parent / "mathjax" / "typeset.mjs"
# What the typeset SVG depends on besides the formulas: our program and the MathJax it loads.
PROGRAM_FILES = (PROGRAM, Path(__file__).parent / "mathjax" / "package-lock.json")
CACHE = "math-svg.json"   # in the doctrees folder
PLACEHOLDER = "<!--d2l-math:{}-->"
PLACEHOLDERS = re.compile(r"<!--d2l-math:(\d+)-->")
# A formula drawn whole and broken (typeset.mjs: class d2l-fit-<n>, n its whole width in ex) shows the
# broken drawing where its box is narrower than the whole one.
FIT_RULE = ("@container (max-width: {0}ex) {{ mjx-container.d2l-fit-{0} > svg:not(.d2l-narrow) {{ display: none; }} "
            "mjx-container.d2l-fit-{0} > svg.d2l-narrow {{ display: inline; }} }}\n")


def number_equations(app, doctree) -> None:
    """`doctree-read`: a label, a number and an id for each display equation without one."""
    env, docname = app.env, app.env.docname
    domain = env.domains.math_domain
    for node in doctree.findall(nodes.math_block):
        if node.get("label") or "amsmath" in node["classes"]:   # numbered already, or starred (unnumbered)
            continue
        node["label"] = f"{docname}:{env.new_serialno('sphinx.ext.math#equations')}"
        domain.note_equation(docname, node["label"], location=node)
        node["number"] = domain.get_equation_number_for(node["label"])
        node["docname"] = docname
        node["ids"].append(nodes.make_id(f"equation-{node['label']}"))


def placeholder(builder, docname: str, tex: str, display: bool, where: str) -> str:
    """Where a formula goes in a page's HTML: replaced by the typeset formula once the page is written
    (also for HTML other extensions put on the page before it is written: hover previews)."""
    found = builder.d2l_math.setdefault(docname, [])
    found.append({"tex": tex, "display": display, "where": where})
    return PLACEHOLDER.format(len(found) - 1)


# LaTeX's cedilla in text (`\text{in\c{c}}`, d2l-tr's random-variables.md), which MathJax's textmacros lacks:
# the letter with its cedilla, as Unicode composes it (the PDF's LaTeX takes the source as it is).
CEDILLA = re.compile(r"\\c\{(\w)\}")


def _formula(translator, node, tex: str, display: bool) -> str:
    tex = CEDILLA.sub(lambda m: unicodedata.normalize("NFC", m.group(1) + "\u0327"), tex)
    return placeholder(translator.builder, translator.builder.current_docname, tex, display,
                       f"{node.source}:{node.line}")


def display_tex(node) -> str:
    """A display equation's TeX as MathJax takes it (as Sphinx's MathJax writer wraps it)."""
    tex = node.astext()
    if node.get("nowrap"):
        return tex
    parts = [part for part in tex.split("\n\n") if part.strip()]
    wrapped = [rf"\begin{{split}}{p}\end{{split}}" if r"\\" in p else p for p in parts]
    return (r"\begin{align}\begin{aligned}" + r"\\".join(wrapped) + r"\end{aligned}\end{align}"
            if len(parts) > 1 else wrapped[0] if wrapped else "")


def visit_math(translator, node) -> None:
    translator.body.append(f'<span class="math">{_formula(translator, node, node.astext(), False)}</span>')
    raise nodes.SkipNode


def visit_displaymath(translator, node) -> None:
    """As Sphinx's MathJax writer lays a display equation out, with the formula typeset. When the
    theme has wrapped the equation in a container with its ids (Furo, for sideways scrolling), the
    wrapper alone carries them: an id is unique, and a link to the equation lands on the wrapper."""
    wrapped = isinstance(node.parent, nodes.container) and node.parent["ids"] == node["ids"]
    translator.body.append(translator.starttag(nodes.math_block(classes=node["classes"]) if wrapped else node,
                                               "div", CLASS="math notranslate nohighlight"))
    if node["number"]:
        translator.body.append(f'<span class="eqno">({get_node_equation_number(translator, node)})')
        translator.add_permalink_ref(node, _("Link to this equation"))
        translator.body.append("</span>")
    translator.body.append(_formula(translator, node, display_tex(node), True) + "</div>\n")
    raise nodes.SkipNode


def start_collecting(app) -> None:
    """`builder-inited`: no formulas yet. The last site's math.css, in a render written over it, goes: a page that
    links it would name its checksum (`math.css?v=`), which a page of a render into an empty folder does not.
    It is written again once the pages are."""
    app.builder.d2l_math, app.builder.d2l_written = {}, set()
    if app.builder.format == "html":
        (Path(app.outdir) / "_static" / MATH_CSS).unlink(missing_ok=True)


def typeset(app, exception) -> None:
    """`build-finished`: the pages' formulas typeset (those not cached, in one MathJax run), then the
    placeholders replaced."""
    if exception is not None or app.builder.format != "html":
        return
    pages = {docname: [{"tex": f["tex"], "display": f["display"]} for f in found]
             for docname, found in sorted(app.builder.d2l_math.items())}
    keys = {docname: hashlib.sha256(json.dumps(formulas, sort_keys=True).encode()).hexdigest()
            for docname, formulas in pages.items()}
    cache = Path(app.doctreedir) / CACHE   # the doctrees are kept between renders
    program = hashlib.sha256(b"".join(path.read_bytes() for path in PROGRAM_FILES)).hexdigest()
    try:
        cached = json.loads(cache.read_text(encoding="utf-8"))
        if cached["program"] != program or not isinstance(cached["docs"], dict):
            raise ValueError("typeset by another program")
    except (OSError, ValueError, KeyError):
        cached = {"program": program, "css": None, "pages": {}, "docs": {}}
    # The site's pages this render did not write (Sphinx writes only those that changed) keep their formulas:
    # math.css holds the rules of every page's formulas, and the cache keeps them for the next render.
    site = {docname: key for docname, key in cached["docs"].items() if docname in app.env.found_docs
            and docname not in app.builder.d2l_written and key in cached["pages"]}
    if not keys and not site:
        return
    missing = {docname: formulas for docname, formulas in pages.items() if keys[docname] not in cached["pages"]}
    if missing or cached["css"] is None:
        started = time.monotonic()
        result = _run_mathjax(app, json.dumps({"pages": missing}, sort_keys=True))
        app.builder.d2l_math_seconds = time.monotonic() - started   # the render logs it
        cached["css"] = result["css"]
        cached["pages"].update({keys[docname]: page for docname, page in result["pages"].items()})
    site.update(keys)
    used = {"program": program, "css": cached["css"],   # only what the site uses: the cache does not grow
            "pages": {key: cached["pages"][key] for key in set(site.values())}, "docs": site}
    write_whole(cache, json.dumps(used, sort_keys=True))
    out = Path(app.outdir)
    for docname in pages:
        path = out / app.builder.get_target_uri(docname)
        formulas, defs = used["pages"][keys[docname]]["formulas"], used["pages"][keys[docname]]["defs"]
        path.write_text(_typeset(path.read_text(encoding="utf-8"), formulas, defs), encoding="utf-8")
    fits = sorted({fit for page in used["pages"].values() for fit in page.get("fits", [])})
    (out / "_static" / MATH_CSS).write_text(used["css"] + "".join(map(FIT_RULE.format, fits)), encoding="utf-8")


def _typeset(text: str, formulas: list[str], defs: str) -> str:
    """A written page with its formulas (SVG) in place of their placeholders, and `defs` (what its formulas
    share) at the top of its body."""
    text = PLACEHOLDERS.sub(lambda m: formulas[int(m.group(1))], text)
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + defs, text, count=1)


def _run_mathjax(app, request: str) -> dict:
    done = subprocess.run(["node", str(PROGRAM)], input=request, capture_output=True, text=True,
                          env={**os.environ, "NODE_MODULES": str(environments.node_modules("mathjax"))})
    if done.returncode == 1:
        error = json.loads(done.stderr)
        where = app.builder.d2l_math[error["page"]][error["index"]]["where"]
        raise ExtensionError(f"{where}: TeX error in ${html.unescape(error['tex'])}$: {error['error']}")
    if done.returncode:
        raise ExtensionError(f"MathJax (bookbuild/render/mathjax/typeset.mjs) failed: {done.stderr.strip()[-500:]} "
                             "(run `make env`)")
    return json.loads(done.stdout)


def link_math_css(app, pagename, templatename, context, doctree) -> None:
    """`html-page-context`: the page is noted as written (`d2l_written`: math.css keeps only the other pages'
    cached rules, and bundles.py rewrites these pages); with math (its writer has just collected it), it links
    math.css."""
    app.builder.d2l_written.add(pagename)
    if app.builder.d2l_math.get(pagename):
        app.add_css_file(MATH_CSS)   # during html-page-context: for this page only


def use_this_renderer(app, config) -> None:
    config.html_math_renderer = "d2l_svg"


def setup(app):
    app.add_html_math_renderer("d2l_svg", (visit_math, None), (visit_displaymath, None))
    app.connect("config-inited", use_this_renderer)
    app.connect("doctree-read", number_equations)
    app.connect("builder-inited", start_collecting)
    app.connect("build-finished", typeset)
    app.connect("html-page-context", link_math_css)
    return {"parallel_read_safe": True, "parallel_write_safe": False}
