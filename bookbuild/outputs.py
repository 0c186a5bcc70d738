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
"""
from __future__ import annotations

import html

import nbformat

from bookbuild.agreement import PLOT_DATA, TIMING

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
    joined = []
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


def for_readers(outputs: list, limits, where: str, warn) -> list:
    """A cell's outputs as readers get them (see the module's docstring); `where` is its file:line."""
    shown, text_left, images = [], limits.output_bytes, 0
    for output in _joined([dict(o) for o in outputs]):
        data = {k: v for k, v in output.get("data", {}).items() if k not in (PLOT_DATA, TIMING)}
        if "data" in output:
            output["data"] = data
            output["metadata"] = {k: v for k, v in output.get("metadata", {}).items() if k not in (PLOT_DATA, TIMING)}
        image = next((t for t in IMAGE_TYPES if t in data), None)
        if image:
            size = len(str(data[image]).encode("utf-8"))
            if images >= limits.images or size > limits.image_bytes:
                why = (f"en çok {limits.images} şekil" if images >= limits.images else
                       f"{size / 1e6:.1f} MB, sınır {limits.image_bytes / 1e6:.1f} MB")
                warn(f"{where}: a figure was dropped ({'more than ' + str(limits.images) + ' figures' if images >= limits.images else f'{size} bytes, over limits.image_bytes'})")
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
            warn(f"{where}: {left} bytes of output cut (over limits.output_bytes, {limits.output_bytes})")
            if kept:
                shown.append(output)
            shown.append(notice(f"[Çıktının kalan {left:,} baytı kesildi: bir hücre en çok "
                                f"{limits.output_bytes:,} bayt yazdırabilir (build.yml, limits).]".replace(",", ".")))
            continue
        shown.append(output)
    return [nbformat.from_dict(o) for o in shown]


def failed(label: str, cell: str) -> dict:
    return notice(f"Derleme hatası: bu hücre {label} ile çalıştırılırken hata verdi (hücre {cell}); "
                  "aşağıda hata iletisi var. Sayfanın diğer çerçeveleri etkilenmedi.", "d2l-failure")


def not_run() -> dict:
    return notice("Önceki bir hücre hata verdiği için bu hücre çalıştırılmadı.", "d2l-not-run")
