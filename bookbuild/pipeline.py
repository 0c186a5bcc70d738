"""The stages in order: read -> split -> execute (cached) -> merge -> render.

Everything the build writes lives under `_build/`:

    executed/<framework>/<page>.ipynb  each framework's executed notebooks (CI artifacts)
    staging/                           the merged pages Sphinx reads (written only when changed,
                                       so Sphinx re-renders only what changed)
    staging/_notebooks/                the readers' downloadable notebooks
    cache/                             jupyter-cache's execution cache
    html/                              the site; removed when a build fails
    report.json                        per framework and cell: status and seconds
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

import nbformat

from bookbuild import dialect, environments, merge, split
from bookbuild.config import BookConfig
from bookbuild.execute import Executor, Job, NotebookReport, code_cells


CONF_DIR = Path(__file__).resolve().parent.parent  # conf.py, static/


class BuildError(Exception):
    """The build stopped; the message says where and what to do."""


@dataclasses.dataclass(frozen=True)
class Paths:
    out: Path

    @classmethod
    def under(cls, root: Path) -> "Paths":
        return cls(Path(root) / "_build")

    executed = property(lambda self: self.out / "executed")
    staging = property(lambda self: self.out / "staging")
    cache = property(lambda self: self.out / "cache")
    doctrees = property(lambda self: self.out / "doctrees")
    report = property(lambda self: self.out / "report.json")

    def site(self, builder: str) -> Path:
        return self.out / builder


def log(message: str) -> None:
    print(message, flush=True)


def write_if_changed(path: Path, content: str | bytes) -> bool:
    """Leave an unchanged file alone: Sphinx decides what to re-render by modification time."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def notebook_text(nb) -> str:
    return nbformat.writes(nb) + "\n"


# --- read, split, execute ----------------------------------------------------------

def read_and_split(config: BookConfig, only: list[str] | None):
    """The book's pages, and for each page with code one notebook per framework."""
    pages = dialect.read_book(config.root, config.index, config.names)
    frameworks = [fw for fw in config.frameworks if not only or fw.name in only]
    fingerprints = {fw.name: environments.fingerprint(fw, config) for fw in frameworks}
    notebooks = {page.path: {fw.name: split.notebook_for(page, fw, fingerprints[fw.name]) for fw in frameworks}
                 for page in pages}
    return pages, notebooks


def execute(config: BookConfig, paths: Paths, pages, notebooks, timeout: int) -> list[NotebookReport]:
    jobs = [Job(page, config.framework(name), nb, config.root / page.path.parent)
            for page in pages for name, nb in notebooks[page.path].items()]
    reports = Executor(paths.cache, environments.jupyter_path(), timeout, log).run(jobs)
    for job in jobs:
        notebooks[job.page.path][job.framework.name] = job.notebook
        write_if_changed(executed_path(paths.executed, job.framework.name, job.page.path),
                         notebook_text(job.notebook))
    return reports


def executed_path(directory: Path, framework: str, page: Path) -> Path:
    return Path(directory) / framework / page.with_suffix(".ipynb")


def load_executed(directory: Path, pages, notebooks) -> list[NotebookReport]:
    """Take notebooks executed elsewhere (CI's per-framework jobs) instead of running them."""
    reports = []
    for page in pages:
        for name, wanted in notebooks[page.path].items():
            path = executed_path(directory, name, page.path)
            if not path.is_file():
                raise BuildError(f"{path}: no executed {name} notebook for {page.path}; "
                                 f"run `make check TAB={name}` and copy _build/executed/{name} there")
            executed = nbformat.read(path, as_version=4)
            if [(c.get("id"), c.source) for c in code_cells(executed)] != \
               [(c.get("id"), c.source) for c in code_cells(wanted)]:
                raise BuildError(f"{path}: executed from other code than {page.path} has now; "
                                 f"run `make check TAB={name}` again")
            for cell in executed.cells:
                if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
                    raise BuildError(f"{path}: cell {cell.get('id')} holds an error output; "
                                     f"fix it and run `make check TAB={name}` again")
            notebooks[page.path][name] = executed
            reports.append(NotebookReport(str(page.path), name, "loaded"))
    return reports


# --- merge --------------------------------------------------------------------------

