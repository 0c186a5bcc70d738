"""Stage 5, render: a Sphinx extension for the book's math.

* Every display equation is numbered, as the published edition numbers them: Sphinx's
  ``math_number_all`` only reaches its own ``math`` directive, not MyST's ``$$``.
* HTML: all math is typeset at build time by MathJax 4 in Node (bookbuild/render/mathjax)
  into SVG with hidden MathML for screen readers. The page loads no math JavaScript,
  and no formula is a tab stop. A display formula too wide for a phone is also drawn broken
  into lines (MathJax 4's line breaking), and math.css shows that drawing, by a container
  query, wherever the whole one does not fit beside its number. Writers leave a placeholder per formula, and
  each page's formulas (the hover previews' included) go to one MathJax run in Node as soon as the page is
  written: Node typesets them on another core while Sphinx writes the next pages. Once Sphinx has written
  them all, the placeholders are replaced, each page gets its glyph definitions once, and the site its
  math.css. A TeX error is reported at the formula's source line; Node never outlives the build.
* The typeset pages are cached (in the doctrees folder, kept between renders, and carried over by site.py
  when the rest of the doctrees are not: it is keyed by its own program and the formulas) by their
  formulas: a render sends Node only the pages whose formulas it has not typeset before,
  and starts no Node when there are none. A page is typeset as a whole, in a MathJax
  document of its own, as a browser would (its glyphs defined once, its \newcommands its
  own), so a cached page is byte for byte what a cold render makes of it.
LaTeX typesets math itself.
"""
from __future__ import annotations

import atexit
import contextlib
import hashlib
import html
import json
import os
import queue
import re
import subprocess
import tempfile
import threading
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
    app.builder.d2l_typesetting = None
    if app.builder.format == "html":
        (Path(app.outdir) / "_static" / MATH_CSS).unlink(missing_ok=True)
        app.builder.d2l_typesetting = Typesetting(Path(app.doctreedir) / CACHE, app.builder.d2l_math)


def _key(formulas: list[dict]) -> str:
    return hashlib.sha256(json.dumps(formulas, sort_keys=True).encode()).hexdigest()


