"""Stage 5, render: Sphinx over the staged pages -> the site (or LaTeX for the PDFs).

Sphinx renders into a new folder, with a copy of its doctrees; only when it
succeeds do they replace `_build/html` and the doctrees. A failed or interrupted
render leaves the last good site where it was. Writing every page into an empty
folder (Sphinx re-reads only the pages that changed) makes a render depend only
on what it renders, not on the build's history: the same staged pages give the
same bytes, search index included.

Warnings are errors. They are reported at the chapter's own file and line: each
merged notebook records which source lines its cells came from (tab_marks).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import sys
import time
from pathlib import Path

from bookbuild import tab_marks
from bookbuild.config import RENDER_INPUTS, ROOT, BookConfig, Paths
from bookbuild.errors import BookError, Interrupted, RenderError, StorageError, disk_error, no_space_in
from bookbuild.render import mystnb_adapter
from bookbuild.tab_marks import Manifest, Staged
from bookbuild.whole import write_whole

logger = logging.getLogger(__name__)

NOTEBOOK_LINE = re.compile(r"(?P<path>\S+?\.ipynb):(?P<line>\d+):")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def sphinx_settings(config: BookConfig) -> dict:
    """The book's settings (build.yml) as Sphinx configuration values; conf.py holds the rest."""
    book = config.book
    return {
        "project": book.title,
        "html_title": book.title,
        "author": ", ".join(book.authors),
        "copyright": book.copyright,
        "d2l_frameworks": [(fw.name, fw.label) for fw in config.frameworks],
        "d2l_tab": config.default_tab,
        "d2l_published_url": book.published_url,
        "d2l_published_labels": str(book.published_labels or ""),
        "bibtex_bibfiles": [str(book.bibliography)] if book.bibliography else [],
        "d2l_launch": f"{config.launch.repository}@{config.launch.branch}" if config.launch else "",
        # The 404 page (templates/404.html), served at any missing address, links from the site's root.
        "html_additional_pages": {"404": "404.html"},
        "html_context": {"d2l_base_path": config.base_path},
    }


def paths_settings(manifest: Manifest) -> dict:
    """Where Sphinx finds what the merge stage staged for the site as it is (the d2l wheel)."""
    extra = manifest.staging / Staged.EXTRA
    return {"html_extra_path": [str(extra)] if any(p.parts[0] == Staged.EXTRA for p in manifest.assets) else []}


class SourceWarnings:
    """Sphinx's warning stream, rewritten to point at the sources and kept for the error message."""

    def __init__(self, staging: Path, out=None):
        self.staging, self.out, self._partial = staging, out or sys.stderr, ""
        self.lines: list[str] = []
        self._maps: dict[str, dict | None] = {}

    def write(self, text: str) -> int:
        self._partial += text
        *complete, self._partial = self._partial.split("\n")
        for line in complete:
            line = self.to_source(ANSI.sub("", line))
            if line.strip():
                self.lines.append(line)
                self.out.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        self.out.flush()

    def to_source(self, line: str) -> str:
        found = NOTEBOOK_LINE.search(line)
        if found and (source := self._source_of(found.group("path"))):
            cell, line_in_cell = mystnb_adapter.cell_and_line(int(found.group("line")))
            lines = source["lines"][cell - 1] if 0 < cell <= len(source["lines"]) else [None]
            number = lines[min(max(line_in_cell, 0), len(lines) - 1)] if lines else None
            line = line[:found.start()] + f"{source['path']}:{number}:" + line[found.end():]
        return line.replace(str(self.staging) + os.sep, "")

    def _source_of(self, path: str) -> dict | None:
        if path not in self._maps:
            try:
                self._maps[path] = json.loads(Path(path).read_text(encoding="utf-8"))["metadata"][tab_marks.SOURCE_KEY]
            except (OSError, ValueError, KeyError):
                self._maps[path] = None
        return self._maps[path]


