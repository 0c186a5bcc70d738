"""Merge-stage helper: an executed cell's outputs as readers get them, on the page and in the notebook.

* Streams are joined and carriage returns and backspaces applied, in linear time (a
  progress bar's `\\r` keeps its last state), so the render stage has nothing to redo
  (myst-nb's own joining is quadratic in a line's length).
* Output over build.yml's `limits` is cut: text after `output_bytes` (at a line
  boundary), figures after `images` or over `image_bytes`, each with a Turkish notice
  where it was cut and a warning at the source line.
* What only the build reads is dropped: a figure's data series and the marks of
  timings (agreement.py reads them).
* A failed notebook's cells say so: the failing cell is marked as a build failure
  above its error, and the cells after it as not run.
* Each figure is described, in Turkish words, for readers who cannot see it (its alt
  text), from the code that drew it (which d2l or matplotlib call) and from the figure
  itself: matplotlib's SVG keeps every text it drew (axis labels, tick labels, legend
  entries), as text (or as a comment before its glyphs); and measured (`size`).
* A drawing's declared size is rounded to whole CSS pixels (its viewBox, and so what it
  draws, unchanged): the page reserves a figure's box from its width and height
  attributes, whole numbers, and a box that changed by a fraction of a pixel as the figure
  loaded moved everything below it, so a link's scroll stopped short of its target.
"""
from __future__ import annotations

import html
import logging
import re
import xml.etree.ElementTree as ET

import nbformat

from bookbuild.errors import escape_controls
from bookbuild.in_kernel import PLOT_DATA, TIMING
from bookbuild.log import warn

logger = logging.getLogger(__name__)

IMAGE_TYPES = ("image/svg+xml", "image/png", "image/jpeg")


def _apply_controls(text: str) -> str:
    """What a terminal shows of `text`: after a `\\r` only what follows it on its line, a `\\b` erases."""
    lines = []
    for line in text.split("\n"):
        if "\r" in line.rstrip("\r"):
            line = line.rstrip("\r").rsplit("\r", 1)[-1]
        if "\b" in line:
            kept: list[str] = []
            for char in line:
                if char == "\b":
                    if kept:
                        kept.pop()
                else:
                    kept.append(char)
            line = "".join(kept)
        lines.append(line)
    return "\n".join(lines)


def _joined(outputs: list) -> list:
    """Consecutive stream outputs of one name as one, controls applied."""
    joined: list = []
    for output in outputs:
        if output.get("output_type") == "stream" and joined and joined[-1].get("output_type") == "stream" \
                and joined[-1]["name"] == output["name"]:
            joined[-1]["text"] += output["text"]
        else:
            joined.append(output)
    for output in joined:
        if output.get("output_type") == "stream":
            output["text"] = _apply_controls(output["text"])
    return joined


def notice(text: str, kind: str = "d2l-notice") -> dict:
    """An output readers see as a short Turkish note (HTML on the site, text in the PDF and notebook)."""
    return nbformat.from_dict({"output_type": "display_data", "metadata": {}, "data": {
        "text/plain": text, "text/html": f'<p class="{kind}" role="note">{html.escape(text)}</p>'}})


def _cut_text(text: str, budget: int) -> tuple[str, int]:
    """At most `budget` bytes of text, ending at a line boundary where there is one; and bytes left out."""
    data = text.encode("utf-8")
    if len(data) <= budget:
        return text, 0
    kept = data[:budget].decode("utf-8", errors="ignore")
    if "\n" in kept:
        kept = kept[:kept.rindex("\n") + 1]
    return kept, len(data) - len(kept.encode("utf-8"))


