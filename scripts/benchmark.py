"""Time the build as a maintainer meets it: cold, unchanged, prose edit, one-framework edit.

    .envs/build/bin/python scripts/benchmark.py

Environments must exist (`make env`). The book is copied to a temporary directory,
so the chapter in the checkout is never edited; each build is a fresh
`python -m bookbuild html` process, timed wall-clock, with its report read back.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = Path("chapter_optimization/momentum.md")
BOOK = ["build.yml", "requirements", "index.md", "d2l.bib", "chapter_optimization", "chapter_references", "d2l"]
PROSE = ("Momentum yönteminin geometrik özelliklerini", "Momentum yönteminin geometrik niteliklerini")
PYTORCH_CELL = ("#@tab pytorch\ntrainer = torch.optim.SGD", "#@tab pytorch\ntrainer = torch.optim.SGD  # edited")


def build(book: Path) -> tuple[float, dict[str, str]]:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "bookbuild", "--config", str(book / "build.yml"), "html"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    seconds = time.monotonic() - started
    report = json.loads((book / "_build" / "report.json").read_text())
    return seconds, {n["framework"]: n["status"] for n in report["notebooks"] if n["cells"]}


def edit(book: Path, old: str, new: str) -> None:
    path = book / CHAPTER
    text = path.read_text(encoding="utf-8")
    if old not in text:
        sys.exit(f"benchmark: {CHAPTER} no longer contains {old!r}; update scripts/benchmark.py")
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        book = Path(tmp)
        for name in BOOK:
            (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, book / name)
        rows = [("cold", *build(book)), ("unchanged", *build(book))]
        edit(book, *PROSE)
        rows.append(("prose edit", *build(book)))
        edit(book, *PYTORCH_CELL)
        rows.append(("one-framework edit", *build(book)))
    print(f"{'build':20} {'seconds':>8}  frameworks")
    for name, seconds, statuses in rows:
        print(f"{name:20} {seconds:8.1f}  " + ", ".join(f"{fw} {s}" for fw, s in statuses.items()))


if __name__ == "__main__":
    main()
