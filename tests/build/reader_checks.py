"""What the reader's-view tests (test_reader.py) check on a page in the browser: a walk by the Tab
key, touch targets, and the accessible name of what has focus (Chromium's own, through CDP)."""
from __future__ import annotations

# What a stop looks like once the browser has scrolled it into view and every transition (a
# drawer sliding in, a copy button fading in) has finished.
STOP = """async () => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  await Promise.all(document.getAnimations().filter((a) => a.effect && a.effect.getTiming().iterations !== Infinity)
                    .map((a) => a.finished.catch(() => null)));
  // Smooth scrolling (Furo's) is no animation: wait for frames until nothing moves.
  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  for (let still = 0, last = ""; still < 3;) {
    await frame();
    const now = `${scrollX},${scrollY},${JSON.stringify(e.getBoundingClientRect())}`;
    still = now === last ? still + 1 : 0;
    last = now;
  }
  const r = e.getBoundingClientRect(), first = e.getClientRects()[0] || r;
  let opacity = 1, hidden = false;
  for (let n = e; n && n.nodeType === 1; n = n.parentElement) {
    const s = getComputedStyle(n);
    opacity *= parseFloat(s.opacity);
    hidden = hidden || s.visibility === "hidden";
  }
  const x = Math.min(Math.max(first.left + Math.min(first.width, 20) / 2, 0), innerWidth - 1);
  const y = Math.min(Math.max(first.top + Math.min(first.height, 20) / 2, 0), innerHeight - 1);
  const hit = document.elementFromPoint(x, y);
  const s = getComputedStyle(e);
  const describe = (n) => n ? n.tagName.toLowerCase() + (n.id ? "#" + n.id : "") +
    (typeof n.className === "string" && n.className ? "." + n.className.trim().split(/\\s+/).join(".") : "") : "none";
  return {
    what: describe(e) + (e.getAttribute("href") ? "[" + e.getAttribute("href").slice(0, 40) + "]" : ""),
    width: r.width, height: r.height, left: r.left, top: r.top, right: r.right, bottom: r.bottom,
    opacity, hidden, covered: !(hit && (e === hit || e.contains(hit))), coveredBy: describe(hit),
    ring: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2,
    viewWidth: innerWidth, viewHeight: innerHeight,
  };
}"""


def accessible_name(page) -> str:
    """Chromium's accessible name of the focused element."""
    cdp = page.context.new_cdp_session(page)
    try:
        handle = cdp.send("Runtime.evaluate", {"expression": "document.activeElement"})
        tree = cdp.send("Accessibility.getPartialAXTree", {"objectId": handle["result"]["objectId"],
                                                             "fetchRelatives": False})
        node = next(n for n in tree["nodes"] if not n.get("ignored"))
        return (node.get("name") or {}).get("value", "").strip()
    finally:
        cdp.detach()


def problems(stop: dict, name: str) -> list[str]:
    """What is wrong with one stop: it must be visible, on screen, ringed and named."""
    found = []
    if stop["width"] < 1 or stop["height"] < 1:
        found.append("no size")
    if stop["opacity"] < 0.5 or stop["hidden"]:
        found.append(f"invisible (opacity {stop['opacity']:.2f})")
    tall = stop["height"] > stop["viewHeight"]
    if stop["left"] < -1 or stop["right"] > stop["viewWidth"] + 1 or stop["top"] < -1 or \
            (not tall and stop["bottom"] > stop["viewHeight"] + 1) or stop["top"] > stop["viewHeight"]:
        found.append(f"off screen ({stop['left']:.0f}, {stop['top']:.0f})–({stop['right']:.0f}, {stop['bottom']:.0f})")
    elif stop["covered"]:
        found.append(f"covered by {stop['coveredBy']}")
    if not stop["ring"]:
        found.append("no focus ring")
    if not name:
        found.append("no accessible name")
    return found


def walk(page, limit: int, within: str | None = None) -> list[tuple[dict, str]]:
    """Press Tab from where focus is until focus comes back round (or leaves `within`, a
    selector): (stop, accessible name) of each stop, at most `limit`."""
    stops, seen = [], set()
    for _ in range(limit):
        page.keyboard.press("Tab")
        marker = page.evaluate("""() => { const e = document.activeElement;
            if (!e || e === document.body) return null;
            e.dataset.walk = e.dataset.walk || String(Math.random()); return e.dataset.walk; }""")
        if marker is None or marker in seen:
            break
        if within and not page.evaluate("(s) => !!document.activeElement.closest(s)", within):
            outside = {"what": page.evaluate("document.activeElement.outerHTML.slice(0, 80)"), "outside": True}
            stops.append((outside, ""))
            break
        seen.add(marker)
        stops.append((page.evaluate(STOP), accessible_name(page)))
    return stops


