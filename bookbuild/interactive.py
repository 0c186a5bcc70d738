"""Interactive figures the build places on a page, without touching the page's source.

A page `ch/page.md` may have a file beside it, `ch/page.interactive.yml`, listing
figures computed in the reader's browser:

    - id: momentum-explorer          # the element the script fills
      script: momentum-explorer.js   # beside the .yml file; loaded (deferred) on that page only
      style: momentum-explorer.css   # optional
      after: momentum-yontemi        # the section it closes: a :label: of the page, or the id
                                     # of a heading (what follows `#` in the page's address)
      description: ...               # optional: what the figure does, in a sentence

The figure goes at the end of the named section, before the next heading of the same
or a higher level. The read stage checks the file (read.py); the merge stage places a
``{d2l-interactive}`` directive (tab_marks); this module's Sphinx extension writes the
element, which the script fills. Until then, and for readers without scripts, the element
holds a still: the description (or a general sentence) and the section's own last figure
as the page's executed code drew it, in the book's first framework. The PDF leaves the
figure out: there the page is exactly as its source says.
"""
from __future__ import annotations

import dataclasses
import html
import json
import posixpath
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from bookbuild import tab_marks, tabs
from bookbuild.dialect import ANY_FENCE, HEADING, LABEL_LINE, Page, closes
from bookbuild.errors import SourceError

SUFFIX = ".interactive.yml"
ASSETS = "_interactive"   # where the scripts and styles go, in the staging folder and on the site


@dataclasses.dataclass(frozen=True)
class Placement:
    id: str
    script: Path            # relative to the book root
    style: Path | None
    after: str
    before_line: int | None   # the source line it goes before (the next heading); None: the page's end
    description: str | None = None


def sidecar(page: Page) -> Path:
    return page.path.with_name(page.path.stem + SUFFIX)


def headings(page: Page) -> list[tuple[int, int, str, set[str]]]:
    """(line, level, title, names) of each heading; names: its id and the :label: under it."""
    found = []
    for block in (b for b in page.blocks if b.kind == "markdown"):
        in_fence = None
        for offset, line in enumerate(block.source.splitlines()):
            if in_fence:
                in_fence = None if closes(in_fence, line) else in_fence
            elif ANY_FENCE.match(line):
                in_fence = ANY_FENCE.match(line).group(1)
            elif HEADING.match(line):
                marks, title = HEADING.match(line).groups()
                found.append((block.line + offset, len(marks), title, {nodes.make_id(title)}))
            elif LABEL_LINE.match(line) and found and found[-1][0] == block.line + offset - 1:
                found[-1][3].add(LABEL_LINE.match(line).group(2))
    return found


def read_placements(root: Path, page: Page) -> list[Placement]:
    """The page's interactive figures, checked: every error names the .yml file and line."""
    import yaml

    path = sidecar(page)
    if not (root / path).is_file():
        return []
    text = (root / path).read_text(encoding="utf-8")
    try:
        entries = yaml.safe_load(text) or []
        nodes = yaml.compose(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise SourceError(f"not valid YAML: {getattr(err, 'problem', err)}", path=path,
                          line=mark.line + 1 if mark else None) from None
    if not isinstance(entries, list):
        raise SourceError("must be a list of figures (`- id: ...`)", path=path, line=1)
    sections = headings(page)
    placements = []
    for number, entry in enumerate(entries):
        line = nodes.value[number].start_mark.line + 1
        where = {"path": path, "line": line}
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("id", "script", "after")):
            raise SourceError("each figure needs `id`, `script` and `after`", **where,
                              fix="see bookbuild/interactive.py for the form of this file")
        if not isinstance(entry.get("description", ""), str):
            raise SourceError("`description` must be a sentence (text)", **where)
        files = {}
        for key in ("script", "style"):
            if entry.get(key):
                files[key] = Path(path.parent, entry[key])
                if not (root / files[key]).is_file():
                    raise SourceError(f"{key} {entry[key]} not found (looked for {files[key]})", **where,
                                      fix=f"put {entry[key]} beside {path.name}")
        index = next((i for i, h in enumerate(sections) if entry["after"] in h[3]), None)
        if index is None:
            known = ", ".join(sorted(n for h in sections for n in h[3]))
            raise SourceError(f"`after: {entry['after']}` names no section of {page.path}", **where,
                              fix=f"use a heading's id or a :label: of the page: {known}")
        level = sections[index][1]
        following = [h[0] for h in sections[index + 1:] if h[1] <= level]
        placements.append(Placement(entry["id"], files["script"], files.get("style"), entry["after"],
                                    following[0] if following else None, entry.get("description")))
    return placements


