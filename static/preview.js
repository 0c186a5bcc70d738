// Previews of references (WAI-ARIA tooltip pattern): hovering a reference with a mouse, or reaching it
// by keyboard, shows what it points at in a small box; Escape, leaving or blurring it closes the box.
// A touch does not open it: a tap follows the link, and nothing covers the page or holds the focus.
// What to show is on the page already (bookbuild/render/previews.py): a <template> for a target on another
// page, the link's title for a citation or a section of the published edition, or the target itself.
(function () {
  "use strict";
  const main = document.querySelector("[role=main]");
  if (!main) return;
  const templates = {};
  for (const t of main.querySelectorAll("template[data-d2l-preview]")) templates[t.dataset.d2lPreview] = t;
  const tip = document.createElement("div");
  tip.id = "d2l-preview";
  tip.setAttribute("role", "tooltip");
  tip.hidden = true;
  main.append(tip);
  let owner = null, dismissed = null, timer = 0;   // dismissed: closed by Escape, until left

  // The link's title would show as the browser's own tooltip too: the preview takes it over.
  for (const a of main.querySelectorAll("a.reference[title]:not(.headerlink)")) {
    a.dataset.d2lTitle = a.title;
    a.removeAttribute("title");
  }

  function quiet(node) {   // a copy shown in the preview: no ids twice, nothing to focus, no permalinks
    for (const e of node.querySelectorAll(".headerlink, .copybtn")) e.remove();
    for (const e of [node, ...node.querySelectorAll("[id], [tabindex], a[href], [role=region]")]) {
      for (const name of ["id", "tabindex", "href", "role", "aria-label"]) e.removeAttribute(name);
    }
    return node;
  }

  function firstSentence(p) {   // cut the copied paragraph after its first sentence
    const walker = document.createTreeWalker(p, NodeFilter.SHOW_TEXT);
    for (let text; (text = walker.nextNode());) {
      if (text.parentElement.closest("mjx-container")) continue;
      const end = text.data.search(/[.!?…](\s|$)/);
      if (end >= 0) {
        const range = document.createRange();
        range.setStart(text, end + 1);
        range.setEndAfter(p.lastChild);
        range.deleteContents();
        break;
      }
    }
    return p;
  }

  function content(a) {
    const href = a.getAttribute("href") || "";
    const box = document.createElement("div");
    if (templates[href]) {
      box.append(templates[href].content.cloneNode(true));
      return box;
    }
    if (a.dataset.d2lTitle) {
      box.textContent = a.dataset.d2lTitle;
      return box;
    }
    const target = href.length > 1 && href[0] === "#" && document.getElementById(decodeURIComponent(href.slice(1)));
    if (!target || a.closest(".toctree-wrapper")) return null;
    const math = target.matches("div.math") ? target : target.querySelector(":scope > div.math");
    if (math) {
      box.append(quiet(math.cloneNode(true)));
    } else if (target.matches("section")) {
      const heading = target.querySelector(":scope > :is(h1, h2, h3, h4, h5, h6)");
      const title = document.createElement("strong");
      title.textContent = heading ? quiet(heading.cloneNode(true)).textContent : "";
      box.append(title);
      const p = target.querySelector(":scope > p");
      if (p) box.append(firstSentence(quiet(p.cloneNode(true))));
    } else if (target.matches("figure")) {
      box.append(quiet(target.cloneNode(true)));
    } else {
      return null;
    }
    return box;
  }

  function place() {
    if (!owner) return;
    const r = owner.getBoundingClientRect(), margin = 8;
    const width = tip.offsetWidth, height = tip.offsetHeight;
    const below = r.bottom + 6 + height <= innerHeight - margin || r.top - 6 - height < margin;
    tip.style.left = `${Math.max(margin, Math.min(r.left, innerWidth - width - margin))}px`;
    tip.style.top = `${below ? r.bottom + 6 : r.top - 6 - height}px`;
  }

  function show(a) {
    clearTimeout(timer);
    if (owner === a || dismissed === a) return;
    const box = content(a);
    hide();
    if (!box) return;
    tip.replaceChildren(...box.childNodes);
    tip.hidden = false;
    owner = a;
    a.setAttribute("aria-describedby", tip.id);
    place();
  }

  function hide() {
    clearTimeout(timer);
    tip.hidden = true;
    if (owner) owner.removeAttribute("aria-describedby");
    owner = null;
  }

  // A reference of the page (not a copy inside the preview).
  const link = (event) => !tip.contains(event.target) && event.target.closest("a.reference:not(.headerlink)");
  main.addEventListener("pointerover", (event) => {
    if (event.pointerType !== "mouse") return;
    const a = link(event);
    if (a) { clearTimeout(timer); timer = setTimeout(() => show(a), owner ? 0 : 150); }
    else if (tip.contains(event.target)) clearTimeout(timer);   // the pointer may rest on the preview
  });
  main.addEventListener("pointerout", (event) => {
    if (event.pointerType !== "mouse") return;
    const to = event.relatedTarget;
    if (owner && to && (owner.contains(to) || tip.contains(to))) return;
    if (!(dismissed && to && dismissed.contains(to))) dismissed = null;
    clearTimeout(timer);
    timer = setTimeout(() => { if (!owner || document.activeElement !== owner) hide(); }, 200);
  });
  main.addEventListener("focusin", (event) => {
    const a = link(event);
    if (!a || !a.matches(":focus-visible")) return;
    if (dismissed === a) dismissed = null;   // focus arriving is a new request, whatever Escape closed before
    show(a);
  });
  main.addEventListener("focusout", (event) => {
    if (event.target === dismissed) dismissed = null;
    if (event.target === owner) hide();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && owner) { dismissed = owner; hide(); }
  });
  addEventListener("scroll", place, {passive: true});
  addEventListener("resize", place);
})();
