#!/usr/bin/env node
// typeset.mjs — typeset a whole book's TeX at build time with MathJax 4 (SVG output),
// so that the published pages need no math JavaScript at all.
//
// Interface (one run per render, as a subprocess of the Python build, fed while Sphinx writes):
//
//   stdin   one page a line, as its formulas are known:
//           {"page": "<page>", "formulas": [{"tex": "...", "display": true|false}, ...]}
//   stdout  one line a page, as it is typeset (in the order of the input):
//           {"page": "<page>", "formulas": ["<html>", ...], "fits": [<ex>, ...], "defs": "<html>"}
//           then, once stdin has ended, one last line {"css": "..."}.
//           formulas[i] is the HTML for the i-th input formula of that page (one
//           <mjx-container> element). A display formula wider than NARROW_EX is drawn twice in
//           it: as it is, and broken into lines by MathJax 4 to NARROW_EX (<svg class="d2l-narrow">);
//           its container has class d2l-fit-<n>, n its unbroken width in ex (rounded up), listed in
//           `fits`: the style sheet shows the broken drawing where the unbroken one does not fit
//           (bookbuild/render/typeset_math.py writes those container queries). defs is an inline,
//           hidden <svg> holding the glyph
//           shapes that page's formulas <use> (put it once anywhere in the page body), or ""
//           for a page without math; css is the style sheet for the whole site.
//   exit 0  on success.
//   exit 1  on the first TeX error; stderr holds one JSON
//           document {"page": ..., "index": ..., "tex": ..., "error": "<TeX error message>"}
//           (index is 0-based within the page's list) so the caller can point at the source.
//   exit 2  on unusable input (not JSON / wrong shape); stderr holds {"error": "..."}.
//
// Each page is typeset in a MathJax document of its own, so what a page becomes does not depend
// on the pages sent before it.
//
// The settings were measured against the alternatives (font cache local/none, an aria-label
// instead of MathML, fewer packages) when this was written: one font cache per page (its glyph
// shapes are sent once, in `defs`), MathJax's assistive MathML for screen readers, and "slim"
// output without the attributes only MathJax's own browser JavaScript reads.
//
// @mathjax/src and its font are loaded from NODE_MODULES: the build installs them, pinned by
// package-lock.json, into .envs/mathjax/node_modules (ES modules do not look at NODE_PATH).

import {join} from 'node:path';
import {createInterface} from 'node:readline';
import {pathToFileURL} from 'node:url';

const MODULES = process.env.NODE_MODULES || join(process.cwd(), 'node_modules');
const module = (path) => import(pathToFileURL(join(MODULES, '@mathjax', path)).href);
const load = (path) => module(join('src', 'mjs', path));
const {mathjax} = await load('mathjax.js');
await load('util/asyncLoad/esm.js');   // the font's glyph ranges are loaded as formulas need them
const {TeX} = await load('input/tex.js');
const {SVG} = await load('output/svg.js');
const {liteAdaptor} = await load('adaptors/liteAdaptor.js');
const {RegisterHTMLHandler} = await load('handlers/html.js');
const {AssistiveMmlHandler} = await load('a11y/assistive-mml.js');
const {MathJaxNewcmFont} = await module('mathjax-newcm-font/mjs/svg.js');

// The TeX packages of MathJax 3's AllPackages (MathJax 4 has no such list), each by its
// configuration module, but 'noerrors' and 'noundefined': with them MathJax would quietly
// render a bad formula (as its source, or an unknown macro in red) instead of reporting it.
// ('require' and 'autoload' need the browser's component loader: not here.)
const PACKAGE_MODULES = {
  base: 'base/BaseConfiguration', action: 'action/ActionConfiguration', ams: 'ams/AmsConfiguration',
  amscd: 'amscd/AmsCdConfiguration', bbox: 'bbox/BboxConfiguration', boldsymbol: 'boldsymbol/BoldsymbolConfiguration',
  braket: 'braket/BraketConfiguration', bussproofs: 'bussproofs/BussproofsConfiguration',
  cancel: 'cancel/CancelConfiguration', cases: 'cases/CasesConfiguration', centernot: 'centernot/CenternotConfiguration',
  color: 'color/ColorConfiguration', colortbl: 'colortbl/ColortblConfiguration', empheq: 'empheq/EmpheqConfiguration',
  enclose: 'enclose/EncloseConfiguration', extpfeil: 'extpfeil/ExtpfeilConfiguration',
  gensymb: 'gensymb/GensymbConfiguration', html: 'html/HtmlConfiguration', mathtools: 'mathtools/MathtoolsConfiguration',
  mhchem: 'mhchem/MhchemConfiguration', newcommand: 'newcommand/NewcommandConfiguration',
  physics: 'physics/PhysicsConfiguration', upgreek: 'upgreek/UpgreekConfiguration', unicode: 'unicode/UnicodeConfiguration',
  verb: 'verb/VerbConfiguration', configmacros: 'configmacros/ConfigMacrosConfiguration',
  tagformat: 'tagformat/TagFormatConfiguration', textcomp: 'textcomp/TextcompConfiguration',
  textmacros: 'textmacros/TextMacrosConfiguration',
};
for (const path of Object.values(PACKAGE_MODULES)) await load(`input/tex/${path}.js`);
const PACKAGES = Object.keys(PACKAGE_MODULES);

