"""The build, stage after stage: read -> library -> split -> execute (cached) -> agree -> merge -> render
(merge and render go on beside the agreement stage, which they do not need).

Each stage is a module that takes the previous one's value and hands on its own;
this module only chains them, under the checkout's build lock, with the report
recorded on every outcome. Where everything goes is `config.Paths`.

A failing cell stops only its notebook: the other stages still run, the site shows
the failure in its tab, and the failures are raised at the end (exit 2). A source
or render error stops the build and keeps the last good site.
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from pathlib import Path

from bookbuild import environments, log
from bookbuild.agreement import compare
from bookbuild.config import BookConfig, Paths
from bookbuild.errors import raise_all
from bookbuild.execute import notebooks, shards, split
from bookbuild.library import build_library, warn_differences, write_library
from bookbuild.log import warn
from bookbuild.merge import pages
from bookbuild.read import book
from bookbuild.render import pdf, site
from bookbuild.report import BuildReport, build_lock, recorded

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Options:
    command: str = "html"                    # "html", "check" (d2l/ in sync, execute and compare only) or "pdf"
    frameworks: tuple[str, ...] = ()         # execute only these (default: all of build.yml)
    shard: tuple[int, int] = (1, 1)          # (i, n): execute the i-th of n shares of the pages with code
    executed_dir: Path | None = None         # take executed notebooks from here instead of executing
    retry: bool = False                      # run again the notebooks that failed, though nothing changed


def build(config: BookConfig, options: Options = Options(), paths: Paths | None = None) -> BuildReport:
    paths = paths or Paths.of(config)
    frameworks = [config.framework(name) for name in options.frameworks] or list(config.frameworks)
    runs_kernels = not options.executed_dir and notebooks.strategy(config).kernels
    log.kinds(config.warnings.silence, config.warnings.fatal)
    timed = shards.last_timings(paths, options.shard)
    with build_lock(paths), recorded(paths, options.command) as report:
        for notice in config.notices:
            warn(logger, "config", notice)
        report.shard = "/".join(map(str, options.shard)) if options.shard[1] > 1 else None
        with report.stage("read"):
            environments.check_ready(config, frameworks, options.command, executes=runs_kernels)
            source = book.read_book(config)
            for warning in source.warnings:
                warn(logger, "label-again", warning)
        with report.stage("library"):
            library = build_library(config, source)
            report.library = library.differences
            warn_differences(library)
            if options.command == "check" and (drift := library.drift()):
                raise drift
            library_folder = write_library(library, paths.library)
            split_notebooks = split.split_book(source, frameworks, environments.fingerprints(config, frameworks),
                                               library.keys)
        with report.stage("execute"):
            if options.executed_dir:
                execution = notebooks.load_executed(options.executed_dir, source, split_notebooks)
            else:
                shard = shards.shard_of(list(source.pages), options.shard, [fw.name for fw in frameworks], timed)
                execution = notebooks.execute(config, paths, source, split_notebooks, shard, library_folder,
                                              retry=options.retry)
            report.notebooks = execution.reports
        # The render needs only the book's runs: it goes on beside the agreement stage's reseeded runs.
        render = Beside(lambda: _render(config, paths, source, execution, library_folder, options.command, report)) \
            if options.command != "check" else None
        with render or contextlib.nullcontext(), report.stage("agree"):
            def measure(until):   # the reseeded runs the agreement stage asks for
                if options.executed_dir:   # executed elsewhere: they travelled with the notebooks
                    return notebooks.load_reseeded(options.executed_dir, split_notebooks, until)
                return notebooks.execute(config, paths, source, split_notebooks,
                                         [p for p in source.pages if p.path in until], library_folder,
                                         reseeded=True, retry=options.retry, until=until)

            report.agreement, spreads = compare.check(source, execution, config, measure)
            report.notebooks += spreads.reports if spreads else []
            if len(frameworks) < len(config.frameworks) and not options.executed_dir:
                # One framework's job (CI): which groups differ is known only once every tab has run, so its
                # reseeded runs are made for all its pages, whole, and travel with its executed notebooks.
                until = {p.path: {fw.name: None for fw in frameworks if execution.ran(p.path, fw.name)}
                         for p in shard}
                report.notebooks += measure({path: names for path, names in until.items() if names}).reports
        strict = config.agreement.strict or options.command == "check"
        raise_all(execution.failures + (compare.disagreements(report.agreement) if strict else [])
                  + log.fatal_warnings())
    return report


def _render(config, paths, source, execution, library_folder, command: str, report: BuildReport) -> None:
    with report.stage("render"):
        pages.stage(config, paths, source, execution, pdf.built_pdfs(config, paths), library_folder)
        if command == "pdf":
            pdf.render_pdfs(config, paths)
            pages.stage(config, paths, source, execution, pdf.built_pdfs(config, paths), library_folder)
        report.site = str(site.render(config, paths, "html"))


class Beside(threading.Thread):
    """A stage run in a thread beside the ones that follow it: leaving the `with` block waits for it to end, and
    raises what it raised (after what the block raised, if anything: that one is the first error). The main
    thread keeps Ctrl-C; an interrupted build leaves the stage to end, as its work is written aside (the
    render's new site replaces the last good one only once it is whole)."""

    def __init__(self, work):
        super().__init__(name="beside", daemon=True)
        self.work, self.error = work, None

    def run(self) -> None:
        try:
            self.work()
        except BaseException as err:  # noqa: BLE001 - raised in the main thread, on leaving the block
            self.error = err

    def __enter__(self) -> Beside:
        self.start()
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if kind is not None:
            return   # the block's error goes first; the stage's thread ends with the process
        while self.is_alive():
            self.join(0.1)   # in steps: Ctrl-C still reaches the main thread
        if self.error is not None:
            raise self.error