def stage(config: BookConfig, paths: Paths, pages, notebooks) -> None:
    """Write what Sphinx reads: one merged notebook per page, downloads, images."""
    written = set()

    def put(relative: Path, content: str | bytes) -> None:
        write_if_changed(paths.staging / relative, content)
        written.add(paths.staging / relative)

    pdfs = {}  # built by `make pdf`: linked from every page with code
    for fw in config.frameworks:
        for built in sorted((paths.out / "pdf").glob(f"*-{fw.name}.pdf")):
            target = Path("_pdf") / built.name
            put(target, built.read_bytes())
            pdfs[fw.name] = "/" + target.as_posix()
    for page in pages:
        downloads = {}
        if page.has_code:
            for name, nb in notebooks[page.path].items():
                target = Path("_notebooks") / page.path.parent / f"{page.path.stem}-{name}.ipynb"
                put(target, notebook_text(split.for_download(nb, config.framework(name))))
                downloads[name] = "/" + target.as_posix()
        merged = merge.merge(page, notebooks[page.path], config, downloads, pdfs if page.has_code else None)
        put(page.path.with_suffix(".ipynb"), notebook_text(merged))
        for image in page_images(config.root, page):
            put(image, (config.root / image).read_bytes())
    for stale in [p for p in paths.staging.rglob("*") if p.is_file() and p not in written]:
        stale.unlink()


def page_images(root: Path, page) -> list[Path]:
    """Images a page shows, relative to the book root; a missing one stops the build."""
    images = []
    for block in page.blocks:
        if block.kind != "markdown":
            continue
        for offset, line in enumerate(block.source.splitlines()):
            found = dialect.IMAGE_LINE.match(line)
            if found and "://" not in found.group(2):
                image = Path(page.path.parent, found.group(2))
                if not (root / image).is_file():
                    raise BuildError(f"{page.path}:{block.line + offset}: image {found.group(2)} not found "
                                     f"(looked for {image})")
                images.append(Path(*_normalise(image.parts)))
    return images


def _normalise(parts):
    out = []
    for part in parts:
        if part == "..":
            out.pop()
        elif part != ".":
            out.append(part)
    return out


# --- render -------------------------------------------------------------------------

RENDER_INPUTS = ("conf.py", "static", "templates", "locale", "bookbuild", "d2l.bib")


