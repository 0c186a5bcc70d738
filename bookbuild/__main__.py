"""`python -m bookbuild html|check|pdf|serve|lib|frameworks|matrix|launch`: the build's command line (the
Makefile calls it).

A `BookError` (bad source, configuration, environment, data, a failing cell, a
render problem, a full disk) prints its message and exits with 2; Ctrl-C or SIGTERM
prints one line and exits with 130. Any other exception is a bug in the build: it
shows its traceback, says so, and exits with 3, after the lock, the cache and the
last good site were left as they were.
"""
from __future__ import annotations

import argparse
import gc
import io
import json
import logging
import signal
import sys
import traceback
from pathlib import Path

from bookbuild import config as book_config
from bookbuild import log
from bookbuild.errors import NO_SPACE, BookError, Interrupted, UsageError, disk_error

logger = logging.getLogger("bookbuild")


def _shard(text: str) -> tuple[int, int]:
    try:
        i, n = (int(part) for part in text.split("/"))
        if 1 <= i <= n:
            return i, n
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r}: write the shard as i/n with 1 <= i <= n, e.g. 2/3")


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bookbuild", description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(book_config.BUILD_YML),
                        help="build.yml to follow, or a book's folder: its build.yml, or else its d2lbook config.ini")
    parser.add_argument("--timeout", type=int, help="seconds a cell may run (default: build.yml's `timeout`)")
    parser.add_argument("--jobs", type=int, help="kernels running at once (default: the number of cores)")
    parser.add_argument("--base-path", help="the site's path on its host, for its 404 page (default: /)")
    parser.add_argument("--execute", choices=book_config.EXECUTE, help="which notebooks run: " + "; ".join(
        f"{name}: {doc}" for name, doc in book_config.EXECUTE.items()) + " (default: all, or none for a d2lbook "
        "book with eval_notebook = False)")
    parser.add_argument("--retry", action="store_true",
                        help="run again the notebooks that failed, though nothing they run from changed")
    parser.add_argument("-q", "--quiet", action="count", default=0, help="only warnings and errors")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more detail")
    commands = parser.add_subparsers(dest="command", required=True)
    html = commands.add_parser("html", help="execute (cached), merge and render the site to _build/html")
    html.add_argument("--executed", metavar="DIR", type=Path,
                      help="take executed notebooks from DIR/<framework>/ instead of executing")
    check = commands.add_parser("check", help="execute (cached) and compare the tabs; fail on any error or "
                                              "disagreement; render nothing")
    check.add_argument("--tab", action="append", default=[], help="only this framework (repeatable)")
    check.add_argument("--shard", type=_shard, default=(1, 1), help="i/n: only the i-th of n shares of the pages")
    pdf = commands.add_parser("pdf", help="one PDF per framework in _build/pdf, then the site linking them")
    pdf.add_argument("--executed", metavar="DIR", type=Path,
                     help="take executed notebooks from DIR/<framework>/ instead of executing")
    commands.add_parser("lib", help="write the library the book's #@save cells define into d2l/ (each module's "
                                    "hand-written part kept above d2lbook's mark)")
    frameworks = commands.add_parser("frameworks", help="print the framework names of build.yml")
    frameworks.add_argument("--table", action="store_true",
                            help="one line per framework: name, d2l module, environment (for the Makefile)")
    commands.add_parser("launch", help="print where CI publishes the readers' notebooks (build.yml `launch`), "
                                       "as JSON ({} if nowhere)")
    matrix = commands.add_parser("matrix", help="print the CI matrix (framework × shard) as JSON")
    matrix.add_argument("--shards", type=int, default=1, help="split each framework's pages into this many jobs")
    serve = commands.add_parser("serve", help="build, serve on localhost and rebuild on every change")
    serve.add_argument("--port", type=int, default=book_config.SERVE_PORT)
    serve.add_argument("--host", default=book_config.SERVE_HOST, help="address to bind (default: loopback only)")
    return parser