def for_readers(outputs: list, limits, where: str) -> list:
    """A cell's outputs as readers get them (see the module's docstring); `where` is its file:line."""
    shown, text_left, images = [], limits.output_bytes, 0
    for output in _joined([dict(o) for o in outputs]):
        _show_controls(output)
        data = {k: v for k, v in output.get("data", {}).items() if k not in (PLOT_DATA, TIMING)}
        if "data" in output:
            output["data"] = data
            output["metadata"] = {k: v for k, v in output.get("metadata", {}).items() if k not in (PLOT_DATA, TIMING)}
        image = next((t for t in IMAGE_TYPES if t in data), None)
        if image == "image/svg+xml":
            data[image] = in_whole_pixels(data[image])
        if image:
            nbytes = len(str(data[image]).encode("utf-8"))
            if images >= limits.images or nbytes > limits.image_bytes:
                why = (f"en çok {limits.images} şekil" if images >= limits.images else
                       f"{nbytes / 1e6:.1f} MB, sınır {limits.image_bytes / 1e6:.1f} MB")
                over = (f"more than {limits.images} figures" if images >= limits.images else
                        f"{nbytes} bytes, over limits.image_bytes")
                warn(logger, "output-cut", f"{where}: a figure was dropped ({over})")
                shown.append(notice(f"[Bu şekil sayfaya konmadı: {why} (build.yml, limits).]"))
                continue
            images += 1
            shown.append(output)
            continue
        key = "text" if output.get("output_type") == "stream" else ("text/plain" if "text/plain" in data and
                                                                    len(data) == 1 else None)
        if key is None:
            shown.append(output)
            continue
        holder = output if key == "text" else data
        kept, left = _cut_text(holder[key], max(text_left, 0))
        text_left -= len(kept.encode("utf-8"))
        if left:
            holder[key] = kept
            warn(logger, "output-cut",
                 f"{where}: {left} bytes of output cut (over limits.output_bytes, {limits.output_bytes})")
            if kept:
                shown.append(output)
            shown.append(notice(f"[Çıktının kalan {left:,} baytı kesildi: bir hücre en çok "
                                f"{limits.output_bytes:,} bayt yazdırabilir (build.yml, limits).]".replace(",", ".")))
            continue
        shown.append(output)
    return [nbformat.from_dict(o) for o in shown]


def _show_controls(output: dict) -> None:
    """Control characters a cell printed (BEL, VT, ...) shown, escaped (`\\x07`), on the page and in the PDF
    (where LaTeX stopped at them): colours stay, the page shows them."""
    if "text" in output:
        output["text"] = escape_controls(output["text"], keep_colours=True)
    if "text/plain" in output.get("data", {}):
        output["data"] = {**output["data"], "text/plain": escape_controls(output["data"]["text/plain"], True)}
    if output.get("output_type") == "error":
        output["evalue"] = escape_controls(output.get("evalue", ""), keep_colours=True)
        output["traceback"] = [escape_controls(line, keep_colours=True) for line in output.get("traceback", [])]


def failed(label: str, cell: str) -> dict:
    return notice(f"Derleme hatası: bu hücre {label} ile çalıştırılırken hata verdi (hücre {cell}); "
                  "aşağıda hata iletisi var. Sayfanın diğer çerçeveleri etkilenmedi.", "d2l-failure")


def not_run() -> dict:
    return notice("Önceki bir hücre hata verdiği için bu hücre çalıştırılmadı.", "d2l-not-run")


# --- what a figure shows ----------------------------------------------------------------

# What a plotting call of the d2l library draws (the library is the same in every chapter).
CALLS = [
    (re.compile(r"\bshow_trace_2d\(\s*(\w+)\s*,.*?train_2d\(\s*(\w+)"),
     lambda m: f"{m.group(1)} fonksiyonunun eş yükselti eğrileri üzerinde {m.group(2)} adımlarının izlediği yol"),
    (re.compile(r"\bshow_trace_2d\("), lambda m: "eş yükselti eğrileri üzerinde optimizasyon yolu"),
    (re.compile(r"\bshow_trace\("), lambda m: "fonksiyon eğrisi üzerinde optimizasyon yolu"),
    (re.compile(r"\b(train_\w*ch\d+|Animator)\b"), lambda m: "eğitim boyunca kayıbın değişimi"),
    (re.compile(r"\bshow_images\("), lambda m: "örnek görüntüler"),
    (re.compile(r"\bshow_heatmaps\("), lambda m: "ısı haritası"),
    (re.compile(r"\b(plt\.plot|d2l\.plot|\.plot)\("), lambda m: "çizgi grafiği"),
    (re.compile(r"\b(scatter)\("), lambda m: "saçılım grafiği"),
    (re.compile(r"\b(hist)\("), lambda m: "histogram"),
]


