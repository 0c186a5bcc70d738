"""Merge-stage helper: what a figure an executed cell drew shows, in Turkish words,
for readers who cannot see it (its alt text); and its size, so the page does not
shift when it loads.

The words come from the code that drew it (which d2l or matplotlib call) and
from the figure itself: matplotlib's SVG keeps every text it drew (axis labels,
tick labels, legend entries), as text (or as a comment before its glyphs).
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

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
        axis_words = [_describe_axis(axis, name) for axis, name in
                      zip(_children(axes, "matplotlib.axis_"), ("x", "y"))]
        if axis_words:
            parts.append(", ".join(axis_words))
        legend = [t for group in _children(axes, "legend_") for t in _texts(group)]
        if legend:
            parts.append("eğriler: " + ", ".join(legend))
    return "; ".join(parts) + "."


def size(svg: str) -> tuple[int, int] | None:
    """The drawing's size in CSS pixels (matplotlib writes points: 1 pt = 4/3 px)."""
    found = re.search(r'<svg[^>]*\swidth="([\d.]+)(pt|px)?"[^>]*\sheight="([\d.]+)(pt|px)?"', svg[:2000])
    if not found:
        return None
    scale = 4 / 3 if found.group(2) == "pt" else 1
    return round(float(found.group(1)) * scale), round(float(found.group(3)) * scale)


# --- render stage: a Sphinx extension -------------------------------------------------

def apply_to_images(app, doctree) -> None:
    """`doctree-read`: each figure of an executed cell gets its alt text and size (from the merge
    stage, tab_marks.IMAGES), and loads lazily: hidden tabs' figures are not fetched until shown."""
    from docutils import nodes

    from bookbuild import tab_marks

    for cell in doctree.findall(nodes.container):
        described = (cell.get("cell_metadata") or {}).get(tab_marks.IMAGES) if cell.get("nb_element") == "cell_code" \
            else None
        if not described:
            continue
        for image, facts in zip(cell.findall(nodes.image), described):
            image["alt"] = facts["alt"]
            image["loading"] = "lazy"
            if facts.get("size"):
                image["width"], image["height"] = map(str, facts["size"])


def setup(app):
    app.connect("doctree-read", apply_to_images)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