def directive(placement: Placement) -> str:
    """The merged page's mark for a figure (tab_marks.INTERACTIVE)."""
    files = {"script": f"{ASSETS}/{placement.script.as_posix()}"}
    if placement.style:
        files["style"] = f"{ASSETS}/{placement.style.as_posix()}"
    if placement.description:
        files["description"] = placement.description
    return tab_marks.interactive(placement.id, files)


# --- render stage: a Sphinx extension ---------------------------------------------------

class interactive_figure(nodes.General, nodes.Element):
    """An element a script fills: {"id", "script", "style", "description"} (paths from the site root).
    Its children, the still, are what it shows until then."""


class InteractiveDirective(SphinxDirective):
    required_arguments = 1
    has_content = True

    def run(self):
        return [interactive_figure(figure={"id": self.arguments[0], **json.loads("\n".join(self.content))})]


STILL_TEXT = "Bu etkileşimli şekil tarayıcıda JavaScript ile çalışır."
STILL_FIGURE = "Durağan hâli, bölümün son şekli:"
STILL_ALT = "Durağan hâli:"


def add_stills(app, doctree, docname) -> None:
    """`doctree-resolved`: each figure's still, from its section's last figure before it."""
    first = app.config.d2l_frameworks[0][0] if app.config.d2l_frameworks else None
    for figure in list(doctree.findall(interactive_figure)):
        image = _last_figure_before(figure, first)
        still = nodes.container(classes=["d2l-still", "no-search"])
        text = " ".join(filter(None, [figure["figure"].get("description"), STILL_TEXT,
                                       STILL_FIGURE if image is not None else None]))
        still += nodes.paragraph("", text)
        if image is not None:
            copy = image.deepcopy()
            copy["ids"] = []
            copy["alt"] = f"{STILL_ALT} {image.get('alt', '')}".strip()
            still += copy
        figure += still


def _last_figure_before(figure, framework: str | None):
    """The last image before `figure` in its section (or the enclosing ones), shown for
    `framework` or for every framework; None if there is none."""
    section = figure.parent
    while section is not None:
        if isinstance(section, nodes.section):
            found = None
            for node in section.findall(lambda n: n is figure or isinstance(n, nodes.image)):
                if node is figure:
                    break
                if _framework_of(node) in (None, framework):
                    found = node
            if found is not None:
                return found
        section = section.parent
    return None


def _framework_of(node) -> str | None:
    while node is not None:
        mark = tabs.tab_of(node)
        if mark:
            return mark[0]
        node = node.parent
    return None


def visit_interactive(translator, node) -> None:
    figure = node["figure"]
    here = posixpath.dirname(translator.builder.get_target_uri(translator.builder.current_docname)) or "."
    parts = []
    if figure.get("style"):
        parts.append(f'<link rel="stylesheet" href="{html.escape(posixpath.relpath(figure["style"], here))}">')
    parts.append(f'<div id="{html.escape(figure["id"])}" class="d2l-interactive no-search">')
    translator.body.append("\n".join(parts) + "\n")


def depart_interactive(translator, node) -> None:
    figure = node["figure"]
    here = posixpath.dirname(translator.builder.get_target_uri(translator.builder.current_docname)) or "."
    translator.body.append(f'</div>\n<script defer src="{html.escape(posixpath.relpath(figure["script"], here))}">'
                           '</script>\n')


def skip(translator, node) -> None:
    raise nodes.SkipNode


def copy_assets(app, exception) -> None:
    """`build-finished`: the staged scripts and styles, into the site."""
    staged = Path(app.srcdir) / ASSETS
    if exception is None and app.builder.format == "html" and staged.is_dir():
        shutil.copytree(staged, Path(app.outdir) / ASSETS, dirs_exist_ok=True)


def setup(app):
    app.add_node(interactive_figure, html=(visit_interactive, depart_interactive), latex=(skip, None),
                 text=(skip, None), man=(skip, None), texinfo=(skip, None))
    app.add_directive(tab_marks.INTERACTIVE, InteractiveDirective)
    app.connect("doctree-resolved", add_stills)
    app.connect("build-finished", copy_assets)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