def _texts(group) -> list[str]:
    """The texts drawn in an SVG group: matplotlib writes each as a <text> element, or, where it draws
    text as outlines, as a comment before them."""
    found = []
    for element in group.iter():
        if element.tag is ET.Comment:
            text = element.text or ""
        elif isinstance(element.tag, str) and element.tag.rsplit("}", 1)[-1] == "text":
            text = "".join(element.itertext())
        else:
            continue
        if text.strip():
            found.append(text.strip())
    return found


def _children(element, prefix: str):
    return [c for c in element if str(c.get("id", "")).startswith(prefix)]


def _describe_axis(axis, name: str) -> str:
    ticks = [t for tick in _children(axis, ("xtick_" if name == "x" else "ytick_")) for t in _texts(tick)]
    label = [t for text in _children(axis, "text_") for t in _texts(text)]
    words = f"{name} ekseni"
    if label:
        words += f" «{label[0]}»"
    if len(ticks) >= 2:
        words += f" ({ticks[0]} ile {ticks[-1]} arası)"
    return words


def describe(code: str, svg: str, framework: str) -> str:
    """`"PyTorch çıktısı: çizgi grafiği; x ekseni «time» (0 ile 40 arası), ...; eğriler: beta = 0.95, ..."`"""
    flat = " ".join(code.split())
    what = next((make(found) for pattern, make in CALLS if (found := pattern.search(flat))), "grafik")
    parts = [f"{framework} çıktısı: {what}"]
    try:
        root = ET.fromstring(svg, parser=ET.XMLParser(target=ET.TreeBuilder(insert_comments=True)))
    except ET.ParseError:
        return parts[0]
    for axes in root.iter():
        if not str(axes.get("id", "")).startswith("axes_"):
            continue
        # Not strict: the x and y axes are described, any further one (a 3-D plot's z) is not.
        axis_words = [_describe_axis(axis, name) for axis, name in
                      zip(_children(axes, "matplotlib.axis_"), ("x", "y"), strict=False)]
        if axis_words:
            parts.append(", ".join(axis_words))
        legend = [t for group in _children(axes, "legend_") for t in _texts(group)]
        if legend:
            parts.append("eğriler: " + ", ".join(legend))
    return "; ".join(parts) + "."


_SVG_ROOT = re.compile(r"<svg\b[^>]*>")
_SVG_SIZE = re.compile(r'(\s(width|height)=")([\d.]+)(pt|px)?"')


def size(svg: str) -> tuple[int, int] | None:
    """The drawing's size in whole CSS pixels (matplotlib writes points: 1 pt = 4/3 px)."""
    root = _SVG_ROOT.search(svg[:2000])
    declared = {found.group(2): round(float(found.group(3)) * (4 / 3 if found.group(4) == "pt" else 1))
                for found in _SVG_SIZE.finditer(root.group(0))} if root else {}
    return (declared["width"], declared["height"]) if len(declared) == 2 else None


def in_whole_pixels(svg: str) -> str:
    """The drawing declared at its size() (see the module's docstring). One without a viewBox, whose
    drawing would not scale with it, or without a size, is left as it is."""
    root, whole = _SVG_ROOT.search(svg[:2000]), size(svg)
    if not root or whole is None or "viewBox=" not in root.group(0):
        return svg
    pixels = dict(zip(("width", "height"), whole, strict=True))
    tag = _SVG_SIZE.sub(lambda found: f'{found.group(1)}{pixels[found.group(2)]}px"', root.group(0))
    return svg[:root.start()] + tag + svg[root.end():]
