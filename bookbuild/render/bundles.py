"""Stage 5, render: a page's stylesheets and scripts in a few requests.

A page links about six stylesheets and a dozen (deferred) script files. A phone's browser opens six
connections to a host at a time over HTTP/1.1, so they queued behind one another, and Lighthouse's
simulated phone held the page's first and largest paints back until they had loaded. Here each run of
consecutive stylesheet links, and of deferred script files, of the site's `_static/` in a written page
becomes one file named by its content (`_static/bundles/<digest>.css|js`), whose first line names the
files it holds. Stylesheets apply in document order, and deferred scripts run in it once the page is
parsed, so one file holding a run in its order does what the run did. Bundles no page uses any more are
removed with the site's other unused outputs (site.py). A file the render itself makes anew (searchindex.js,
math.css: pages not written again would keep a bundle of the last one) or from elsewhere keeps its own tag.

Where one file differs from several, a file starts a bundle of its own or keeps its tag:
* a stylesheet with `@import` or `@charset` (valid only at a file's top) or a relative `url()` (which
  would resolve from the bundles' folder) keeps its tag;
* a script whose top-level declarations an earlier file of the bundle mentions starts a new one: in one
  file, a later file's names exist (hoisted, or not yet initialised: `typeof Search` throws) while an
  earlier file runs (sphinx_highlight.js asks `typeof Search`, which searchtools.js declares).
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import posixpath
import re
from collections.abc import Callable
from pathlib import Path

from bookbuild.render.typeset_math import MATH_CSS
from bookbuild.whole import write_whole

FOLDER = "_static/bundles"
# A declaration at the start of a line: a file's top level, in the files Sphinx, themes and extensions ship
DECLARED = re.compile(r"^(?:const|let|var|class|function\*?|async function)\s+([A-Za-z_$][\w$]*)", re.M)


def _starts_a_script_bundle(text: str, earlier: str) -> bool:
    return any(re.search(rf"(?<![\w$.]){re.escape(name)}(?![\w$])", earlier) for name in DECLARED.findall(text))


@dataclasses.dataclass(frozen=True)
class Kind:
    suffix: str
    tag: str                                  # a regex of one tag, its file's path as group 1
    written: str                              # the bundle's tag, with {src}
    joins: Callable[[str], bool]              # whether a file's text may be in a bundle
    starts_anew: Callable[[str, str], bool]   # whether a file (text, the bundle's texts so far) starts a new one
    between: str                              # between two files' texts: keeps each one's last statement or rule

    def run(self) -> re.Pattern:
        """Two tags or more, with only white space between."""
        return re.compile(rf"{self.tag}(?:\s*{self.tag})+")


KINDS = (
    Kind(".css", r'<link rel="stylesheet" (?:type="text/css" )?href="([^":?]+)(?:\?[^"]*)?" ?/?>',
         '<link rel="stylesheet" type="text/css" href="{src}" />',
         joins=lambda text: not re.search(r"@import|@charset|url\(\s*(?!['\"]?data:)", text),
         starts_anew=lambda text, earlier: False, between="\n"),
    # The empty statement also keeps a "use strict" at the top of the first file from applying to the others
    Kind(".js", r'<script defer(?:="defer")? src="([^":?]+)(?:\?[^"]*)?"></script>',
         '<script defer="defer" src="{src}"></script>', joins=lambda text: True,
         starts_anew=_starts_a_script_bundle, between="\n;\n"),
)


def bundle(app, exception) -> None:
    """`build-finished`: the stylesheets and scripts of every page written, in as few files as they allow."""
    if exception is not None or app.builder.format != "html":
        return
    site = Path(app.outdir)
    for pagename in sorted(app.builder.d2l_written):   # the pages this render wrote: typeset_math notes them
        page = site / app.builder.get_target_uri(pagename)
        if page.suffix == ".html" and page.is_file():
            text = page.read_text(encoding="utf-8")
            bundled = text
            for kind in KINDS:
                bundled = kind.run().sub(functools.partial(_bundled, kind=kind, page=page, site=site), bundled)
            if bundled != text:
                write_whole(page, bundled)


def used(site: Path) -> set[str]:
    """The site-relative paths of the bundles its pages link (site.py removes the others)."""
    return {f"{FOLDER}/{name}" for page in site.rglob("*.html")
            for name in re.findall(rf'"(?:[^"]*/)?{re.escape(FOLDER)}/([0-9a-f]+\.(?:css|js))"',
                                   page.read_text(encoding="utf-8"))}


def _bundled(run: re.Match, kind: Kind, page: Path, site: Path) -> str:
    """The tags of a run: a bundle for each part its files allow, a file alone keeping its own tag."""
    static, made = (site / "_static").resolve(), {(site / "_static" / MATH_CSS).resolve()}
    parts: list[list[tuple[str, Path, str]]] = [[]]   # (tag, file, text)
    for match in re.finditer(kind.tag, run.group(0)):
        source = page.parent / match.group(1)
        text = source.read_text(encoding="utf-8") \
            if source.resolve().is_relative_to(static) and source.resolve() not in made and source.is_file() else None
        if text is None or not kind.joins(text):
            parts += [[(match.group(0), source, "")], []]
            continue
        if kind.starts_anew(text, "\n".join(t for _, _, t in parts[-1])):
            parts.append([])
        parts[-1].append((match.group(0), source, text))
    return "\n".join(part[0][0] if len(part) == 1 else _one_file(part, kind, page, site) for part in parts if part)


def _one_file(part: list[tuple[str, Path, str]], kind: Kind, page: Path, site: Path) -> str:
    names = [source.resolve().relative_to(site.resolve()).as_posix() for _, source, _ in part]
    content = f"/* {' '.join(names)} */{kind.between}" + kind.between.join(text for _, _, text in part)
    name = hashlib.sha256(content.encode("utf-8")).hexdigest()[:20] + kind.suffix
    target = site / FOLDER / name
    if not target.is_file():
        write_whole(target, content)
    folder = page.parent.relative_to(site).as_posix() or "."
    return kind.written.format(src=posixpath.relpath(f"{FOLDER}/{name}", folder))


def setup(app):
    # After every other: Furo writes pygments.css anew on build-finished, typeset_math its math.css
    app.connect("build-finished", bundle, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": False}
