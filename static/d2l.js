// The reader's framework, on every page and every visit. The early part (bookbuild/page_tools.py,
// inline in <head>) has already read ?tab= (any case; an unknown value is ignored, not saved)
// or the saved choice, and hidden the other frameworks' panels before the first paint. Here,
// once the page is parsed: every tab group and the chooser under the title show that choice;
// a click on a tab or on the chooser sets every group and is remembered. sphinx-tabs does the
// switching itself (selectNamedTabs).
(function () {
  "use strict";
  const KEY = "d2l-tab";
  const early = window.d2lTab || {};

  function store(name) {
    try { window.localStorage.setItem(KEY, name); } catch (e) { /* private mode: no memory */ }
  }

  function choose(name) {
    const tab = document.querySelector(`.d2l-tabs .sphinx-tabs-tab[data-d2l-tab="${CSS.escape(name)}"]`);
    if (tab && typeof selectNamedTabs === "function") selectNamedTabs(tab.getAttribute("name"));
    for (const button of document.querySelectorAll("[data-d2l-choose]")) {
      button.setAttribute("aria-pressed", String(button.dataset.d2lChoose === name));
    }
    document.documentElement.dataset.d2lTab = name;
    const hiding = document.getElementById("d2l-tab-early");
    if (hiding) hiding.remove();   // from now on sphinx-tabs' own `hidden` attributes decide
  }

  // sphinx-copybutton's messages have no Turkish: give them, before it adds its buttons.
  if (typeof messages === "object" && messages && !messages.tr) {
    messages.tr = { copy: "Kopyala", copy_to_clipboard: "Panoya kopyala", copy_success: "Kopyalandı!",
                    copy_failure: "Kopyalanamadı" };
    if (document.documentElement.lang === "tr" && typeof locale !== "undefined") locale = "tr";
  }

  // A scrolling box (wide code or display math on a phone) must be reachable by keyboard:
  // it becomes a named region in the tab order while (and only while) it scrolls.
  function focusableWhenScrolling() {
    const boxes = document.querySelectorAll('div.highlight pre, div.cell_output pre, div.math > mjx-container[display="true"]');
    let code = 0;
    for (const box of boxes) {
      const isMath = box.tagName.toLowerCase() === "mjx-container";
      const number = isMath ? (box.parentElement.querySelector(".eqno") || {}).textContent : String(++code);
      if (box.scrollWidth > box.clientWidth + 1) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", isMath ? `Denklem ${(number || "").replace(/[^\d.()]/g, "")}, yana kaydırılabilir`
                                              : `Kod ${number}, yana kaydırılabilir`);
      } else if (box.getAttribute("role") === "region") {
        for (const name of ["tabindex", "role", "aria-label"]) box.removeAttribute(name);
      }
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    // After sphinx-tabs' own DOMContentLoaded handler, which wires the tabs up.
    const chooser = document.querySelector(".d2l-chooser");
    if (chooser) chooser.hidden = false;
    const names = [...document.querySelectorAll(".d2l-tabs .sphinx-tabs-tab[data-d2l-tab]")].map((t) => t.dataset.d2lTab);
    const wanted = early.chosen && names.includes(early.chosen) ? early.chosen : names[0];
    if (wanted) choose(wanted);
    document.addEventListener("click", (event) => {
      const target = event.target.closest && event.target.closest("[data-d2l-choose], .sphinx-tabs-tab[data-d2l-tab]");
      if (!target || !event.isTrusted) return;
      const name = target.dataset.d2lChoose || target.dataset.d2lTab;
      choose(name);
      store(name);
    });
    focusableWhenScrolling();
    window.addEventListener("resize", focusableWhenScrolling);
  });
})();
