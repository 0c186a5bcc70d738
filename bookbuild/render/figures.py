"""Stage 5, render: a Sphinx extension that gives each figure of an executed cell what the merge
stage found it shows (its alt text, outputs.describe) and its size, so the page does not shift
when it loads.
"""
from __future__ import annotations

import json
from pathlib import Path

from docutils import nodes

from bookbuild import tab_marks


def apply_to_images(app, doctree) -> None:
    """`doctree-read`: each figure of an executed cell gets its alt text and size (from the merge
    stage, tab_marks.IMAGES, in the staged notebook), and loads lazily: hidden tabs' figures are not
    fetched until shown."""
    staged = Path(app.env.doc2path(app.env.docname))
    if staged.suffix != ".ipynb":
        return
    cells = {cell["id"]: cell for cell in json.loads(staged.read_text(encoding="utf-8"))["cells"]}
    for container in doctree.findall(nodes.container):
        cell = tab_marks.staged_cell(container, cells)
        described = cell.get("metadata", {}).get(tab_marks.IMAGES) if cell else None
        # Not strict: a cell whose figures were not described (no IMAGES) keeps its images as they are.
        for image, facts in zip(container.findall(nodes.image), described or (), strict=False):
            image["alt"] = facts["alt"]
            image["loading"] = "lazy"
            if facts.get("size"):
                image["width"], image["height"] = map(str, facts["size"])


def setup(app):
    app.connect("doctree-read", apply_to_images)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
