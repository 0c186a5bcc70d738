// The site's behaviour on top of Furo, sphinx-tabs and sphinx-copybutton (every page, deferred).
// * One framework choice: the head's early script (bookbuild/render/page_tools.py) chose it and hid the
//   other panels; here every group and the chooser show it, and a click sets, remembers (only
//   here: sphinx-tabs' sessionStorage copy goes) and puts it in ?tab= if the address has one. A
//   choice made in another window, or while the page sat in the back/forward cache, is followed.
// * Keyboard (WAI-ARIA): tabs with Home/End (sphinx-tabs: arrows), one stop per tab bar, a panel a
//   stop only when nothing in it is; Furo's drawers as named buttons, modal while open, inert while
//   closed; boxes that scroll sideways reachable.
// * Names: Furo's English through the catalog (Sphinx's translations.js), Turkish copy buttons,
//   landmarks, the phone header's search button (templates/page.html).
(function () {
  "use strict";
  const KEY = "d2l-tab", SPHINX_TABS_KEY = "sphinx-tabs-last-selected";
  const COPY = "Kopyala", CLOSE = "Kapat";
  const FOCUSABLE = 'a[href], button:not([disabled]), input:not([type="hidden"]):not([disabled]), select, textarea, ' +
                    '[tabindex]:not([tabindex="-1"])';
  const early = window.d2lTab || {};
  const _ = (text) => (typeof Documentation === "object" && Documentation.gettext ? Documentation.gettext(text) : text);

  // --- one framework choice ---
  const frameworks = () => [...new Set([...document.querySelectorAll("[data-d2l-choose]")].map((b) => b.dataset.d2lChoose))];

  function remember(name) {
    try {
      window.localStorage.setItem(KEY, name);
      window.sessionStorage.removeItem(SPHINX_TABS_KEY);
    } catch (e) { /* private mode: no memory */ }
  }

  function remembered() {
    try { return window.localStorage.getItem(KEY); } catch (e) { return null; }
  }

  function choose(name) {
    const tab = document.querySelector(`.d2l-tabs .sphinx-tabs-tab[data-d2l-tab="${CSS.escape(name)}"]`);
    if (tab && typeof selectNamedTabs === "function") selectNamedTabs(tab.getAttribute("name"));
    document.querySelectorAll(".d2l-tabs [role=tablist]").forEach(rove);
    for (const button of document.querySelectorAll("[data-d2l-choose]")) {
      button.setAttribute("aria-pressed", String(button.dataset.d2lChoose === name));
    }
    document.documentElement.dataset.d2lTab = name;
    const hiding = document.getElementById("d2l-tab-early");
    if (hiding) hiding.remove();   // sphinx-tabs' `hidden` attributes decide from now on
  }

  // The address shows what the page shows: a ?tab= that is there follows the reader's choice.
  function followInAddress(name) {
    const url = new URL(window.location.href);
    if (!url.searchParams.has("tab") || url.searchParams.get("tab") === name) return;
    url.searchParams.set("tab", name);
    try { window.history.replaceState(window.history.state, "", url); } catch (e) { /* sandboxed */ }
  }

  function follow(name) {
    if (!name || !frameworks().includes(name) || document.documentElement.dataset.d2lTab === name) return;
    choose(name);
    followInAddress(name);
  }

  // --- tabs by keyboard: one stop per tab bar, the selected tab ---
  function rove(list) {
    const selected = list.querySelector('[aria-selected="true"]') || list.firstElementChild;
    for (const tab of list.children) tab.tabIndex = tab === selected ? 0 : -1;
  }

  function tabKeys(list) {
    list.addEventListener("keydown", (event) => {
      if (event.key !== "Home" && event.key !== "End") return;
      event.preventDefault();
      const tabs = [...list.children], next = event.key === "Home" ? tabs[0] : tabs[tabs.length - 1];
      for (const tab of tabs) tab.tabIndex = tab === next ? 0 : -1;
      next.focus();
    });
    list.addEventListener("focusout", (event) => { if (!list.contains(event.relatedTarget)) rove(list); });
  }

  // A panel is a tab stop only if nothing in it is one (WAI-ARIA tabs pattern).
  function panelStops() {
    for (const panel of document.querySelectorAll(".d2l-tabs [role=tabpanel]")) {
      if (panel.querySelector(FOCUSABLE)) panel.removeAttribute("tabindex");
      else panel.tabIndex = 0;
    }
  }

  // A box that scrolls sideways (wide code or math on a phone) is a named tab stop while it scrolls.
  // Measured as the browser lays the boxes out or resizes them (a ResizeObserver: each box once at
  // the start, a hidden framework's when it is shown), never forcing a layout; each box's name is
  // worked out once.
  const BOXES = 'div.highlight pre, div.cell_output pre, div.math > mjx-container[display="true"]';
  function watchBoxes() {
    // The arrow keys scroll a focused box: the page's "next/previous page" keys (Furo's
    // navigation_with_keys, Sphinx's doctools.js, listening on the document) never hear them there.
    document.addEventListener("keydown", (event) => {
      if ((event.key === "ArrowLeft" || event.key === "ArrowRight") && event.target.closest &&
          event.target.closest(`:is(${BOXES})[role=region]`)) event.stopPropagation();
    }, true);
    const named = boxNames(document.querySelectorAll(BOXES));
    if (!window.ResizeObserver) return scrollingBoxes([...named.keys()], named);
    const observer = new ResizeObserver((entries) => scrollingBoxes(entries.map((entry) => entry.target), named));
    named.forEach((_name, box) => observer.observe(box));
  }

  // Each box's name, numbered as a reader of one framework meets them: "Kod 3", "Denklem (11.6.2)".
  function boxNames(boxes) {
    // A framework's boxes are counted on their own; a page without a chooser (only d2lbook's text tabs,
    // `:begin_tab:`) still has framework panels.
    const names = frameworks().length ? frameworks() : [""], counted = {};
    const named = new Map();
    for (const box of boxes) {
      const isMath = box.tagName.toLowerCase() === "mjx-container";
      const panel = box.closest(".sphinx-tabs-panel[data-d2l-tab]"), framework = panel ? panel.dataset.d2lTab : null;
      const kind = isMath ? "" : box.closest(".cell_output") ? "Çıktı" : "Kod";
      if (kind) (framework ? [framework] : names).forEach((n) => {
        const each = (counted[n] ||= {});
        each[kind] = (each[kind] || 0) + 1;
      });
      const number = isMath ? (box.parentElement.querySelector(".eqno") || {}).textContent
                            : String(counted[framework || names[0]][kind]);
      named.set(box, isMath ? `Denklem ${(number || "").replace(/[^\d.()]/g, "")}, yana kaydırılabilir`
                            : `${kind} ${number}, yana kaydırılabilir`);
    }
    return named;
  }

  function scrollingBoxes(boxes, named) {
    // Every box measured before any is changed: one layout, not one per box.
    const scrolling = boxes.map((box) => box.scrollWidth > box.clientWidth + 1);
    let changed = false;
    for (const [i, box] of boxes.entries()) {
      const scrolls = scrolling[i];
      if (scrolls === (box.getAttribute("role") === "region")) continue;
      changed = true;
      if (scrolls) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", named.get(box));
      } else {
        for (const name of ["tabindex", "role", "aria-label"]) box.removeAttribute(name);
      }
    }
    if (changed) panelStops();
  }

  // --- Furo: names ---
  function nameFuro() {
    // (the sidebar's expanders are named in Turkish at build time: bookbuild/render/furo.py)
    for (const element of document.querySelectorAll("[aria-label]")) {
      const label = element.getAttribute("aria-label");
      if (_(label) !== label) element.setAttribute("aria-label", _(label));
    }
    for (const title of document.querySelectorAll("svg symbol > title")) {
      if (_(title.textContent) !== title.textContent) title.textContent = _(title.textContent);   // no needless relayout
    }
    const regions = [[".sidebar-drawer", "Table of Contents"], [".toc-drawer", "On this page"]];
    for (const [selector, name] of regions) {
      const region = document.querySelector(selector);
      if (region) region.setAttribute("aria-label", _(name));
    }
    // The phone header names the page, as the published edition's does, and takes the reader to its top.
    const brand = document.querySelector(".mobile-header .header-center a"), title = document.querySelector("article[role=main] h1");
    const named = title && title.cloneNode(true);
    if (named) named.querySelectorAll(".headerlink").forEach((link) => link.remove());
    if (brand && named && brand.querySelector(".brand") && new URL(brand.href).pathname !== window.location.pathname) {
      brand.querySelector(".brand").textContent = named.textContent.trim();
      brand.href = "#";
    }
    // Search from the top of a phone's page, not only from inside the closed drawer.
    const search = document.getElementById("d2l-header-search");
    const header = document.querySelector(".mobile-header .header-right");
    if (search && header && !header.querySelector(".d2l-header-search")) header.prepend(search.content.cloneNode(true));
  }

  // --- Furo's theme toggle says which scheme is on (Furo: <body data-theme>, changed by its click) ---
  const SCHEMES = { auto: "sistemin ayarı", light: "açık", dark: "koyu" };
  function nameThemeToggle() {
    const buttons = document.querySelectorAll(".theme-toggle");
    const name = () => `Renk teması: ${SCHEMES[document.body.dataset.theme] || SCHEMES.auto}. Değiştir`;
    const set = () => buttons.forEach((button) => { button.setAttribute("aria-label", name()); button.title = name(); });
    set();
    new MutationObserver(set).observe(document.body, { attributes: true, attributeFilter: ["data-theme"] });
  }

  // --- Furo: drawers and expanders (a hidden checkbox, <label for>s), by keyboard ---
  // Each label becomes a button named as its checkbox, expanded as it is checked (a <label> may
  // not take a button's role). Without scripts the labels stay, and work by pointer.
  // [checkbox, drawer, where its close button goes]
  const DRAWERS = [["__navigation", ".sidebar-drawer", ".sidebar-sticky"], ["__toc", ".toc-drawer", ".toc-sticky"]];

  // The widths at which Furo makes a sidebar a drawer: the media query of furo.css's rule that fixes it
  // to the side of the screen, read from the page's style sheets (they hold before a deferred script runs;
  // furo.css is in a bundle of them, render/bundles.py), so that an upgrade of Furo moves them here too.
  function drawerQuery(selector) {
    for (const sheet of document.styleSheets) {
      for (const rule of sheet.cssRules) {
        if (rule instanceof CSSMediaRule && [...rule.cssRules].some((inner) => inner.style && inner.style.position === "fixed"
            && inner.selectorText.split(",").some((s) => s.trim() === selector))) return rule.media.mediaText;
      }
    }
    console.error(`d2l.js: furo.css no longer makes ${selector} a drawer by a media query`);
    return "not all";
  }
  const drawers = [];
  let modal = [];   // what a drawer that is open made inert

  function asButtons() {
    for (const label of document.querySelectorAll("label[for]:not(.overlay)")) {
      const box = document.getElementById(label.htmlFor);
      if (!box || box.type !== "checkbox") continue;
      const button = document.createElement("button");
      button.type = "button";
      button.className = `${label.className} d2l-toggle`.trim();
      button.dataset.for = box.id;
      button.append(...label.childNodes);
      button.setAttribute("aria-label", box.getAttribute("aria-label") || "");
      button.setAttribute("aria-expanded", String(box.checked));
      button.addEventListener("click", () => { button.dataset.d2lOpener = ""; box.click(); });
      box.addEventListener("change", () => button.setAttribute("aria-expanded", String(box.checked)));
      label.replaceWith(button);
    }
  }

  function setUpDrawers() {
    for (const [boxId, selector, top] of DRAWERS) {
      const box = document.getElementById(boxId), drawer = document.querySelector(selector);
      if (!box || !drawer) continue;
      drawer.id = drawer.id || `d2l-${boxId.replace(/_/g, "")}`;
      const openers = [...document.querySelectorAll(`button[data-for="${boxId}"]`)];
      openers.forEach((opener) => opener.setAttribute("aria-controls", drawer.id));
      const bar = document.createElement("div");
      bar.className = "d2l-drawer-bar";
      bar.innerHTML = `<button type="button" class="d2l-drawer-close"><span aria-hidden="true">✕</span> ${CLOSE}</button>`;
      bar.firstChild.addEventListener("click", () => close(entry));
      (drawer.querySelector(top) || drawer).prepend(bar);
      const entry = { box, drawer, openers, bar, narrow: window.matchMedia(drawerQuery(selector)) };
      entry.narrow.addEventListener("change", () => update(null));
      drawers.push(entry);
      box.addEventListener("change", () => update(entry));
      // Following a link in an open drawer (a heading of this page) shuts it; focus goes with the link.
      drawer.addEventListener("click", (event) => {
        if (!event.target.closest("a[href]") || !isDrawer(entry) || !box.checked) return;
        entry.followed = true;
        box.checked = false;
        box.dispatchEvent(new Event("change"));
      });
    }
    document.addEventListener("keydown", (event) => {
      const open = drawers.find((d) => d.box.checked && isDrawer(d));
      if (event.key === "Escape" && open) close(open);
    });
    window.addEventListener("pageshow", () => update(null));   // a checkbox the browser restored
    update(null);
  }

  const isDrawer = (entry) => entry.narrow.matches;   // no style read: nothing forces a layout

  function close(entry) {
    if (entry.box.checked) entry.box.click();
  }

  // A closed drawer is inert; an open one is modal (the rest is inert). `changed`: the drawer that
  // just opened or closed: focus moves into it, or back to its opener.
  function update(changed) {
    for (const element of modal) element.inert = false;
    modal = [];
    for (const entry of drawers) {
      const drawer = isDrawer(entry), open = drawer && entry.box.checked;
      entry.drawer.inert = drawer && !entry.box.checked;
      entry.bar.hidden = !drawer;
      if (open) {
        for (let node = entry.drawer; node.parentElement; node = node.parentElement) {
          for (const sibling of node.parentElement.children) {
            if (sibling !== node && !sibling.inert && !sibling.matches("label.overlay, script, style, template")) {
              sibling.inert = true;
              modal.push(sibling);
            }
          }
        }
      }
      if (entry !== changed) continue;
      if (open) {
        entry.bar.querySelector("button").focus({ preventScroll: true });
      } else if (!entry.followed && (entry.drawer.contains(document.activeElement) || document.activeElement === document.body)) {
        const opener = entry.openers.find((o) => "d2lOpener" in o.dataset && o.offsetParent)
          || entry.openers.find((o) => o.offsetParent);
        if (opener) opener.focus({ preventScroll: true });
      }
      entry.openers.forEach((opener) => delete opener.dataset.d2lOpener);
      entry.followed = false;
    }
  }

  // An icon in a control that has a name of its own adds nothing to it ("Sonraki … Genişlet"):
  // Chromium reads a <symbol>'s title through <use> even in an aria-hidden <svg>, so a title whose
  // every use is such an icon goes.
  function quietIcons() {
    const named = (control) => control && (control.getAttribute("aria-label") || control.textContent.trim());
    for (const icon of document.querySelectorAll("a svg, button svg")) {
      if (named(icon.closest("a, button"))) icon.setAttribute("aria-hidden", "true");
    }
    for (const title of document.querySelectorAll("svg symbol[id] > title")) {
      const uses = [...document.querySelectorAll(`use[href="#${CSS.escape(title.parentElement.id)}"]`)];
      if (uses.every((use) => named(use.closest("a, button")))) title.remove();
    }
  }

  // --- sphinx-copybutton: Turkish tooltips, and names ---
  // Its messages get Turkish for what it says after a click; the buttons it has already made (it
  // runs first, on the parsed page) get their Turkish tooltip and name from nameCopyButtons.
  if (typeof messages === "object" && messages && !messages.tr) {
    messages.tr = { copy: COPY, copy_to_clipboard: "Panoya kopyala", copy_success: "Kopyalandı!",
                    copy_failure: "Kopyalanamadı" };
    if (document.documentElement.lang === "tr" && typeof locale !== "undefined") locale = "tr";
  }
  // Its icons were written, in English, as it loaded; an SVG's <title> is the browser's own tooltip,
  // over the button's Turkish one: the icons (those it will swap in after a click too) lose it.
  const untitled = (svg) => svg.replace(/<title>[^<]*<\/title>/g, "");
  if (typeof iconCopy === "string") iconCopy = untitled(iconCopy);
  if (typeof iconCheck === "string") iconCheck = untitled(iconCheck);

  // (its icon is hidden from screen readers: the button has a name)
  function nameCopyButtons() {
    for (const button of document.querySelectorAll("button.copybtn")) {
      button.setAttribute("aria-label", COPY);
      button.setAttribute("data-tooltip", COPY);
      const icon = button.querySelector("svg");
      if (icon) {
        icon.setAttribute("aria-hidden", "true");
        for (const title of icon.querySelectorAll("title")) title.remove();
      }
    }
  }

  // A page opened from a search result (without a section of its own to go to) opens at the first word
  // found, once sphinx_highlight.js has marked the words (it waits a moment before it does).
  function openAtMatch() {
    let from = null;
    try { from = new URL(document.referrer); } catch (e) { return; }
    if (window.location.hash || from.origin !== window.location.origin || !/\/search\.html$/.test(from.pathname)) return;
    const found = () => [...document.querySelectorAll("article[role=main] span.highlighted")].find((s) => s.checkVisibility());
    let tries = 0;
    (function look() {
      const first = found();
      if (!first) {
        if (++tries < 40) setTimeout(look, 25);
        return;
      }
      first.scrollIntoView({ block: "center", behavior: "instant" });
      // What fills itself as the reader nears it (an interactive figure above the match) grows the page:
      // the match is brought back to the middle while that settles, unless the reader has moved on.
      const page = new ResizeObserver(() => first.scrollIntoView({ block: "center", behavior: "instant" }));
      const stop = () => {
        page.disconnect();
        for (const type of ["wheel", "touchstart", "keydown", "pointerdown"]) removeEventListener(type, stop, true);
      };
      for (const type of ["wheel", "touchstart", "keydown", "pointerdown"]) addEventListener(type, stop, true);
      page.observe(document.body);
      setTimeout(stop, 2000);
    })();
  }

  // --- start ---
  document.addEventListener("DOMContentLoaded", () => {
    // Before sphinx-tabs' handler (on window): its memory was cleared in the head, it restores nothing.
    const names = frameworks();
    const wanted = names.includes(early.chosen) ? early.chosen : names[0];
    if (wanted) choose(wanted);
    document.querySelectorAll(".d2l-tabs [role=tablist]").forEach(tabKeys);
    document.addEventListener("click", (event) => {
      const target = event.target.closest && event.target.closest("[data-d2l-choose], .d2l-tabs .sphinx-tabs-tab[data-d2l-tab]");
      if (!target) return;
      const name = target.dataset.d2lChoose || target.dataset.d2lTab;
      choose(name);
      remember(name);
      followInAddress(name);
    });
    window.addEventListener("storage", (event) => { if (event.key === KEY) follow(event.newValue); });
    window.addEventListener("pageshow", (event) => { if (event.persisted) follow(remembered()); });
    // The rest one task each, in this order, each short: a phone stays responsive while the page
    // starts. (sphinx-copybutton added its buttons before this handler.)
    for (const step of [nameFuro, nameThemeToggle, asButtons, setUpDrawers, quietIcons, nameCopyButtons, panelStops, watchBoxes, openAtMatch]) {
      setTimeout(step);
    }
  });
})();
