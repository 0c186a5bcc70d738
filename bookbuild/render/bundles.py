"""Stage 5, render: a page's deferred scripts in one request.

Every script file of a page is deferred (page_tools.defer_scripts), about a dozen of them. A phone's
browser opens six connections to a host at a time over HTTP/1.1, so they queued behind one another,
and Lighthouse's simulated phone held the page's largest paint back until they had loaded. Here each
run of consecutive deferred script files of a written page becomes one file, named by its content
(`_static/bundles/<digest>.js`): deferred scripts run in document order once the page is parsed, so
one file holding the run in its order runs the same code in the same order. Its first line names the
files it holds. Bundles no page uses any more are removed, as the site publishes only what its pages use.

One difference remains between separate scripts and one: in one, a name a later file declares at its
top level exists (hoisted, or not yet initialised: `typeof Search` throws) while an earlier file runs.
So a file whose top-level declarations an earlier file of the run mentions starts a new bundle
(sphinx_highlight.js asks `typeof Search`, which searchtools.js declares).
"""
from __future__ import annotations

import functools
import hashlib
import posixpath
import re
from pathlib import Path

from bookbuild.whole import write_whole

FOLDER = "_static/bundles"
_SCRIPT = r'<script defer(?:="defer")? src="([^":?]+)(?:\?[^"]*)?"></script>'
RUN = re.compile(rf"{_SCRIPT}(?:\s*{_SCRIPT})+")   # two or more, with only white space between (files of _static/)
USED = re.compile(r'src="(?:[^"]*/)?' + re.escape(FOLDER) + r'/([0-9a-f]+\.js)"')


def note_written(app, pagename, templatename, context, doctree) -> None:
    """`html-page-context`: the pages this render writes."""
    app.builder.d2l_written = getattr(app.builder, "d2l_written", set()) | {pagename}


def bundle(app, exception) -> None:
    """`build-finished`: the runs of deferred scripts of every page written, each one file."""
    if exception is not None or app.builder.format != "html":
        return
    site = Path(app.outdir)
    for pagename in sorted(getattr(app.builder, "d2l_written", ())):
        page = site / app.builder.get_target_uri(pagename)
        if page.suffix == ".html" and page.is_file():
            text = page.read_text(encoding="utf-8")
            bundled = RUN.sub(functools.partial(_bundled, page=page, site=site), text)
            if bundled != text:
                write_whole(page, bundled)
    used = {name for page in site.rglob("*.html") for name in USED.findall(page.read_text(encoding="utf-8"))}
    for stale in (p for p in (site / FOLDER).glob("*.js") if p.name not in used) if (site / FOLDER).is_dir() \
            else ():
        stale.unlink()


# A declaration at the start of a line: a file's top level, in the files Sphinx, themes and extensions ship
DECLARED = re.compile(r"^(?:const|let|var|class|function\*?|async function)\s+([A-Za-z_$][\w$]*)", re.M)


def _bundled(run: re.Match, page: Path, site: Path) -> str:
    """Script tags for the run's files (read from the written site): as few as their declarations allow.
    Only the site's static files are bundled; a script of the page's own (searchindex.js, written anew by
    every render) keeps its own tag."""
    static = (site / "_static").resolve()
    parts: list[list[tuple[str, Path, str]]] = []   # runs of (tag, file, text) to bundle; a file alone keeps its tag
    for match in re.finditer(_SCRIPT, run.group(0)):
        source = page.parent / match.group(1)
        if not (source.resolve().is_relative_to(static) and source.is_file()):
            parts += [[(match.group(0), source, "")], []]
            continue
        text = source.read_text(encoding="utf-8")
        earlier = "\n".join(t for _, _, t in parts[-1]) if parts else ""
        if not parts or any(re.search(rf"(?<![\w$.]){re.escape(name)}(?![\w$])", earlier)
                            for name in DECLARED.findall(text)):
            parts.append([])
        parts[-1].append((match.group(0), source, text))
    return "\n".join(part[0][0] if len(part) == 1 else _one_file(part, page, site) for part in parts if part)


def _one_file(part: list[tuple[str, Path, str]], page: Path, site: Path) -> str:
    names = [source.resolve().relative_to(site.resolve()).as_posix() for _, source, _ in part]
    # The empty statement after the list keeps a "use strict" at the top of the first file from applying
    # to the files after it.
    content = f"/* {' '.join(names)} */\n;\n" + "\n;\n".join(text for _, _, text in part)
    name = hashlib.sha256(content.encode("utf-8")).hexdigest()[:20] + ".js"
    target = site / FOLDER / name
    if not target.is_file():
        write_whole(target, content)
    folder = page.parent.relative_to(site).as_posix() or "."
    return f'<script defer="defer" src="{posixpath.relpath(f"{FOLDER}/{name}", folder)}"></script>'


def setup(app):
    app.connect("html-page-context", note_written)
    app.connect("build-finished", bundle)
    return {"parallel_read_safe": True, "parallel_write_safe": False}