// A phone's column beside an equation's number (360 px less the page's margins and the number):
// a display formula wider than this is also drawn broken into lines of at most this width.
const NARROW_EX = 30;
const EX_PX = 8, EM_PX = 16;   // the metrics MathJax lays out with (the browser scales by the real ex)

// Extra CSS for the static output, appended to MathJax's own style sheet.
const EXTRA_CSS = `
/* typeset.mjs: display math is a block that scrolls sideways inside its own box when it is
   wider than the column (phones); it does not widen the page. It is a new block formatting
   context, so it also sits beside Sphinx's floated span.eqno instead of running under it. */
mjx-container[jax="SVG"][display="true"] {
  overflow-x: auto;
  overflow-y: hidden;
  max-width: 100%;
  padding: 1px 0;
}
/* A formula drawn twice (as it is, and broken into lines): its box is a size container, and the
   broken drawing shows only where the whole one does not fit (the d2l-fit-<n> rules). */
mjx-container[jax="SVG"][display="true"][class~="d2l-broken"] { container-type: inline-size; }
mjx-container[jax="SVG"] > svg.d2l-narrow { display: none; }
/* The visually hidden MathML must not make that box scroll vertically: fit it to the box. */
mjx-container[jax="SVG"][display="true"] > mjx-assistive-mml { bottom: 0; }
`;

// ---------------------------------------------------------------------------------------
// MathJax set-up
// ---------------------------------------------------------------------------------------

// A DOM-less adaptor: MathJax builds its output as a light-weight tree we serialise.
const adaptor = liteAdaptor();
const handler = RegisterHTMLHandler(adaptor);
// Assistive MathML: every formula also carries a visually hidden <mjx-assistive-mml><math>
// copy that screen readers read (and the svg gets aria-hidden="true").
AssistiveMmlHandler(handler);

// The TeX error of the formula being converted (formatError is called instead of throwing).
let texError = null;

/**
 * One MathJax document (and fresh input/output jax) per page: each page starts, like a page
 * loaded in the browser, with no \newcommand definitions from other pages and an empty
 * global font cache, so the page's <defs> hold exactly the glyphs that page uses.
 */
function newDocument() {
  const tex = new TeX({
    packages: PACKAGES,
    // Keep MathJax's merror node (so output is well-formed) but remember the message.
    formatError(jax, err) {
      texError = texError || err.message;
      return jax.formatError(err);
    },
  });
  const svg = new SVG({
    fontCache: 'global',
    fontData: MathJaxNewcmFont,
    displayOverflow: 'linebreak',
    linebreaks: {inline: false, width: '100%'},   // in-line formulas stay whole, as in MathJax 3
  });
  const html = mathjax.document('', {InputJax: tex, OutputJax: svg});
  return {tex, svg, html};
}

// ---------------------------------------------------------------------------------------
// Post-processing of one formula's container
// ---------------------------------------------------------------------------------------

// Slimming. MathJax's SVG carries attributes that only its in-browser JavaScript (menu,
// explorer, re-rendering) reads: data-mml-node on every <g>, data-c on every glyph <use>,
// data-mjx-texclass, and xmlns attributes (not needed for SVG/MathML inline in HTML). We ship
// no MathJax JS, so they are dropped, except the data-mml-node values MathJax's style sheet
// selects on (read from the sheet itself: merror, mtable, maction in 3.2.2). A <g> left
// without attributes is then a no-op and is replaced by its children (unless its parent is
// one of those styled nodes, whose CSS uses "> g > ..." selectors).
const MATHJAX_CSS = (() => {
  const {svg, html} = newDocument();
  return adaptor.textContent(svg.styleSheet(html));
})();
const STYLED_NODES = new Set([...MATHJAX_CSS.matchAll(/data-mml-node="([^"]+)"/g)].map((m) => m[1]));

function slim(node) {
  if (adaptor.kind(node) === '#text' || adaptor.kind(node) === '#comment') return;
  const kind = adaptor.kind(node);
  for (const name of ['xmlns', 'xmlns:xlink', 'data-mjx-texclass', 'data-latex', 'data-latex-item', 'data-semantic-type']) {
    adaptor.removeAttribute(node, name);
  }
  const mml = adaptor.getAttribute(node, 'data-mml-node');
  if (mml && !STYLED_NODES.has(mml)) adaptor.removeAttribute(node, 'data-mml-node');
  if (kind === 'use') adaptor.removeAttribute(node, 'data-c');   // CSS rule rewritten below
  for (const child of [...adaptor.childNodes(node)]) slim(child);
  const parent = adaptor.parent(node);
  if (kind === 'g' && adaptor.allAttributes(node).length === 0 && parent
      && !STYLED_NODES.has(adaptor.getAttribute(parent, 'data-mml-node'))) {
    for (const child of [...adaptor.childNodes(node)]) adaptor.insert(child, node);
    adaptor.remove(node);
  }
}

// MathJax strokes glyphs (3/1000 em) through `use[data-c]`; without data-c say `use`
// (every <use> in MathJax's SVG is a glyph from the font cache).
const slimCss = (css) => css.replace(
  'mjx-container[jax="SVG"] use[data-c]', 'mjx-container[jax="SVG"] use');

const widthEx = (node) => parseFloat(adaptor.getAttribute(adaptor.firstChild(node), 'width'));

// `broken`: broken into lines to the phone's width, else to 80em (no page is that wide): the same
// output jax draws both (so one glyph cache serves them), and every formula sets its own width.
async function convert({html}, tex, display, broken) {
  const containerWidth = broken ? NARROW_EX * EX_PX : 80 * EM_PX;
  texError = null;
  const node = await mathjax.handleRetriesFor(() => html.convert(tex, {display, em: EM_PX, ex: EX_PX, containerWidth}));
  // Belt and braces: some packages build merror nodes without a TexError (formatError).
  if (texError || adaptor.outerHTML(node).includes('data-mml-node="merror"')) {
    const merror = adaptor.outerHTML(node).match(/data-mjx-error="([^"]*)"/);
    throw {error: texError || (merror ? merror[1] : 'MathJax produced an error node')};
  }
  return node;
}