def fingerprint(manifest: Manifest, builder: str, overrides: dict) -> tuple[str, str]:
    """Everything a render reads, in two digests: what Sphinx does not track page by page (the settings, the
    site's own code, the bibliography and label tables it reads), then that with the staged files (the merge
    stage's digest of them, and the PDFs, which it leaves out)."""
    digest = hashlib.sha256(json.dumps([builder, overrides], sort_keys=True, default=str).encode())
    files: list[Path] = []
    for name in RENDER_INPUTS:
        files += sorted(p for p in [ROOT / name, *(ROOT / name).rglob("*")]
                        if p.is_file() and p.suffix not in (".pyc", ".mo") and p.name != "sphinx.js")
    files += [Path(f) for f in [*overrides.get("bibtex_bibfiles", []), overrides.get("d2l_published_labels")] if f]
    for path in files:
        digest.update(str(path).encode() + b"\0" + path.read_bytes())
    settings = digest.hexdigest()
    digest.update(str(manifest.staging).encode() + b"\0" + manifest.digest.encode())
    for path in (manifest.staging / p for p in sorted(manifest.pdfs.values())):
        digest.update(str(path).encode() + b"\0" + path.read_bytes())
    return settings, digest.hexdigest()


def _replace(new: Path, target: Path) -> None:
    """Put `new` where `target` is, in two renames: the old one is never missing for long."""
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def render(config: BookConfig, paths: Paths, manifest: Manifest, builder: str = "html",
           overrides: dict | None = None, site: Path | None = None) -> Path:
    """Sphinx with `builder` over what the merge stage staged (`manifest`) into `site` (default
    _build/<builder>)."""
    from sphinx.application import Sphinx  # imported late: `make check` never renders
    from sphinx.errors import SphinxError
    from sphinx.util import console
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    from bookbuild.render import typeset_math

    site = site or paths.site(builder)
    overrides = {**sphinx_settings(config), **paths_settings(manifest), **(overrides or {})}
    name = site.relative_to(paths.out).as_posix().replace("/", "-")
    doctrees = paths.doctrees / name
    stamp, (settings, wanted) = paths.doctrees / f"{name}.rendered", fingerprint(manifest, builder, overrides)
    if site.is_dir() and stamp.is_file() and stamp.read_text() == wanted:
        logger.info(f"[render] {site.relative_to(paths.out.parent)}: nothing changed")
        return site
    new_site, new_doctrees = site.with_name(site.name + ".new"), doctrees.with_name(doctrees.name + ".new")
    kept = "the last good site is kept" if site.is_dir() else "there is no site yet"
    for folder in (new_site, new_doctrees):
        shutil.rmtree(folder, ignore_errors=True)
    # Sphinx writes only the pages that changed into a copy of the last site, unless what every page
    # shows of the others changed (titles, headings, labels, tocs: the navigation): then all, afresh.
    # What Sphinx does not track page by page (settings, our code, the tables it reads) starts all afresh.
    navigation, known = navigation_of(manifest), paths.doctrees / f"{name}.navigation"
    known_settings = paths.doctrees / f"{name}.settings"
    same_settings = known_settings.is_file() and known_settings.read_text() == settings
    try:
        if doctrees.is_dir() and same_settings:
            shutil.copytree(doctrees, new_doctrees)
            if site.is_dir() and known.is_file() and known.read_text() == navigation:
                shutil.copytree(site, new_site, copy_function=shutil.copy2)
        elif (doctrees / typeset_math.CACHE).is_file():   # it holds what it depends on: its program, the formulas
            new_doctrees.mkdir(parents=True)
            shutil.copy2(doctrees / typeset_math.CACHE, new_doctrees / typeset_math.CACHE)
    except (OSError, shutil.Error) as err:
        _discard(new_site, new_doctrees)
        raise _storage(err, f"copying the last site into {new_site.name}; {kept}") from None
    if not getattr(sys.stderr, "isatty", lambda: False)():
        console.nocolor()   # no colour codes in logs written to files
    logger.info(f"[render] sphinx {builder} -> {site.relative_to(paths.out.parent)}")
    warnings = SourceWarnings(manifest.staging)
    try:
        # As sphinx-build does it: a clean docutils registry for every build in this process.
        with patch_docutils(ROOT), docutils_namespace():
            app = Sphinx(str(manifest.staging), str(ROOT), str(new_site), str(new_doctrees), builder,
                         confoverrides=overrides, status=None, warningiserror=True,
                         warning=warnings,  # type: ignore[arg-type]  # Sphinx only write()s to its warning stream
                         verbosity=0)
            phases = {"start": time.monotonic()}   # where a render's time goes: Sphinx's reading, writing, math
            app.connect("env-updated", lambda app, env: _mark(phases, "read"))   # returns no docnames to re-read
            app.connect("build-finished", lambda app, exc: _mark(phases, "write"), priority=100)   # before the math
            try:
                app.build()
            finally:
                typeset_math.stop(app)   # its MathJax, however the build ended: Sphinx tells of an Exception only
            phases["finish"] = time.monotonic()
        failure = None if app.statuscode == 0 else "the warnings above are errors"
    except KeyboardInterrupt:
        _discard(new_site, new_doctrees)
        raise Interrupted(f"the render was interrupted; {kept}") from None
    except BookError:
        _discard(new_site, new_doctrees)
        raise
    except SphinxError as err:   # Sphinx's own, and what its extensions report through it ...
        cause = getattr(err, "orig_exc", None)
        if cause is not None and not isinstance(cause, SphinxError):
            _discard(new_site, new_doctrees)   # ... unless an extension's handler broke: ours to fix
            if isinstance(cause, OSError):
                raise _storage(cause, f"rendering into {new_site.name}; {kept}") from None
            raise cause from err
        failure = f"{type(err).__name__}: {warnings.to_source(str(err))}"
    except OSError as err:
        _discard(new_site, new_doctrees)
        raise _storage(err, f"rendering into {new_site.name}; {kept}") from None
    except BaseException:        # a bug in the build or an extension: not the source's fault
        _discard(new_site, new_doctrees)
        raise
    if failure and no_space_in(RuntimeError("\n".join([failure, *warnings.lines]))):
        _discard(new_site, new_doctrees)   # Sphinx tells of a file it could not write as a warning
        raise StorageError(f"no space left on device while rendering into {new_site.name}; {kept}",
                           fix="free space on that disk, then build again: nothing half-written was kept")
    if failure:
        _discard(new_site, new_doctrees)
        first = warnings.lines[0] if warnings.lines else failure
        found = re.search(r"(?P<path>[^\s:()]+):(?P<line>\d+|None): (?:(?:WARNING|ERROR|CRITICAL): )?(?P<msg>.*)",
                          first)
        detail = "\n".join(warnings.lines[1:6] + ([failure] if warnings.lines else []))
        if found:
            raise RenderError(found.group("msg"), path=found.group("path"),
                              line=int(found.group("line")) if found.group("line").isdigit() else None,
                              detail=detail, fix=f"correct the source at that line; {kept} in {site}")
        raise RenderError(f"Sphinx could not render the book: {first}", detail=detail, fix=f"{kept} in {site}")
    if {"read", "write"} <= phases.keys():
        logger.info(f"[render] sphinx {builder}: read {phases['read'] - phases['start']:.1f} s, write "
            f"{phases['write'] - phases['read']:.1f} s, then {phases['finish'] - phases['write']:.1f} s "
            f"(waiting for the math: {getattr(app.builder, 'd2l_math_seconds', 0):.1f} s)")
    try:
        _prune_outputs(app, new_site)
        _drop_words_no_page_holds(new_site)
        _keep_what_writing_gathered(app, new_doctrees)
    except OSError as err:
        _discard(new_site, new_doctrees)
        raise _storage(err, f"finishing {new_site.name}; {kept}") from None
    try:
        _replace(new_site, site)
        _replace(new_doctrees, doctrees)
        stamp.write_text(wanted)
        known.write_text(navigation)
        known_settings.write_text(settings)
    except OSError as err:
        _discard(new_site, new_doctrees, stamp)   # without its stamp, the next build renders again
        raise _storage(err, f"putting the new site in place of {site.name}") from None
    return site


