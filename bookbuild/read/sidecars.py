"""Stage 1, read: the files beside a page that the build reads with it (none is required).

`ch/page.interactive.yml`: figures computed in the reader's browser, placed by the build
(the page's source is never edited; interactive.py renders them):

    - id: momentum-explorer          # the element the script fills
      script: momentum-explorer.js   # beside the .yml file; loaded (deferred) on that page only
      style: momentum-explorer.css   # optional
      after: momentum-yontemi        # the section it closes: a :label: of the page, or the id
                                     # of a heading (what follows `#` in the page's address)
      description: ...               # optional: what the figure does, in a sentence

The figure goes at the end of the named section, before the next heading of the same or a
higher level.

`ch/page.agreement.yml`: tab groups whose frameworks compute something else on purpose
(agreement.py reports them as expected, with the reason; not for randomness or timings):

    - code: "def adam("              # a piece of the group's code (any framework's tab)
      reason: "..."                  # shown in the report

Every error names the file and line.
"""
from __future__ import annotations

import posixpath
from pathlib import Path

from docutils import nodes

from bookbuild.errors import SourceError, Where
from bookbuild.read import dialect
from bookbuild.read.dialect import LABEL_LINE, Page, runs, structure
from bookbuild.read.files import inside
from bookbuild.source import Expected, Placement

INTERACTIVE, AGREEMENT = ".interactive.yml", ".agreement.yml"


def beside(page: Page, suffix: str) -> Path:
    return page.path.with_name(page.path.stem + suffix)


def _entries(root: Path, path: Path, what: str):
    """(entry, its line) of a YAML list beside a page (nothing if there is no such file)."""
    import yaml

    if not (root / path).is_file():
        return []
    text = dialect.read_text(root, path)
    try:
        entries, tree = yaml.safe_load(text) or [], yaml.compose(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise SourceError(f"not valid YAML: {getattr(err, 'problem', err)}", path=path,
                          line=mark.line + 1 if mark else None) from None
    if not isinstance(entries, list):
        raise SourceError(f"must be a list of {what}", path=path, line=1)
    return [(entry, tree.value[number].start_mark.line + 1) for number, entry in enumerate(entries)]


# --- interactive figures ----------------------------------------------------------------

def headings(page: Page) -> list[tuple[int, int, str, set[str]]]:
    """(line, level, title, names) of each heading; names: its id and the :label: under it."""
    found = []
    for block in (b for b in page.blocks if b.kind == "markdown"):
        source = block.source.split("\n")
        for heading in structure(block.source)[0]:
            under = source[heading.last + 1] if heading.last + 1 < len(source) else ""
            names = {nodes.make_id(heading.title)}
            if label := LABEL_LINE.match(under):
                names.add(label.group(2))
            found.append((block.lines[heading.first], heading.level, heading.title, names))
    return found


def placements(root: Path, page: Page) -> list[Placement]:
    """The page's interactive figures, checked: every error names the .yml file and line."""
    path = beside(page, INTERACTIVE)
    entries = _entries(root, path, "figures (`- id: ...`)")
    sections = headings(page) if entries else []   # parsed only for a page that has figures placed
    placements = []
    for entry, line in entries:
        where: Where = {"path": path, "line": line}
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("id", "script", "after")):
            raise SourceError("each figure needs `id`, `script` and `after`", **where,
                              fix="see bookbuild/read/sidecars.py for the form of this file")
        if not isinstance(entry.get("description", ""), str):
            raise SourceError("`description` must be a sentence (text)", **where)
        files = {}
        for key in ("script", "style"):
            if entry.get(key):
                inside(root, Path(path.parent, entry[key]), where, f"{key} {entry[key]}")
                files[key] = Path(posixpath.normpath(posixpath.join(path.parent.as_posix(), entry[key])))
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



# --- groups expected to differ ------------------------------------------------------------

def expected(root: Path, page: Page) -> list[Expected]:
    """The page's groups expected to differ (its `<page>.agreement.yml`)."""
    path = beside(page, AGREEMENT)
    found = []
    for entry, line in _entries(root, path, "groups (`- code: ...`)"):
        if not isinstance(entry, dict) or set(entry) != {"code", "reason"} or not all(
                isinstance(entry[k], str) and entry[k].strip() for k in ("code", "reason")):
            raise SourceError("each group needs `code` (a piece of its code) and `reason`, nothing else",
                              path=path, line=line, fix="see bookbuild/read/sidecars.py for the form of this file")
        matching = [run for run in runs(page) if run.kind == "code" and Expected(entry["code"], "", 0).matches(run)]
        if len(matching) != 1:
            raise SourceError(f"`code: {entry['code']}` names {len(matching)} tab groups of {page.path}, not one",
                              path=path, line=line, fix="quote a piece of code that only that group holds")
        found.append(Expected(entry["code"], entry["reason"].strip(), line))
    return found