// MathJax breaks lines within a row, not a table's cell: an aligned environment of one row and no
// alignment (a writer's habit, as in `\begin{aligned} v = ... = ... \end{aligned}`) looks the same
// as its row alone, which can break.
const ONE_ROW = /^\s*\\begin\{(aligned|split|gathered)\}((?:(?!\\\\|&)[\s\S])*)\\end\{\1\}\s*$/;
const oneRow = (tex) => tex.replace(ONE_ROW, '$2');

/** Typeset one formula; returns [its HTML, the width in ex above which it is drawn whole, or null]
 *  or throws {error} on a TeX error. */
async function typesetOne(doc, tex, display) {
  const node = await convert(doc, tex, display, false);
  let fit = null;
  if (display && widthEx(node) > NARROW_EX) {
    const broken = await convert(doc, oneRow(tex), display, true);
    if (widthEx(broken) < widthEx(node)) {   // it could break
      fit = Math.ceil(widthEx(node));
      const drawing = adaptor.firstChild(broken);
      adaptor.setAttribute(drawing, 'class', 'd2l-narrow');
      adaptor.insert(drawing, adaptor.next(adaptor.firstChild(node)));
      adaptor.setAttribute(node, 'class', `${adaptor.getAttribute(node, 'class')} d2l-broken d2l-fit-${fit}`);
    }
  }
  adaptor.removeAttribute(node, 'overflow');
  slim(node);
  return [adaptor.outerHTML(node), fit];
}

// ---------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------

function fail(code, obj) {
  process.stderr.write(JSON.stringify(obj) + '\n');
  process.exit(code);
}

/** Typeset one page's formulas in a document of its own: {formulas, fits, defs}. */
async function typesetPage(page, formulas) {
  const doc = newDocument();
  const out = [], fits = new Set();
  for (const [index, f] of formulas.entries()) {
    if (!f || typeof f.tex !== 'string') {
      fail(2, {error: `formula ${index} of page ${JSON.stringify(page)} has no "tex" string`});
    }
    try {
      const [formula, fit] = await typesetOne(doc, f.tex, Boolean(f.display));
      out.push(formula);
      if (fit) fits.add(fit);
    } catch (e) {
      if (e && e.error !== undefined) fail(1, {page, index, tex: f.tex, error: e.error});
      throw e;
    }
  }
  // The page's shared glyphs: <svg id="MJX-SVG-global-cache" style="display:none"><defs>…
  let defs = '';
  if (out.length) {
    const cache = doc.svg.pageElements(doc.html);
    slim(cache);
    defs = adaptor.outerHTML(cache);
  }
  return {formulas: out, fits: [...fits].sort((a, b) => a - b), defs};
}

async function main() {
  // Lines that arrive while a page is typeset wait in the interface's queue.
  for await (const line of createInterface({input: process.stdin, crlfDelay: Infinity})) {
    if (!line.trim()) continue;
    let request;
    try {
      request = JSON.parse(line);
    } catch (e) {
      fail(2, {error: `a line of stdin is not JSON: ${e.message}`});
    }
    if (!request || typeof request.page !== 'string' || !Array.isArray(request.formulas)) {
      fail(2, {error: 'expected one {"page": "<page>", "formulas": [{"tex": ..., "display": ...}, ...]} a line'});
    }
    const {page, formulas} = request;
    process.stdout.write(JSON.stringify({page, ...await typesetPage(page, formulas)}) + '\n');
  }
  // The style sheet does not depend on the formulas (MathJax emits the rules of every
  // wrapper class), so it was read once, at start-up, for the whole site.
  process.stdout.write(JSON.stringify({css: slimCss(MATHJAX_CSS) + EXTRA_CSS}) + '\n');
}

main().catch((e) => fail(2, {error: String(e && e.stack || e)}));