def _storage(err: OSError, doing: str) -> StorageError:
    """A render's OSError, or shutil's Error of a copy (which keeps no errno), as one message."""
    if no_space_in(err):
        return StorageError(f"no space left on device while {doing}",
                            fix="free space on that disk, then build again: nothing half-written was kept")
    if not isinstance(err, shutil.Error):
        return disk_error(err, doing)
    first = err.args[0][0] if err.args and isinstance(err.args[0], list) and err.args[0] else (None, None, err)
    return StorageError(f"{first[2]} while {doing}", path=first[1])


NAVIGATION_LINE = re.compile(r"^(#{1,6} .*|\(\S+\)=)$")


def navigation_of(manifest: Manifest) -> str:
    """What every page shows of the others (the sidebar, previous and next, numbers): each page's
    headings, labels and toc entries. Prose and outputs are not part of it."""
    digest = hashlib.sha256()
    for page in sorted(manifest.pages):
        digest.update(page.as_posix().encode() + b"\0")
        for cell in json.loads((manifest.staging / page).read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] != "markdown":
                continue
            in_toc = False
            for line in "".join(cell["source"]).split("\n"):
                in_toc = (in_toc or line.startswith("```{toctree}")) and not (in_toc and line.startswith("```")
                                                                             and not line.startswith("```{"))
                if in_toc or NAVIGATION_LINE.match(line):
                    digest.update(line.encode() + b"\n")
    return digest.hexdigest()


