"""Every section of a built book, per framework, from the build's report.json: ok, no code, needs a
download (which data set), needs a GPU, fails (why), or not run.

    .envs/build/bin/python scripts/sections.py BOOK [--chapter chapter_preliminaries ...] [--report PATH]

BOOK is what `make html BOOK=...` was given (a build.yml or a folder). The sections are the book's pages
in reading order (its tocs); the data sets a section needs are read from its code (the names it passes
to `download`, and the Fashion-MNIST loaders), the reason of a failure from the report's error.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bookbuild import config as book_config  # noqa: E402
from bookbuild.config import Paths  # noqa: E402
from bookbuild.read.book import read_book  # noqa: E402

# What a failure says when its cell reached for the network (the book's own loaders and `download`).
OFFLINE = re.compile(r"Temporary failure in name resolution|Name or service not known|URL fetch failure|"
                     r"Max retries exceeded|Network is unreachable|urlopen error|Failed to establish|"
                     r"cannot get data set|ConnectionError")
DATA_SETS = [(re.compile(r"fashion_mnist|FashionMNIST"), "Fashion-MNIST"),
             (re.compile(r"""(?:download|download_extract|DATA_HUB\[)\(?\s*['"]([\w.-]+)['"]"""), None)]
GPU = re.compile(r"CUDA|no GPU|cuda|gpu\(\d\)")


def data_sets(code: str) -> list[str]:
    """The data sets a section's code asks for, in the order it names them."""
    found: list[str] = []
    for pattern, name in DATA_SETS:
        for match in pattern.finditer(code):
            found.append(name or match.group(1))
    return list(dict.fromkeys(found))


def status(notebook: dict | None, code: str) -> str:
    if notebook is None:
        return "not run"
    if notebook["status"] in ("cached", "executed", "loaded"):
        return "ok"
    if notebook["status"] != "failed":
        return notebook["status"]
    error = notebook.get("error") or {}
    message = f"{error.get('message', '')} {error.get('detail', '')}"
    if error.get("kind") == "data" or OFFLINE.search(message):
        return f"needs download ({', '.join(data_sets(code)) or message.split(':')[0]})"
    if GPU.search(message):
        return "needs GPU"
    if error.get("kind") == "environment" and (sets := data_sets(code)):   # e.g. torchvision, to read Fashion-MNIST
        return f"needs download ({', '.join(sets)}); {message.split('(')[0].strip()}"
    where = f"{notebook['page']}:{error['line']}" if error.get("line") else notebook["page"]
    return f"fails at {where}: {message.strip()[:160]}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("book", type=Path)
    parser.add_argument("--chapter", action="append", default=[], help="only the pages under this folder")
    parser.add_argument("--report", type=Path, help="default: the book's _build/report.json")
    args = parser.parse_args(argv)
    config = book_config.load(args.book)
    report = json.loads((args.report or Paths.of(config).report).read_text(encoding="utf-8"))
    runs = {(n["page"], n["framework"]): n for n in report["notebooks"] if n.get("run", "book") == "book"}
    names = config.names
    print(f"| section | {' | '.join(names)} |\n| --- |{' --- |' * len(names)}")
    for page in read_book(config).pages:
        path = page.path.as_posix()
        if args.chapter and not any(path.startswith(c.rstrip("/") + "/") for c in args.chapter):
            continue
        code = {fw: "\n".join(b.source for b in page.blocks if b.kind == "code" and (b.tabs is None or fw in b.tabs))
                for fw in names}
        cells = [status(runs.get((path, fw)), code[fw]) if code[fw].strip() else "no code" for fw in names]
        print(f"| {path.removesuffix('.md')} | {' | '.join(cells)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
