// Remember the reader's framework across pages and visits (localStorage), and let
// a link choose it (?tab=pytorch). sphinx-tabs does the switching itself: clicking
// one tab selects the same framework in every tab group of the page.
(function () {
  const KEY = "d2l-tab";
  function store(name) {
    try { window.localStorage.setItem(KEY, name); } catch (e) { /* private mode: no memory */ }
  }
  function remembered() {
    try { return window.localStorage.getItem(KEY); } catch (e) { return null; }
  }
  document.addEventListener("click", (event) => {
    const tab = event.target.closest && event.target.closest(".sphinx-tabs-tab[data-d2l-tab]");
    if (tab && event.isTrusted) store(tab.dataset.d2lTab);
  }, true);
  window.addEventListener("DOMContentLoaded", () => {
    // After sphinx-tabs' own DOMContentLoaded handler, which wires the tabs up.
    setTimeout(() => {
      const fromUrl = new URLSearchParams(window.location.search).get("tab");
      if (fromUrl) store(fromUrl);
      const wanted = fromUrl || remembered();
      if (!wanted) return;
      const tab = document.querySelector(`.sphinx-tabs-tab[data-d2l-tab="${CSS.escape(wanted)}"]`);
      if (tab && tab.getAttribute("aria-selected") !== "true") tab.click();
    }, 0);
  });
})();