def _keep_what_writing_gathered(app, doctrees: Path) -> None:
    """Sphinx pickles its environment before it writes the pages, and so loses what writing gathers into it:
    the search index's entries of each page (the API page's names). The next render, writing some pages only,
    would publish an index without those of the others. The environment is pickled again, as it is now."""
    import pickle

    from sphinx.application import ENV_PICKLE_FILENAME

    if app.builder.format == "html":
        write_whole(doctrees / ENV_PICKLE_FILENAME, pickle.dumps(app.env, pickle.HIGHEST_PROTOCOL))


def _drop_words_no_page_holds(site: Path) -> None:
    """Sphinx's search index, rebuilt for some pages only, keeps a word that no page holds any more as an
    empty entry: drop those, so that the site's bytes do not depend on what it was rendered over."""
    from sphinx.search import js_index

    path = site / "searchindex.js"
    if not path.is_file():
        return
    index = js_index.loads(path.read_text(encoding="utf-8"))
    for key in ("terms", "titleterms"):
        index[key] = {word: pages for word, pages in index.get(key, {}).items() if pages != []}
    path.write_text(js_index.dumps(index), encoding="utf-8")


def _prune_outputs(app, site: Path) -> None:
    """Figures are files named by their content, which neither myst-nb (beside the site) nor a site
    written over the last one ever removes: keep only those the book's pages still show; so too the
    downloads, the readers' notebooks (a framework removed from build.yml), the PDFs, the interactive
    figures' files, the d2l wheel and the bundles of stylesheets and scripts: the site publishes exactly
    what its pages use. And Sphinx's note of a changed configuration is not for readers."""
    shown = {(Path(app.srcdir) / image).resolve() for image in app.env.images}
    names = {unique for _, unique in app.env.images.values()}
    outputs = mystnb_adapter.outputs_folder(Path(app.outdir))
    for file in (p for p in outputs.rglob("*") if p.is_file()) if outputs.is_dir() else ():
        if file.resolve() not in shown:
            file.unlink()
    for file in (p for p in (site / "_images").rglob("*") if p.is_file()) if (site / "_images").is_dir() else ():
        if file.name not in names:
            file.unlink()
    from bookbuild.render import bundles, page_tools  # Sphinx's side: imported when rendering only

    used = {f"_downloads/{unique}" for _, unique in app.env.dlfiles.values()}
    used |= {uri for notebooks in page_tools.downloads(app.env).values() for uri in notebooks.values()}
    staged = Path(app.srcdir)
    for folder, source in ((Staged.PDF, staged / Staged.PDF), (Staged.INTERACTIVE, staged / Staged.INTERACTIVE),
                           (Staged.WHEEL, staged / Staged.EXTRA / Staged.WHEEL)):
        used |= {f"{folder}/{p.relative_to(source).as_posix()}" for p in source.rglob("*") if p.is_file()}
    used |= bundles.used(site)   # the pages' stylesheets and scripts, bundled
    for folder in ("_downloads", Staged.NOTEBOOKS, Staged.PDF, Staged.INTERACTIVE, Staged.WHEEL, bundles.FOLDER):
        for file in [p for p in (site / folder).rglob("*") if p.is_file()]:
            if file.relative_to(site).as_posix() not in used:
                file.unlink()
        for empty in [*sorted((p for p in (site / folder).rglob("*") if p.is_dir()), reverse=True), site / folder]:
            if empty.is_dir() and not any(empty.iterdir()):
                empty.rmdir()
    (site / ".buildinfo.bak").unlink(missing_ok=True)


def _mark(phases: dict, name: str) -> None:
    phases.setdefault(name, time.monotonic())


def _discard(*paths: Path) -> None:
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