def render_fingerprint(paths: Paths, builder: str, overrides: dict) -> str:
    """Everything a render reads: the staged pages and the site's own configuration and code."""
    paths.doctrees.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(json.dumps([builder, overrides], sort_keys=True, default=str).encode())
    files = sorted(p for p in paths.staging.rglob("*") if p.is_file()
                   and not (builder == "latex" and p.is_relative_to(paths.staging / "_pdf")))
    for name in RENDER_INPUTS:
        files += sorted(p for p in [CONF_DIR / name, *(CONF_DIR / name).rglob("*")]
                        if p.is_file() and p.suffix not in (".pyc", ".mo"))
    for path in files:
        digest.update(str(path).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def render(config: BookConfig, paths: Paths, builder: str, overrides: dict | None = None,
           site: Path | None = None) -> Path:
    """Sphinx over the staging directory; warnings are errors. A failed render leaves no site.
    When nothing Sphinx reads has changed since the last render, the site is left as it is."""
    from sphinx.application import Sphinx  # imported late: `check` never renders
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    site = site or paths.site(builder)
    # conf.py is the project's; the tabs come from the build.yml being built.
    overrides = {"d2l_frameworks": [(fw.name, fw.label) for fw in config.frameworks], **(overrides or {})}
    if (config.root / "d2l.bib").is_file():  # the book's own bibliography
        overrides.setdefault("bibtex_bibfiles", [str(config.root / "d2l.bib")])
    name = site.relative_to(paths.out).as_posix().replace("/", "-")
    stamp, fingerprint = paths.doctrees / f"{name}.rendered", render_fingerprint(paths, builder, overrides)
    if site.is_dir() and stamp.is_file() and stamp.read_text() == fingerprint:
        log(f"[render] {site}: nothing changed")
        return site
    stamp.unlink(missing_ok=True)
    log(f"[render] sphinx {builder} -> {site}")
    try:
        # As sphinx-build does it: a clean docutils registry for every build in this process.
        with patch_docutils(CONF_DIR), docutils_namespace():
            app = Sphinx(str(paths.staging), str(CONF_DIR), str(site), str(paths.doctrees / builder),
                         builder, confoverrides=overrides, status=None, warning=sys.stderr,
                         warningiserror=True, verbosity=0)
            app.build()
            failed = app.statuscode != 0
    except Exception as err:  # Sphinx's own errors carry the document and line
        failed = err
    if failed:
        shutil.rmtree(site, ignore_errors=True)
        shutil.rmtree(paths.doctrees / builder, ignore_errors=True)
        detail = f": {failed}" if isinstance(failed, Exception) else " (the warnings above are errors)"
        raise BuildError(f"rendering with Sphinx failed{detail}; no site was left in {site}")
    stamp.write_text(fingerprint)
    return site


# --- the report ---------------------------------------------------------------------

def write_report(paths: Paths, reports: list[NotebookReport], seconds: dict[str, float]) -> None:
    data = {"notebooks": [dataclasses.asdict(r) for r in reports], "seconds": seconds}
    paths.out.mkdir(parents=True, exist_ok=True)
    paths.report.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    log(f"\nBuild report ({paths.report}):")
    for r in [r for r in reports if r.cells or r.status != "cached"]:
        cells = " ".join(f"{c.number}:{'cached' if c.status == 'cached' else f'{c.seconds:.1f}s'}"
                         for c in r.cells)
        log(f"  {r.page:40} {r.framework:11} {r.status:8} {r.seconds:6.1f} s  {cells}")
    log("  " + ", ".join(f"{stage} {s:.1f} s" for stage, s in seconds.items()))


def render_pdfs(config: BookConfig, paths: Paths) -> dict[str, Path]:
    """One PDF per framework from the staged pages: _build/pdf/<name>-<framework>.pdf."""
    from bookbuild import pdf

    pdf.check_toolchain()
    pdfs = {}
    for fw in config.frameworks:
        started = time.monotonic()
        latex_dir = render(config, paths, "latex", {"d2l_tab": fw.name}, site=paths.out / "latex" / fw.name)
        tex = next(latex_dir.glob("*.tex")).name
        target = paths.out / "pdf" / f"{Path(tex).stem}-{fw.name}.pdf"
        log(f"[pdf] {fw.name}: xelatex {latex_dir / tex}")
        pdfs[fw.name] = pdf.compile_pdf(latex_dir, tex, target)
        log(f"[pdf] {fw.name}: {target} ({target.stat().st_size / 1e6:.1f} MB, {time.monotonic() - started:.0f} s)")
    return pdfs


def build(config: BookConfig, *, builder: str = "html", only: list[str] | None = None,
          executed_dir: Path | None = None, render_site: bool = True, overrides: dict | None = None,
          timeout: int = 600, paths: Paths | None = None) -> list[NotebookReport]:
    """The whole build. `only`: execute these frameworks and stop (the per-tab check);
    `executed_dir`: take executed notebooks from there instead of executing."""
    paths = paths or Paths.under(config.root)
    needed = ["build"] + ([] if executed_dir else list(only or config.names))
    if outdated := environments.stale(config, needed):
        raise BuildError(f"environment(s) {', '.join(outdated)} missing or older than their requirement "
                         f"files: run `make env`")
    started = time.monotonic()
    seconds = {}
    try:
        pages, notebooks = read_and_split(config, only)
        if executed_dir:
            reports = load_executed(Path(executed_dir), pages, notebooks)
        else:
            reports = execute(config, paths, pages, notebooks, timeout)
        seconds["execute"] = time.monotonic() - started
        if render_site:
            stage(config, paths, pages, notebooks)
            begun = time.monotonic()
            if builder == "pdf":
                render_pdfs(config, paths)
            else:
                render(config, paths, builder, overrides)
            seconds["render"] = time.monotonic() - begun
    except Exception:
        if render_site and builder != "pdf":
            shutil.rmtree(paths.site(builder), ignore_errors=True)
        raise
    seconds["total"] = time.monotonic() - started
    write_report(paths, reports, seconds)
    return reports
