"""`python -m bookbuild html|check|latex`: the build's command line (the Makefile calls it)."""
from __future__ import annotations

import argparse
import sys

from bookbuild import config as book_config
from bookbuild import pipeline
from bookbuild.config import ConfigError
from bookbuild.dialect import DialectError
from bookbuild.execute import ExecutionError
from bookbuild.pdf import ToolchainError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bookbuild", description=__doc__)
    parser.add_argument("--config", default=str(book_config.BUILD_YML), help="build.yml to follow")
    parser.add_argument("--timeout", type=int, default=600, help="seconds a cell may run")
    commands = parser.add_subparsers(dest="command", required=True)
    html = commands.add_parser("html", help="execute (cached), merge and render the site to _build/html")
    html.add_argument("--executed", metavar="DIR",
                      help="take executed notebooks from DIR/<framework>/ instead of executing")
    check = commands.add_parser("check", help="execute one framework's tab only; fail on any error")
    check.add_argument("--tab", required=True, help="framework name from build.yml")
    commands.add_parser("pdf", help="one PDF per framework in _build/pdf (execution cached, as for html)")
    commands.add_parser("frameworks", help="print the framework names of build.yml")
    args = parser.parse_args(argv)
    try:
        config = book_config.load(args.config)
        if args.command == "frameworks":
            print(" ".join(config.names))
        elif args.command == "check":
            config.framework(args.tab)  # an unknown name fails here, listing the known ones
            pipeline.build(config, only=[args.tab], render_site=False, timeout=args.timeout)
        elif args.command == "pdf":
            pipeline.build(config, builder="pdf", timeout=args.timeout)
        else:
            pipeline.build(config, executed_dir=args.executed, timeout=args.timeout)
            print(f"\nThe site is in {config.root / '_build' / 'html'} "
                  f"(open {config.root / '_build' / 'html' / 'index.html'})")
    except (ConfigError, DialectError, ExecutionError, pipeline.BuildError, ToolchainError) as err:
        print(f"\nerror: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
