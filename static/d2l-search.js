// The search page's touches on Sphinx's searchtools.js (templates/search.html loads this after it):
// * result snippets leave out page chrome: what carries Sphinx's `no-search` class (tab bars, the
//   framework chooser, downloads, an interactive figure's still), which Sphinx's index leaves out
//   too; and each formula reads as linear text from its MathML, g_{t, t−1}, not as its letters
//   run together ("gt,t−1");
// * ASCII-folded matching on top of the Turkish one (bookbuild/render/turkish.py indexes each word with a
//   Turkish letter once more, folded: FOLDED_TERM, asciiFold in language_data.js): "disbukey"
//   finds dışbükey and "IVME" finds ivme. What only the folded form finds comes after the exact
//   matches.
(function () {
  "use strict";
  if (typeof Search === "undefined" || typeof asciiFold !== "function") return;

  // --- snippets ------------------------------------------------------------------------------
  const SPACED = new Set(["=", "+", "−", "-", "←", "→", "≤", "≥", "<", ">", "≈", "∈", "×", "⋅", "·", "±", "≠", ":="]);
  const braced = (text) => (text.length > 1 ? `{${text}}` : text);

  // MathML as linear, TeX-like text: x_{t−1}, β^τ, (1)/(1 − β), √(x).
  function linear(node) {
    const parts = [...node.children].map(linear);
    switch (node.localName) {
      case "mi": case "mn": case "mtext": return node.textContent;
      case "mo": {
        const op = node.textContent.trim();
        return SPACED.has(op) ? ` ${op} ` : op === "," ? ", " : op;
      }
      case "mspace": return " ";
      case "msub": return `${parts[0]}_${braced(parts[1])}`;
      case "munder": return `${parts[0]}_${braced(parts[1])} `;
      case "msup": return `${parts[0]}^${braced(parts[1])}`;
      case "mover": return node.getAttribute("accent") === "true" ? parts.join("") : `${parts[0]}^${braced(parts[1])}`;
      case "msubsup": case "munderover": return `${parts[0]}_${braced(parts[1])}^${braced(parts[2])} `;
      case "mfrac": return ` ${parts[0].length > 1 ? `(${parts[0]})` : parts[0]}/${parts[1].length > 1 ? `(${parts[1]})` : parts[1]} `;
      case "msqrt": return `√(${parts.join("")})`;
      case "mroot": return `√[${parts[1]}](${parts[0]})`;
      case "mtr": return parts.join(" ");
      case "mtable": return parts.join("; ");
      default: return parts.join("");
    }
  }

  const htmlToText = Search.htmlToText;
  Search.htmlToText = (htmlString, anchor) => {
    const page = new DOMParser().parseFromString(htmlString, "text/html");
    page.querySelectorAll(".no-search").forEach((chrome) => chrome.remove());
    page.querySelectorAll("mjx-container").forEach((formula) => {
      const math = formula.querySelector("mjx-assistive-mml math");
      const text = math ? linear(math).replace(/\s+/g, " ").trim() : "";
      formula.replaceWith(formula.getAttribute("display") === "true" ? ` ${text} ` : text);
    });
    return htmlToText(page.documentElement.outerHTML, anchor);
  };

  // As Sphinx's makeSearchSummary, on the folded text (folding keeps every position), so that a
  // folded match is found and shown too; the words that match are highlighted.
  const foldText = (text) => text.replace(/./gsu, (c) => { const f = asciiFold(c); return f.length === c.length ? f : c; });
  Search.makeSearchSummary = (htmlText, keywords, anchor) => {
    const text = Search.htmlToText(htmlText, anchor).replace(/\s+/g, " ");
    if (text.trim() === "") return null;
    const stems = [...keywords].map(asciiFold);
    const at = stems.map((stem) => foldText(text).indexOf(stem)).filter((i) => i > -1).slice(-1)[0] || 0;
    const start = Math.max(at - 120, 0);
    const shown = (start ? "..." : "") + text.substr(start, 240).trim() + (start + 240 < text.length ? "..." : "");
    const summary = document.createElement("p");
    summary.classList.add("context");
    for (const piece of shown.split(/(\p{L}+)/u)) {
      if (piece && stems.some((stem) => foldText(piece).startsWith(stem))) {
        summary.appendChild(document.createElement("span")).append(piece);
        summary.lastChild.className = "highlighted";
      } else {
        summary.append(piece);
      }
    }
    return summary;
  };

  // --- ASCII-folded matching -------------------------------------------------------------------
  const stemmer = new Stemmer();
  const filesOf = (terms, key) => {
    const files = Object.prototype.hasOwnProperty.call(terms, key) ? terms[key] : [];
    return Array.isArray(files) ? files : [files];   // Sphinx writes a lone file as a number
  };

  // [docname, title, anchor, descr, score, filename, kind] of each page that has every word of
  // the query, folded: in its text (Scorer.term) or its title (Scorer.title).
  function foldedResults(query) {
    const index = Search._index;
    const words = splitQuery(query).filter((word) => !stopwords.has(word) && !/^\d+$/.test(word));
    let found = null;
    for (const word of words) {
      const stem = stemmer.stemWord(asciiFold(word));
      const scores = new Map();
      for (const [terms, score] of [[index.terms, Scorer.term], [index.titleterms, Scorer.title]]) {
        for (const file of [...filesOf(terms, FOLDED_TERM + stem), ...filesOf(terms, stem)]) {
          scores.set(file, Math.max(scores.get(file) || 0, score));
        }
      }
      found = found === null ? scores
        : new Map([...found].filter(([file]) => scores.has(file)).map(([file, s]) => [file, Math.max(s, scores.get(file))]));
    }
    return [...(found || [])].map(([file, score]) =>
      [index.docnames[file], index.titles[file], "", null, score, index.filenames[file], SearchResultKind.text]);
  }

  // Sphinx lists results from the end of this array: the folded ones go first, to be listed last.
  const performSearch = Search._performSearch;
  Search._performSearch = (query, ...terms) => {
    const exact = performSearch(query, ...terms);
    const listed = new Set(exact.map((result) => result[0]));
    const folded = foldedResults(query).filter((result) => !listed.has(result[0]))
      .sort((a, b) => a[4] - b[4] || (a[1] < b[1] ? 1 : -1));
    return [...folded, ...exact];
  };
})();