# Every target a finger can hit, with its box (a link's own, or the image it wraps); `inline`: a
# link inside a line of text, which WCAG 2.5.8 exempts. Boxes that are tab stops only to be
# scrolled or read (regions, tab panels) are not targets.
TARGETS = """() => [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, ' +
                                           '[role=button], [role=tab], [tabindex="0"]')]
  .filter((e) => !e.closest('[inert]') && !e.matches('[role=region], [role=tabpanel]'))
  .map((e) => {
    const boxes = [e, ...e.querySelectorAll('img')].map((n) => n.getBoundingClientRect())
      .filter((r) => r.width && r.height);
    const r = boxes.length ? {left: Math.min(...boxes.map((b) => b.left)), top: Math.min(...boxes.map((b) => b.top)),
                              right: Math.max(...boxes.map((b) => b.right)),
                              bottom: Math.max(...boxes.map((b) => b.bottom))}
                           : {left: 0, top: 0, right: 0, bottom: 0};
    const s = getComputedStyle(e);
    const block = e.parentElement.closest('p, li, td, dd, figcaption, div');
    const inline = s.display === 'inline' && !e.querySelector('img') && !!block &&
                   block.textContent.trim().length > e.textContent.trim().length + 2;
    return {what: e.tagName.toLowerCase() + '.' + (typeof e.className === 'string' ? e.className : '') +
                  ' ' + (e.getAttribute('aria-label') || e.textContent).trim().slice(0, 30),
            x: r.left + scrollX, y: r.top + scrollY, w: r.right - r.left, h: r.bottom - r.top, inline,
            shown: r.right > r.left && r.bottom > r.top && s.visibility !== 'hidden' && parseFloat(s.opacity) > 0 &&
                   r.right > 0 && r.left < innerWidth};
  })"""


def too_small(targets: list[dict], size: float = 24, apart: float = 32) -> list[str]:
    """WCAG 2.2, 2.5.8: each target is at least size × size, or a circle of that diameter centred
    on it meets no other target and no other small target's circle. And a target under `apart`
    pixels (a fingertip) touches no other: a row of list items may touch, icon buttons may not."""
    shown = [t for t in targets if t["shown"] and not t["inline"]]
    small = [t for t in shown if t["w"] < size - 0.5 or t["h"] < size - 0.5]
    radius = size / 2
    found = []
    for t in shown:
        cx, cy = t["x"] + t["w"] / 2, t["y"] + t["h"] / 2
        for other in shown:
            if other is t or _inside(t, other) or _inside(other, t):
                continue     # itself, or a target it sits in (a button in a link's box)
            gap_x = max(other["x"] - (t["x"] + t["w"]), t["x"] - (other["x"] + other["w"]))
            gap_y = max(other["y"] - (t["y"] + t["h"]), t["y"] - (other["y"] + other["h"]))
            if max(gap_x, gap_y) < 1 and min(t["w"], t["h"], other["w"], other["h"]) < apart:
                found.append(f"{t['what']} touches {other['what']}")
                break
            if t not in small:
                continue
            nx = min(max(cx, other["x"]), other["x"] + other["w"])
            ny = min(max(cy, other["y"]), other["y"] + other["h"])
            near_box = (nx - cx) ** 2 + (ny - cy) ** 2 < radius ** 2
            ox, oy = other["x"] + other["w"] / 2, other["y"] + other["h"] / 2
            near_circle = other in small and (ox - cx) ** 2 + (oy - cy) ** 2 < size ** 2
            if near_box or near_circle:
                found.append(f"{t['what']} ({t['w']:.0f}×{t['h']:.0f}) too close to {other['what']}")
                break
    return found


def _inside(a: dict, b: dict) -> bool:
    return (b["x"] <= a["x"] and b["y"] <= a["y"] and a["x"] + a["w"] <= b["x"] + b["w"]
            and a["y"] + a["h"] <= b["y"] + b["h"])
