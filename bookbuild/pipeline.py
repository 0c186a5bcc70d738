"""The build, stage after stage: read -> library -> split -> execute (cached) -> agree -> merge -> render
(merge and render go on beside the agreement stage and the reseeded runs, which they do not need).

Each stage takes the previous one's typed value and hands on its own: BookSource ->
Library -> SplitBook (in an Executor) -> Execution -> Agreement -> Manifest (-> PDFs,
each recording the manifest it was built from) -> the site. This module only chains
them, under the checkout's build lock, with the report recorded on every outcome.
Where everything goes is `config.Paths`. While a build runs, Python's cycle collector runs less
often (`collecting_less`).

A failing cell stops only its notebook: the other stages still run, the site shows
the failure in its tab, and the failures are raised at the end (exit 2). A source
or render error stops the build and keeps the last good site.
"""
from __future__ import annotations

import contextlib
import dataclasses
import gc
import logging
import threading
from pathlib import Path

from bookbuild import environments, log
from bookbuild.agreement import compare
from bookbuild.agreement.compare import Agreement
from bookbuild.config import BookConfig, Paths
from bookbuild.errors import raise_all
from bookbuild.execute import notebooks, shards, split
from bookbuild.executed import Execution
from bookbuild.library import Library, build_library, warn_differences, write_library
from bookbuild.log import warn
from bookbuild.merge import pages
from bookbuild.read import book
from bookbuild.render import pdf, site
from bookbuild.report import BuildReport, build_lock, recorded
from bookbuild.source import BookSource
from bookbuild.tab_marks import Manifest

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Options:
    command: str = "html"                    # "html", "check" (d2l/ in sync, execute and compare only) or "pdf"
    frameworks: tuple[str, ...] = ()         # execute only these (default: all of build.yml)
    shard: tuple[int, int] = (1, 1)          # (i, n): execute the i-th of n shares of the pages with code
    executed_dir: Path | None = None         # take executed notebooks from here instead of executing
    retry: bool = False                      # run again the notebooks that failed, though nothing changed


def build(config: BookConfig, options: Options = Options(), paths: Paths | None = None) -> BuildReport:
    with collecting_less():
        return _build(config, options, paths)


def _build(config: BookConfig, options: Options, paths: Paths | None) -> BuildReport:
    paths = paths or Paths.of(config)
    frameworks = [config.framework(name) for name in options.frameworks] or list(config.frameworks)
    log.kinds(config.warnings.silence, config.warnings.fatal)
    timed = shards.last_timings(paths, options.shard)
    with build_lock(paths), recorded(paths, options.command) as report:
        for notice in config.notices:
            warn(logger, "config", notice)
        report.shard = "/".join(map(str, options.shard)) if options.shard[1] > 1 else None
        with report.stage("read"):
            environments.check_ready(config, frameworks, options.command,
                                     executes=not options.executed_dir and notebooks.strategy(config).kernels)
            source: BookSource = book.read_book(config, kept=paths.kept_read)
            for warning in source.warnings:
                warn(logger, "label-again", warning)
        with report.stage("library"):
            library: Library = build_library(config, source, kept=paths.kept_library)
            report.library = library.differences
            warn_differences(library)
            if options.command == "check" and (drift := library.drift()):
                raise drift
            executor = notebooks.Executor(config, paths, source, split.split_book(
                source, frameworks, environments.fingerprints(config, frameworks), library.keys),
                write_library(library, paths.library), options.executed_dir, options.retry,
                decide=lambda path, ran: compare.needs_seed(source, path, ran, config))
        # The render needs only the book's runs: it starts as soon as they have ended, beside the reseeded runs
        # they started (the execute stage's) and the agreement stage.
        render = Beside(lambda execution: _render(config, paths, source, execution, executor, options.command,
                                                  report)) if options.command != "check" else None
        with render or contextlib.nullcontext():
            with report.stage("execute"):
                shard = shards.shard_of(list(source.pages), options.shard, [fw.name for fw in frameworks], timed)
                execution: Execution = executor.book(shard, render.begin if render else None)
                report.add(execution)
            if render:
                render.begin(execution)   # (if the execute stage did not: notebooks executed elsewhere)
            with report.stage("agree"):
                agreement: Agreement = compare.check(source, execution, config, executor.reseeded)
                travelling = executor.reseeded_to_travel(execution, shard, frameworks)
                report.add(agreement.reseeded, travelling, agreement=agreement.groups)
        strict = config.agreement.strict or options.command == "check"
        raise_all([*execution.failures, *(agreement.disagreements() if strict else []), *log.fatal_warnings()])
    return report


# While a build runs, Python's cycle collector looks at its young objects every 50,000 allocations (not 700), and
# at all of them far less often: a full collection walks every live object (Sphinx's environment, the book's pages
# and notebooks: hundreds of thousands) and took a quarter of a render after a one-sentence edit (issue 26).
# Young cycles are still collected; what the build leaves is collected after it, at the usual pace.
COLLECTOR_THRESHOLDS = (50_000, 20, 10)


@contextlib.contextmanager
def collecting_less():
    before = gc.get_threshold()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _render(config, paths, source, execution, executor, command: str, report: BuildReport) -> None:
    with report.stage("render"):
        manifest: Manifest = pages.stage(config, paths, source, execution, executor.library)
        pdfs = (pdf.render_pdfs if command == "pdf" else pdf.built_from)(config, paths, manifest)
        if pdfs:   # every page links them
            manifest = pages.stage(config, paths, source, execution, executor.library,
                                   {name: built.path for name, built in pdfs.items()})
        report.site = str(site.render(config, paths, manifest))


class Beside(threading.Thread):
    """A stage run in a thread beside the ones that follow it, from `begin(value)` on (the first call; the value
    it works on): leaving the `with` block waits for it to end, and raises what it raised (after what the block
    raised, if anything: that one is the first error). The main thread keeps Ctrl-C; an interrupted build
    leaves the stage to end, as its work is written aside (the render's new site replaces the last good one
    only once it is whole)."""

    def __init__(self, work):
        super().__init__(name="beside", daemon=True)
        self.work, self.error, self.value = work, None, None
        self.begun = threading.Lock()       # taken by the first `begin`
        self.started = threading.Event()    # ... once it has started the thread

    def begin(self, value) -> None:
        """Start the work on `value`, unless it has begun (from any thread)."""
        if self.begun.acquire(blocking=False):
            self.value = value
            self.start()
            self.started.set()

    def run(self) -> None:
        try:
            self.work(self.value)
        except BaseException as err:  # noqa: BLE001 - raised in the main thread, on leaving the block
            self.error = err

    def __enter__(self) -> Beside:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if kind is not None or not self.begun.locked():
            return   # the block's error goes first; the stage's thread ends with the process
        self.started.wait()   # begun in another thread, which may still be starting it
        while self.is_alive():
            self.join(0.1)   # in steps: Ctrl-C still reaches the main thread
        if self.error is not None:
            raise self.error