def run(args) -> None:
    from bookbuild import pipeline

    config = book_config.load(args.config).with_options(timeout=args.timeout, jobs=args.jobs, base_path=args.base_path,
                                                              execute=args.execute)
    if args.command == "frameworks":
        print("\n".join(f"{fw.name} {fw.d2l_module} {fw.environment}" for fw in config.frameworks)
              if args.table else " ".join(config.names))
    elif args.command == "matrix":
        print(json.dumps([{"framework": fw.name, "shard": f"{i}/{args.shards}", "environment": fw.environment,
                           "requirements": fw.requirements.relative_to(config.root).as_posix() if fw.requirements
                           else ""} for fw in config.frameworks for i in range(1, args.shards + 1)]))
    elif args.command == "launch":
        launch = config.launch
        print(json.dumps({"repository": launch.repository, "branch": launch.branch} if launch else {}))
    elif args.command == "serve":
        from bookbuild.serve import preview as serve
        overrides = [f"--{name}={value}" for name in ("timeout", "jobs") if (value := getattr(args, name))]
        serve.serve(config, args.host, args.port, overrides)
    elif args.command == "lib":
        from bookbuild.library import build_library, warn_differences, write_sources
        from bookbuild.read import book
        library = build_library(config, book.read_book(config))
        warn_differences(library)
        changed = write_sources(library)
        print("\n".join(f"wrote {path}" for path in changed)
              or "d2l/ is the library the book defines: nothing to write")
    elif args.command == "check":
        for name in (n for n in args.tab if n not in config.names):
            raise UsageError(f"TAB={name}: build.yml declares no framework {name!r}",
                             fix=f"name one of {', '.join(config.names)}: `make check TAB={config.names[0]}`")
        pipeline.build(config, pipeline.Options("check", tuple(args.tab), args.shard, retry=args.retry))
        logger.info("\nEvery cell ran" + ("" if args.tab else "; the tabs agree") + ".")
    elif args.command == "pdf":
        pipeline.build(config, pipeline.Options("pdf", executed_dir=args.executed, retry=args.retry))
    else:
        pipeline.build(config, pipeline.Options("html", executed_dir=args.executed, retry=args.retry))
        site = book_config.Paths.of(config).site("html")
        logger.info(f"\nThe site is in {site} (open {site / 'index.html'})")


def _terminate(signum, frame):
    raise KeyboardInterrupt  # SIGTERM stops the build as Ctrl-C does


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    log.configure(args.verbose - args.quiet)
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        run(args)
    except Interrupted as err:
        print(f"\ninterrupted: {err.message}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("\ninterrupted: the last good site, the cache and the data are intact", file=sys.stderr)
        return 130
    except BookError as err:
        print(f"\nerror: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        if err.errno not in NO_SPACE:
            return _bug()
        print(f"\nerror: {disk_error(err, 'building')}", file=sys.stderr)
        return 2
    except Exception:  # noqa: BLE001 - anything else is ours
        return _bug()
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def _bug() -> int:
    traceback.print_exc()
    print("\nerror: this is a bug in the build, not in the book: please report it with the traceback above. "
          "The last good site, the execution cache and the data were left as they were.", file=sys.stderr)
    return 3


if __name__ == "__main__":
    # Progress reaches a pipe (CI's log, `make html | tee`, the preview's terminal) as it happens,
    # not in one block when the build ends.
    if isinstance(sys.stdout, io.TextIOWrapper):   # it is, unless someone replaced it
        sys.stdout.reconfigure(line_buffering=True)
    code = main()
    # Python's teardown would walk every object the build left (Sphinx's environment, the pages) with its cycle
    # collector, pass after pass, for seconds (issue 26): the process ends, and they are left to the operating
    # system (what the build writes is written and closed by now; the exit handlers still run).
    gc.freeze()
    sys.exit(code)
