// The book's search ranking (conf.py `html_search_scorer`: Sphinx puts this in language_data.js, which
// loads after searchtools.js has made its Scorer). Sphinx scores a page by where a word of the query is:
// its title (Scorer.title), else its text (Scorer.term), and lists equal scores by title: a page with the
// word in a section heading came after any other page that only mentioned it. Here a heading ranks
// between the two: title, then headings, then text.
(function () {
  "use strict";
  if (typeof Scorer !== "object") return;
  Scorer.heading = Scorer.title - 1;
  const stemmer = typeof Stemmer === "function" ? new Stemmer() : { stemWord: (w) => w };
  const fold = (word) => (typeof asciiFold === "function" ? asciiFold(word) : word.toLowerCase());
  const stems = (text) => splitQuery(text).map((word) => stemmer.stemWord(fold(word))).filter((s) => s.length > 1);
  let query = null, queried = [], headings = null;   // worked out once per query and index
  Scorer.score = (result) => {
    const [docname, , , , score, , kind] = result;
    const index = typeof Search === "object" && Search._index;
    if (kind !== SearchResultKind.text || !index) return score;
    const asked = new URLSearchParams(window.location.search).get("q") || "";
    if (asked !== query) { query = asked; queried = stems(asked); }
    if (!headings) {   // each page's heading stems
      headings = new Map();
      for (const [heading, places] of Object.entries(index.alltitles)) {
        for (const [file] of places) headings.set(file, [...(headings.get(file) || []), ...stems(heading)]);
      }
    }
    const own = headings.get(index.docnames.indexOf(docname)) || [];
    return queried.some((word) => own.some((stem) => stem.startsWith(word) || word.startsWith(stem)))
      ? Math.max(score, Scorer.heading) : score;
  };
})();