class MathJaxRun:
    """typeset.mjs in Node, sent each page as it is written: it typesets them on another core while Sphinx
    writes the next pages. A thread writes to it (Sphinx never waits for Node to read) and one reads what it
    typesets. It runs in a process group of its own: a Ctrl-C reaches the build alone, which stops it, and is
    never taken for MathJax failing. The render stops it however it ends (`stop`); an interrupted build leaves
    the render's thread to end with the process (pipeline.Beside), so what is still running then is stopped at
    exit; a build killed outright leaves Node without a reader, and it ends at its next page."""

    def __init__(self) -> None:
        self.errors = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            ["node", str(PROGRAM)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errors,
            env={**os.environ, "NODE_MODULES": str(environments.node_modules("mathjax"))}, start_new_session=True)
        self.requests: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self.lines: list[bytes] = []
        self.threads = [threading.Thread(target=self._feed, daemon=True),
                        threading.Thread(target=self._read, daemon=True)]
        for thread in self.threads:
            thread.start()
        RUNNING.add(self)

    def send(self, page: str, formulas: list[dict]) -> None:
        self.requests.put(json.dumps({"page": page, "formulas": formulas}).encode() + b"\n")

    def _feed(self) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        try:
            while (request := self.requests.get()) is not None:
                stdin.write(request)
                stdin.flush()
        except OSError:   # Node has ended (or was stopped): how, `results` says
            pass
        finally:
            with contextlib.suppress(OSError):
                stdin.close()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout as out:
            self.lines.extend(out)

    def ended(self) -> bool:
        """Whether Node has ended before it was told that no more pages come: it failed."""
        return self.process.poll() is not None

    def results(self, found: dict[str, list[dict]]) -> tuple[dict, str]:
        """({page: its typeset formulas}, the style sheet), once Node has typeset every page sent; an
        ExtensionError for a TeX error, at its formula's place (`found[page][index]["where"]`), or for a failed
        Node."""
        self.requests.put(None)
        for thread in self.threads:
            thread.join()
        code = self.process.wait()
        RUNNING.discard(self)
        self.errors.seek(0)
        errors = self.errors.read().decode("utf-8", errors="replace")
        self.errors.close()
        if code == 1:
            error = json.loads(errors)
            at = found[error["page"]][error["index"]]["where"]
            raise ExtensionError(f"{at}: TeX error in ${html.unescape(error['tex'])}$: {error['error']}")
        if code:
            said = (f"killed by signal {-code}" if code < 0
                    else f"{errors.strip()[-500:] or f'exit status {code}'} (run `make env`)")
            raise ExtensionError(f"MathJax (bookbuild/render/mathjax/typeset.mjs) failed: {said}")
        *pages, css = map(json.loads, self.lines)
        return {page.pop("page"): page for page in pages}, css["css"]

    def stop(self) -> None:
        """Node stopped, if it still runs (the render has ended without its results)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        RUNNING.discard(self)
        self.requests.put(None)
        for thread in self.threads:
            thread.join()
        self.errors.close()


RUNNING: set[MathJaxRun] = set()   # the runs whose Node has not ended


@atexit.register
def _stop_running() -> None:
    for run in list(RUNNING):
        run.stop()


class Typesetting:
    """A render's math: the cache of the pages typeset before, and a MathJax run for the others, started at
    the first written page whose formulas the cache lacks."""

    def __init__(self, cache: Path, found: dict[str, list[dict]]):
        self.cache, self.found = cache, found   # found: the pages' formulas, as `placeholder` collects them
        self.program = hashlib.sha256(b"".join(path.read_bytes() for path in PROGRAM_FILES)).hexdigest()
        try:
            self.cached = json.loads(cache.read_text(encoding="utf-8"))
            if self.cached["program"] != self.program or not isinstance(self.cached["docs"], dict):
                raise ValueError("typeset by another program")
        except (OSError, ValueError, KeyError):
            self.cached = {"program": self.program, "css": None, "pages": {}, "docs": {}}
        self.keys: dict[str, str] = {}   # each written page with formulas: the key of its formulas
        self.sent: set[str] = set()      # the keys of the pages sent to the run
        self.run: MathJaxRun | None = None

    def written(self, docname: str) -> None:
        """A page written with formulas: sent to the run, unless a page with the same formulas was typeset
        before. A run that has failed says why now, not after the other pages are written."""
        formulas = [{"tex": f["tex"], "display": f["display"]} for f in self.found[docname]]
        key = self.keys[docname] = _key(formulas)
        if key in self.cached["pages"] or key in self.sent:
            return
        if self.run is None:
            self.run = MathJaxRun()
        elif self.run.ended():
            self.run.results(self.found)
        self.run.send(docname, formulas)
        self.sent.add(key)

    def finish(self, app) -> None:
        """The pages' formulas typeset, the placeholders replaced, math.css and the cache written."""
        cached = self.cached
        # The site's pages this render did not write (Sphinx writes only those that changed) keep their formulas:
        # math.css holds the rules of every page's formulas, and the cache keeps them for the next render.
        site = {docname: key for docname, key in cached["docs"].items() if docname in app.env.found_docs
                and docname not in app.builder.d2l_written and key in cached["pages"]}
        if not self.keys and not site:
            return
        if self.run is None and cached["css"] is None:   # only the style sheet is missing
            self.run = MathJaxRun()
        if self.run is not None:
            started = time.monotonic()
            pages, cached["css"] = self.run.results(self.found)
            app.builder.d2l_math_seconds = time.monotonic() - started   # the render logs the wait
            cached["pages"].update({self.keys[docname]: page for docname, page in pages.items()})
        site.update(self.keys)
        used = {"program": self.program, "css": cached["css"],   # only what the site uses: the cache does not grow
                "pages": {key: cached["pages"][key] for key in set(site.values())}, "docs": site}
        write_whole(self.cache, json.dumps(used, sort_keys=True))
        out = Path(app.outdir)
        for docname, key in self.keys.items():
            path = out / app.builder.get_target_uri(docname)
            formulas, defs = used["pages"][key]["formulas"], used["pages"][key]["defs"]
            path.write_text(_typeset(path.read_text(encoding="utf-8"), formulas, defs), encoding="utf-8")
        fits = sorted({fit for page in used["pages"].values() for fit in page.get("fits", [])})
        (out / "_static" / MATH_CSS).write_text(used["css"] + "".join(map(FIT_RULE.format, fits)), encoding="utf-8")

    def stop(self) -> None:
        """Its run stopped, if it has one (the render has ended)."""
        if self.run is not None:
            self.run.stop()


def typeset(app, exception) -> None:
    """`build-finished`: the pages' formulas typeset (those the cache lacks, by the run that has typeset
    them while Sphinx wrote), then the placeholders replaced. A failed build stops the run."""
    typesetting = getattr(app.builder, "d2l_typesetting", None)
    if typesetting is None:
        return
    if exception is not None:
        typesetting.stop()
        return
    try:
        typesetting.finish(app)
    finally:
        typesetting.stop()


def stop(app) -> None:
    """The render's MathJax run stopped, however the render ended: Sphinx tells its extensions of an Exception
    (build-finished), never of a Ctrl-C."""
    if typesetting := getattr(app.builder, "d2l_typesetting", None):
        typesetting.stop()


def _typeset(text: str, formulas: list[str], defs: str) -> str:
    """A written page with its formulas (SVG) in place of their placeholders, and `defs` (what its formulas
    share) at the top of its body."""
    text = PLACEHOLDERS.sub(lambda m: formulas[int(m.group(1))], text)
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + defs, text, count=1)


def link_math_css(app, pagename, templatename, context, doctree) -> None:
    """`html-page-context`: the page is noted as written (`d2l_written`: math.css keeps only the other pages'
    cached rules, and bundles.py rewrites these pages); with math (its writer has just collected it), it links
    math.css."""
    app.builder.d2l_written.add(pagename)
    if app.builder.d2l_math.get(pagename):
        app.add_css_file(MATH_CSS)   # during html-page-context: for this page only
        app.builder.d2l_typesetting.written(pagename)   # after the previews' formulas (priority 400)


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
