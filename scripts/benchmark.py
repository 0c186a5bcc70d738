"""Time the build as a maintainer meets it, and as a book grows.

    .envs/build/bin/python scripts/benchmark.py [--sections 1 3 6] [--jobs 1 2 0]

1. The book as it is: cold, unchanged, prose edit, one-framework edit.
2. Books of N sections (copies of the book's first page with code, under new labels),
   built cold at each JOBS (0: the default, the number of cores): seconds per section,
   and CPU efficiency = CPU time of the build and its kernels / (wall time × cores).
3. A prose edit in books of 1 and 6 sections, in the same run: its cost must not grow with the
   book (at most 1.25 times the one-section book's).
4. CI shards: a book of 27 notebooks timed like the real book's, split into 2, 4 and 8 shards
   by count and by last measured seconds (bookbuild/execute/shards.py): the longest shard against the ideal.
5. An edit of a #@save function (`--saved-book DIR`: a book whose pages save code; default: the
   project's): the first saved function another page calls as `d2l.<name>` gets a comment line;
   the rebuild's seconds, and the notebooks it re-executed against those that use the function.
6. The whole Turkish book (../shared/book/d2l-tr, its config.ini) with EXECUTE=none: cold, after one
   edited sentence, and upstream d2lbook's `build html` of it with `eval_notebook = False` (`--only whole-book`).
7. With --preview: `make serve`, seconds from saving a prose edit or a one-framework edit
   to the open page (Chromium) showing it.
8. Tab agreement (`--only agreement`): a cold `make html` of the book against upstream d2lbook's
   (each tab's `build eval`, then `build html --tab all`) in the same run, and the tab check's
   mutation score: the bugs of tests/mutations.py planted one at a time in one tab of the
   optimization chapter (../shared/book/d2l-tr, read only; momentum.md from the book), each built
   from the unmutated build's cache: caught / planted, false alarms / groups.

Environments must exist (`make env`); upstream d2lbook's (6, 8) also its own
(`python3.11 -m bookbuild.environments oracle`) and pandoc (`apt-get install pandoc`). Every book is
built in a temporary directory, each build a fresh `python -m bookbuild html` process; nothing in the
checkout is edited. What is edited, copied and relabelled is found in the book itself, not named here.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from books import copy_book  # noqa: E402

from bookbuild import config as book_config  # noqa: E402
from bookbuild.config import ROOT  # noqa: E402
from bookbuild.read import book as read  # noqa: E402


def build(book: Path, jobs: int | None = None, check: bool = True) -> tuple[float, float, dict]:
    """(wall seconds, CPU seconds of the build and its kernels, report). `check`: a failing build is an error."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    command = [sys.executable, "-m", "bookbuild", "--config", str(book / "build.yml")]
    command += ["--jobs", str(jobs)] if jobs else []
    subprocess.run(command + ["html"], cwd=ROOT, check=check, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                   if not check else None)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, json.loads((book / "_build" / "report.json").read_text())


def statuses(report: dict) -> str:
    return ", ".join(f"{n['framework']} {n['status']}" for n in report["notebooks"] if n["cells"])


def first_page_with_code(book: Path):
    return next(p for p in read.read_book(book_config.load(book / "build.yml")).pages if p.has_code)


def edit_line(book: Path, page, line: int, new_text: str) -> None:
    path = book / page.path
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[line - 1] = new_text
    path.write_text("\n".join(lines), encoding="utf-8")


def maintainer_builds() -> None:
    print("The book as it is")
    print(f"  {'build':30} {'seconds':>8}  frameworks")
    with tempfile.TemporaryDirectory() as tmp:
        book = Path(tmp)
        copy_book(book)
        rows = [("cold", *build(book)), ("unchanged", *build(book))]
        page = first_page_with_code(book)
        prose = next(b for b in page.blocks if b.kind == "markdown" and b.tabs is None and
                     any(len(line) > 40 for line in b.source.splitlines()))
        offset, text = next((i, line) for i, line in enumerate(prose.source.splitlines()) if len(line) > 40)
        edit_line(book, page, prose.line + offset, text + " (Düzenlendi.)")
        rows.append(("prose edit", *build(book)))
        page = first_page_with_code(book)
        single = next(b for b in page.blocks if b.kind == "code" and b.tabs and len(b.tabs) == 1)
        last = single.line + len(single.source.splitlines()) - 1      # a comment line after the cell's code
        edit_line(book, page, last, single.source.splitlines()[-1] + "\n# düzenlendi")
        rows.append((f"one-framework edit ({single.tabs[0]})", *build(book)))
    for name, wall, _, report in rows:
        print(f"  {name:30} {wall:8.1f}  {statuses(report)}")


CORPUS = ROOT.parent / "shared" / "book" / "d2l-tr"   # the whole Turkish book, a d2lbook project (read only)
BUILD_INTO = """import sys; from pathlib import Path
from bookbuild import config, pipeline
book = config.load(sys.argv[1]).with_options(execute="none")
pipeline.build(book, paths=config.Paths(Path(sys.argv[2])))"""


D2LBOOK = ROOT / ".envs" / "d2lbook" / "bin" / "d2lbook"   # the oracle's environment (tests/build/test_oracle.py)


def upstream_ready(d2lbook: Path = D2LBOOK) -> None:
    """Stop before any timing if upstream d2lbook cannot build: its environment, and pandoc, which its
    notebook conversion (nbconvert) runs."""
    if not d2lbook.is_file():
        sys.exit(f"upstream d2lbook is not at {d2lbook}: make it with `python3.11 -m bookbuild.environments oracle`")
    if shutil.which("pandoc") is None:
        sys.exit("upstream d2lbook needs pandoc (nbconvert runs it): `apt-get install pandoc`")


def whole_book(corpus: Path = CORPUS, d2lbook: Path = D2LBOOK) -> None:
    """The whole Turkish book rendered without executing (EXECUTE=none), all tabs, math typeset at build
    time: cold, then again after one edited sentence; and upstream d2lbook's `build html` of the same book
    with `eval_notebook = False` (one tab, math left to the browser), in the same run."""
    upstream_ready(d2lbook)
    print(f"The whole book ({corpus}), not executed")
    with tempfile.TemporaryDirectory() as tmp:
        book, out = Path(tmp) / corpus.name, Path(tmp) / "out"
        shutil.copytree(corpus, book)   # a copy, to edit a sentence in
        rows = []

        def timed(command: list[str], **options) -> tuple[subprocess.CompletedProcess, float, float]:
            """(what ran, wall seconds, CPU seconds of it and its children: Node's MathJax, Sphinx's pandoc)."""
            before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
            done = subprocess.run(command, **options)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            return done, time.monotonic() - started, sum(getattr(after, f) - getattr(before, f)
                                                         for f in ("ru_utime", "ru_stime"))

        def ours(name: str) -> None:
            _, wall, cpu = timed([sys.executable, "-c", BUILD_INTO, str(book), str(out)], cwd=ROOT, check=True,
                                 stdout=subprocess.DEVNULL)
            report = json.loads((out / "report.json").read_text())
            stages = ", ".join(f"{k} {v:.1f}" for k, v in report["seconds"].items() if k != "total")
            rows.append((name, wall, cpu, stages))

        ours("ours, cold (3 tabs, math)")
        page = next(p for p in sorted(book.glob("chapter_*/*.md")) if "toc" not in p.read_text(encoding="utf-8"))
        text = page.read_text(encoding="utf-8")
        sentence = re.search(r"^[A-ZÇĞİÖŞÜ][^\n`$:]{40,}?\. ", text, re.M)
        page.write_text(text[:sentence.end()] + "Düzenlendi. " + text[sentence.end():], encoding="utf-8")
        ours(f"ours, one sentence edited ({page.relative_to(book)})")
        upstream = Path(tmp) / "upstream"
        shutil.copytree(corpus, upstream)
        ini = upstream / "config.ini"
        ini.write_text(re.sub(r"^eval_notebook = .*$", "eval_notebook = False", ini.read_text(encoding="utf-8"),
                              flags=re.M), encoding="utf-8")
        done, wall, cpu = timed([str(d2lbook), "build", "html"], cwd=upstream, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "PATH": f"{Path(d2lbook).parent}:{os.environ['PATH']}"})
        rows.append(("upstream d2lbook build html (1 tab)", wall, cpu,
                     "ok" if done.returncode == 0 else f"exit {done.returncode}: {done.stderr.strip()[-300:]}"))
    # Wall time counts what else runs on the machine; CPU time much less: compare those, and say the load.
    print(f"  load average at the end: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    print(f"  {'build':50} {'wall':>8}   {'CPU':>8}")
    for name, wall, cpu, detail in rows:
        print(f"  {name:50} {wall:8.1f} s {cpu:8.1f} s  {detail}")


def saved_function_edit(folder: Path | None) -> None:
    """Edit a #@save function's body: only the notebooks that use it (and the edited one) run again."""
    from bookbuild.library import saved

    print("\nAn edit of a #@save function")
    with tempfile.TemporaryDirectory() as tmp:
        book = Path(tmp)
        if folder is None:
            copy_book(book)
        else:
            shutil.copytree(folder, book, dirs_exist_ok=True, ignore=shutil.ignore_patterns("_build"))
        config = book_config.load(book / "build.yml")
        pages = read.read_book(config).pages
        found = None
        for page in pages:
            for fw in config.names:
                for each in saved.page_saved(page, fw):
                    for name, line in each.names:
                        users = {(p.path.as_posix(), f) for p in pages for f in config.names
                                 if p is not page and any(f in b.tabs and re.search(rf"\bd2l\.{name}\b", b.source)
                                                          for b in p.blocks if b.kind == "code")}
                        if users and f"def {name}(" in each.code and not found:
                            found = (page, name, line, users)
        if not found:
            print("  the book saves no function that another page calls: nothing to measure")
            return
        page, name, line, users = found
        block = next(b for b in page.blocks if b.kind == "code" and line in b.lines)
        wall, _, report = build(book, check=False)
        failed = {(n["page"], n["framework"]) for n in report["notebooks"] if n["status"] == "failed"}
        text = (book / page.path).read_text(encoding="utf-8").split("\n")
        text.insert(line, "    # düzenlendi")   # a comment line in the function's body, after its `def` line
        (book / page.path).write_text("\n".join(text), encoding="utf-8")
        wall, _, report = build(book, check=False)
        ran = {(n["page"], n["framework"]) for n in report["notebooks"] if n["status"] in ("executed", "failed")
               and n["run"] == "book"}
        # The edited cell's frameworks: their notebooks of this page, and of the pages calling the function.
        expected = {(p, f) for p, f in users if f in block.tabs} | {(page.path.as_posix(), f) for f in block.tabs}
        expected |= failed   # a failed notebook is never cached: it runs again
        print(f"  {name} ({page.path}:{line}), used by {len(users)} notebook(s) of other pages")
        print(f"  rebuild {wall:.1f} s; re-executed {len(ran)} notebook(s): "
              f"{', '.join(f'{p} [{f}]' for p, f in sorted(ran))}")
        print(f"  exactly the ones that use it: {'yes' if ran == expected else f'no (expected {sorted(expected)})'}")


def relabelled(text: str, suffix: str) -> str:
    """A copy of a page under new labels: its own labels and the references to them get `suffix`."""
    own = set(re.findall(r":(?:label|eqlabel):`([^`]+)`", text))
    for label in sorted(own, key=len, reverse=True):
        text = re.sub(rf"(:(?:label|eqlabel|numref|ref|eqref):`){re.escape(label)}`", rf"\g<1>{label}{suffix}`", text)
    return text


def section_book(target: Path, sections: int) -> None:
    copy_book(target)
    page = first_page_with_code(target)
    index = next(p for p in read.read_book(book_config.load(target / "build.yml")).pages
                 if any(entry == page.path for entry, _ in p.toc))
    source = (target / page.path).read_text(encoding="utf-8")
    names = [f"{page.path.stem}_{k}" for k in range(1, sections + 1)]
    for k, name in enumerate(names, 1):
        (target / page.path.parent / f"{name}.md").write_text(relabelled(source, f"_{k}"), encoding="utf-8")
        sidecar = target / page.path.parent / f"{page.path.stem}.interactive.yml"
        if sidecar.is_file():
            shutil.copy(sidecar, target / page.path.parent / f"{name}.interactive.yml")
    (target / page.path).unlink()
    # The toc lists the copies where the page was, and no longer the published edition's other pages:
    # it is not the published toc any more, whose places gave them their numbers.
    elsewhere = {line for entry, line in index.toc if entry != page.path and not (target / entry).is_file()}
    lines = (target / index.path).read_text(encoding="utf-8").splitlines(keepends=True)
    text = "".join(line for number, line in enumerate(lines, 1) if number not in elsewhere)
    text = re.sub(rf"^{re.escape(page.path.stem)}$", "\n".join(names), text, flags=re.M)
    (target / index.path).write_text(text, encoding="utf-8")


def scaling(section_counts: list[int], jobs_list: list[int]) -> None:
    cores = os.cpu_count() or 1
    print(f"\nBooks of N sections, cold (cores: {cores})")
    print(f"  {'N':>3} {'JOBS':>5} {'wall s':>8} {'s/section':>10} {'CPU s':>8} {'CPU efficiency':>15}")
    for sections in section_counts:
        for jobs in jobs_list:
            with tempfile.TemporaryDirectory() as tmp:
                book = Path(tmp)
                section_book(book, sections)
                wall, cpu, report = build(book, jobs or None)
                assert all(n["status"] == "executed" for n in report["notebooks"] if n["cells"])
            label = f"{jobs}" if jobs else f"{cores}*"
            print(f"  {sections:3} {label:>5} {wall:8.1f} {wall / sections:10.1f} {cpu:8.1f} "
                  f"{cpu / (wall * cores):14.0%}")
    print("  * the default: the number of cores")


def prose_edit_by_size(sizes=(1, 6), rounds: int = 3) -> None:
    """A sentence edited in the first section of books of 1 and 6 sections: the median rebuild."""
    print(f"\nA prose edit as the book grows (median of {rounds} edits of one sentence)")
    print(f"  {'sections':>8} {'seconds':>8} {'render s':>9}")
    medians = {}
    for sections in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            book = Path(tmp)
            section_book(book, sections)
            build(book)
            times, renders = [], []
            for k in range(rounds):
                page = first_page_with_code(book)
                prose = next(b for b in page.blocks if b.kind == "markdown" and b.tabs is None and
                             any(len(line) > 40 for line in b.source.splitlines()))
                offset, text = next((i, line) for i, line in enumerate(prose.source.splitlines()) if len(line) > 40)
                edit_line(book, page, prose.line + offset, text + f" (Düzenleme {k}.)")
                wall, _, report = build(book)
                assert all(n["status"] == "cached" for n in report["notebooks"] if n["cells"])
                times.append(wall)
                renders.append(report["seconds"]["render"])
            medians[sections] = sorted(times)[rounds // 2]
            print(f"  {sections:8} {medians[sections]:8.2f} {sorted(renders)[rounds // 2]:9.2f}")
    print(f"  {max(sizes)} sections / 1 section: {medians[max(sizes)] / medians[min(sizes)]:.2f} (target: <= 1.25)")


def shard_balance(counts=(2, 4, 8)) -> None:
    """27 notebooks as skewed as the real book's (most 5-15 s, one 116 s, one 58 s): the longest shard
    of a split by count (every n-th page) and by last measured seconds, against the ideal."""
    import random

    from bookbuild.execute import shards

    draw = random.Random(27)
    seconds = [116.0, 58.0] + [round(draw.uniform(5, 15), 1) for _ in range(25)]
    draw.shuffle(seconds)
    weights = {f"page{k:02}": t for k, t in enumerate(seconds)}
    print(f"\nCI shards: 27 notebooks, {sum(seconds):.0f} s in all (longest {max(seconds):.0f} s)")
    print(f"  {'shards':>6} {'ideal s':>8} {'by count s':>11} {'by time s':>10}")
    for n in counts:
        by_count = [sum(t for k, t in enumerate(seconds) if k % n == i) for i in range(n)]
        by_time = [sum(weights[key] for key in share) for share in shards.split(weights, n)]
        ideal = max(sum(seconds) / n, max(seconds))
        print(f"  {n:6} {ideal:8.1f} {max(by_count):11.1f} {max(by_time):10.1f}")


def preview_latency(rounds: int = 3) -> None:
    """`make serve` on a copy of the book: seconds from a saved edit to the open page showing it."""
    import signal
    import socket
    import threading

    sys.path.insert(0, str(ROOT / "tests"))
    from books import Reader, launch_browser
    from playwright.sync_api import sync_playwright

    print("\nLive preview (make serve): from saving an edit to the page showing it, reloaded")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        book = Path(tmp)
        copy_book(book)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        serve = subprocess.Popen([sys.executable, "-m", "bookbuild", "--config", str(book / "build.yml"), "serve",
                                  "--port", str(port)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True, start_new_session=True)
        lines = []
        threading.Thread(target=lambda: lines.extend(serve.stdout), daemon=True).start()
        while not any("Watching" in line for line in lines):
            time.sleep(0.2)
        browser = launch_browser(playwright)
        reader = Reader(browser, "desktop")
        page = first_page_with_code(book)
        tab = reader.open(f"http://127.0.0.1:{port}/{page.path.with_suffix('.html').as_posix()}")
        prose = next(b for b in page.blocks if b.kind == "markdown" and b.tabs is None and
                     any(len(line) > 40 for line in b.source.splitlines()))
        offset, text = next((i, line) for i, line in enumerate(prose.source.splitlines()) if len(line) > 40)
        single = next(b for b in page.blocks if b.kind == "code" and b.tabs and len(b.tabs) == 1)
        last = single.line + len(single.source.splitlines()) - 1
        for name, line, make in (("prose edit", prose.line + offset, lambda k: f"{text} Yazı düzeltmesi {k}."),
                                 (f"one-framework edit ({single.tabs[0]})", last,
                                  lambda k: f"{single.source.splitlines()[-1]}\nprint('kod çıktısı {k}')")):
            times = []
            for k in range(rounds):
                marker = f"düzeltmesi {k}." if name == "prose edit" else f"kod çıktısı {k}"
                started = time.monotonic()
                edit_line(book, page, line, make(k))
                tab.wait_for_function(f"document.body.innerText.includes({marker!r})", timeout=300000)
                times.append(time.monotonic() - started)
                page = first_page_with_code(book)   # line numbers moved: read the page again
                if name.startswith("one-framework"):
                    last += 1
                    line = last
            print(f"  {name:32} {min(times):5.1f} s best, {sorted(times)[len(times) // 2]:5.1f} s median "
                  f"of {rounds}")
        reader.close()
        browser.close()
        os.killpg(serve.pid, signal.SIGINT)
        serve.wait(timeout=60)


def upstream_d2lbook(book: Path) -> tuple[float, str]:
    """(seconds, what ran, with each step's seconds) of upstream d2lbook's cold build of the same pages: each
    tab evaluated in its framework's environment (d2lbook runs every notebook in the kernel "python3": one per
    tab here, with the book's kernel variables and d2l), the tabs merged into reST (`build rst --tab all`),
    then Sphinx (`build html --tab all`), timed only if it runs (d2lbook 1.0.3's conf.py needs pybtex < 0.25,
    which requirements/d2lbook-oracle.txt pins)."""
    upstream_ready()
    config = book_config.load(book / "build.yml")
    project = book.parent / "upstream"
    shutil.copytree(book, project, ignore=shutil.ignore_patterns("_build", "build.yml", "requirements"))
    shutil.copytree(SHARED_BOOK / "static", project / "static")
    ini = (SHARED_BOOK / "config.ini").read_text(encoding="utf-8")
    (project / "config.ini").write_text(re.sub(r"^resources = .*$", "resources = img/ d2l.bib", ini, flags=re.M),
                                        encoding="utf-8")
    (project / "img").mkdir(exist_ok=True)
    d2lbook = ROOT / ".envs" / "d2lbook" / "bin"
    path = {**os.environ, "PATH": f"{d2lbook}:{os.environ['PATH']}"}
    started = time.monotonic()
    steps: list[str] = []   # "<step> <seconds> s"
    last = [started]

    def step(name: str) -> None:
        steps.append(f"{name} {time.monotonic() - last[0]:.1f} s")
        last[0] = time.monotonic()

    for fw in config.frameworks:
        kernels = project.parent / f"kernels-{fw.name}" / "kernels" / "python3"
        kernels.mkdir(parents=True)
        (kernels / "kernel.json").write_text(json.dumps({
            "argv": [str(ROOT / ".envs" / fw.environment / "bin" / "python"), "-m", "ipykernel_launcher",
                     "-f", "{connection_file}"],
            "display_name": "python3", "language": "python",
            "env": {**config.kernel_env, **fw.env, "PYTHONPATH": str(ROOT)}}))
        subprocess.run([str(d2lbook / "d2lbook"), "build", "eval", "--tab", fw.name], cwd=project, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env={**path, "JUPYTER_PATH": str(kernels.parent.parent)})
        step(f"eval {fw.name}")
    subprocess.run([str(d2lbook / "d2lbook"), "build", "rst", "--tab", "all"], cwd=project, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=path)
    until_rst = time.monotonic() - started
    step("rst")
    html = subprocess.run([str(d2lbook / "d2lbook"), "build", "html", "--tab", "all"], cwd=project,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=path)
    if html.returncode == 0:
        step("html")
        return time.monotonic() - started, f"eval of each tab, rst, html: {', '.join(steps)}"
    return until_rst, (f"eval of each tab and rst only: {', '.join(steps)}; its html fails here "
                       f"({html.stderr.strip().splitlines()[-1]})")


SHARED_BOOK = ROOT.parent / "shared" / "book" / "d2l-tr"   # the whole Turkish book (read only)
# Seconds a cell may run in the chapter's builds: minibatch-sgd.md's element-wise TensorFlow loop takes
# longer than build.yml's 600 s on a loaded machine; a notebook that times out is left out, as any failed one.
CHAPTER_TIMEOUT = 300


def html_build(book: Path, timeout: int | None = None, jobs: int | None = None) -> tuple[float, dict]:
    """`python -m bookbuild html` (not `check`, which fails before executing where the chapter's #@save code
    differs from our d2l; a failing notebook or a disagreement does not stop it): (wall seconds, the report)."""
    started = time.monotonic()
    command = [sys.executable, "-m", "bookbuild", "--config", str(book / "build.yml")]
    command += ["--timeout", str(timeout)] if timeout else []
    command += ["--jobs", str(jobs)] if jobs else []
    subprocess.run(command + ["html"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - started, json.loads((book / "_build" / "report.json").read_text())


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def chapter_book(target: Path) -> list[str]:
    """The project's book, with every section its pages' tocs list that the whole Turkish book holds (read
    only; momentum.md stays the project's, the same bytes), and the book's images: the pages added."""
    from bookbuild.read.book import read_book

    copy_book(target)
    added = []
    for page in read_book(book_config.load(target / "build.yml")).pages:
        for entry, _ in page.toc:
            if not (target / entry).is_file() and (SHARED_BOOK / entry).is_file():
                shutil.copy(SHARED_BOOK / entry, target / entry)
                added.append(entry.as_posix())
    shutil.copytree(SHARED_BOOK / "img", target / "img", dirs_exist_ok=True)
    return added


def failed_notebooks(report: dict) -> dict[tuple[str, str], str]:
    """{(page, framework): why} of the book's notebooks that did not run to their end."""
    return {(n["page"], n["framework"]): (n.get("error") or {}).get("message", n["status"]).splitlines()[0][:90]
            for n in report["notebooks"] if n["run"] == "book" and n["status"] not in ("cached", "executed")
            and n["cells"]}


def fixture_score() -> None:
    """The suite on the fixture page (tests/mutations.py), cheap kernels: as tests/build/test_mutations.py."""
    from books import INDEX, REFERENCES, Book
    from mutations import FIXTURE_MUTATIONS, FIXTURE_PAGE, group_line, plant, score

    from bookbuild import environments, errors
    from bookbuild.read.book import read_book

    def checked(book: Book) -> list[dict]:
        try:
            book.build("check")
        except (errors.DisagreementError, errors.BookErrors):
            pass
        return book.report()["agreement"]

    print("Tab agreement: bugs planted in one tab of the fixture page (tests/mutations.py), one at a time")
    logging.getLogger("bookbuild").setLevel(logging.WARNING)   # the builds run in this process: their progress
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "base").mkdir()
        base = Book(Path(tmp) / "base", {"index.md": INDEX, "kaynakca.md": REFERENCES, "ch/page.md": FIXTURE_PAGE})
        for fw in base.config.frameworks:
            environments.write_kernel(fw, base.config.kernel_env)
        entries = checked(base)
        frameworks = [fw.name for fw in base.config.frameworks]
        results = []
        for mutation in FIXTURE_MUTATIONS:
            book = base.copy(Path(tmp) / mutation.kind.replace(" ", "-"))
            book.write(mutation.page, plant(FIXTURE_PAGE, mutation, frameworks))
            page = next(p for p in read_book(book.config).pages if p.path.as_posix() == mutation.page)
            line = group_line(page, mutation.caught_at)
            entry = next((e for e in checked(book) if e["line"] == line), None)
            results.append((mutation, entry is not None and entry["status"] == "disagree"))
            print(f"  {mutation.kind:30} {mutation.framework:11} {mutation.page}:{line}: "
                  f"{entry['status'] if entry else 'not compared'}")
        alarms = sum(e["status"] == "disagree" for e in entries)
        print("  " + score(results, alarms, len(entries)).replace("\n", "\n  "))


def chapter_score(keep: Path | None = None) -> None:
    """The suite on the optimization chapter (real kernels): the pages as they are, then each mutant built
    from their cache (only the mutated page's notebook, and the reseeded runs it needs, run again).
    `keep`: build in this folder and leave the books there; a later run reuses their caches."""
    from mutations import BOOK_DIFFERENCES, CHAPTER_MUTATIONS, group_line, plant, score

    from bookbuild.read.book import read_book

    print(f"\nTab agreement: the optimization chapter ({SHARED_BOOK / 'chapter_optimization'}, read only), as it is "
          f"and with bugs planted in one tab, one at a time (cells may run {CHAPTER_TIMEOUT} s)")
    with contextlib.nullcontext(str(keep)) if keep else tempfile.TemporaryDirectory() as tmp:
        book = Path(tmp) / "book"
        made = book.parent / "book.made"   # written once the book is whole: it is built again from its cache
        if made.is_file():
            added = made.read_text(encoding="utf-8").split()
        else:
            shutil.rmtree(book, ignore_errors=True)
            book.mkdir(parents=True)
            added = chapter_book(book)
            made.write_text("\n".join(added), encoding="utf-8")
        config = book_config.load(book / "build.yml")
        frameworks = [fw.name for fw in config.frameworks]
        pages = {p.path.as_posix(): p for p in read_book(config).pages}
        print(f"  sections: {len(added) + 1} ({load()})")
        wall, baseline = html_build(book, CHAPTER_TIMEOUT)
        seconds = ", ".join(f"{k} {v:.0f} s" for k, v in baseline["seconds"].items() if k != "total")
        print(f"  the pages as they are: {wall:.0f} s ({seconds}; {load()})")
        failed = failed_notebooks(baseline)
        for (page, name), why in sorted(failed.items()):
            print(f"    not run to its end, left out of the check: {page} [{name}]: {why}")
        known = {(d.page, group_line(pages[d.page], d.code)): d.reason for d in BOOK_DIFFERENCES if d.page in pages}
        compared = [e for e in baseline["agreement"] if e["status"] != "expected to differ"]
        statuses = {s: sum(e["status"] == s for e in compared) for s in ("agree", "disagree", "not comparable")}
        print(f"  {len(compared)} groups compared: " + ", ".join(f"{n} {s}" for s, n in statuses.items()))
        false_alarms = []
        for e in (e for e in compared if e["status"] == "disagree"):
            reason = known.get((e["page"], e["line"]))
            print(f"    {'the book differs' if reason else 'FALSE ALARM'}: {e['page']}:{e['line']} "
                  f"({', '.join(e['frameworks'])}): {e['detail'][:160]}" + (f"\n      ({reason})" if reason else ""))
            false_alarms += [] if reason else [e]
        differing = {(e["page"], e["line"]) for e in compared if e["status"] == "disagree"}
        for (page, line), reason in known.items():
            if (page, line) not in differing:
                print(f"    the book differs, NOT REPORTED: {page}:{line} ({reason})")
        results = []
        for mutation in CHAPTER_MUTATIONS:
            line = group_line(pages[mutation.page], mutation.caught_at)   # as it is; the mutant's may move
            where = f"{mutation.kind:30} {mutation.framework:11} {mutation.page}"
            if (mutation.page, mutation.framework) in failed:
                print(f"  {where}:{line}: not measurable, that notebook fails as it is")
                results.append((mutation, False))
                continue
            mutant = Path(tmp) / mutation.kind.replace(" ", "-")
            if not mutant.is_dir():
                shutil.copytree(book, mutant, symlinks=True, ignore=shutil.ignore_patterns("lock"))
            text = (book / mutation.page).read_text(encoding="utf-8")
            (mutant / mutation.page).write_text(plant(text, mutation, frameworks), encoding="utf-8")
            wall, report = html_build(mutant, CHAPTER_TIMEOUT)
            page = next(p for p in read_book(book_config.load(mutant / "build.yml")).pages
                        if p.path.as_posix() == mutation.page)
            moved = group_line(page, mutation.caught_at)
            entry = next((e for e in report["agreement"] if e["page"] == mutation.page and e["line"] == moved), None)
            caught = entry is not None and entry["status"] == "disagree" and (mutation.page, line) not in differing
            first = next((e["line"] for e in report["agreement"] if e["page"] == mutation.page
                          and e["status"] == "disagree"), None)
            print(f"  {where}:{moved}: {entry['status'] if entry else 'not compared'}"
                  f"{f' (the first disagreement on the page at {first})' if first and first != moved else ''} "
                  f"({wall:.0f} s)" + (f"\n      {entry['detail'][:160]}" if entry else ""))
            results.append((mutation, caught))
        print("  " + score(results, len(false_alarms), len(compared)).replace("\n", "\n  "))
        print("  (false alarms: disagreements on the chapter as it is that are not the book's own differences, "
              "tests/mutations.py BOOK_DIFFERENCES; a mutation in a group that already differs does not count)")


def cpu_seconds() -> float:
    """CPU seconds of this process's finished children (builds, kernels, d2lbook): less moved by other load than
    wall time on a shared machine."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def agreement_cost(jobs: tuple[int, ...] = ()) -> None:
    """A cold `make html` of the project's book, then upstream d2lbook's, in the same run: the ratio (wall, and
    CPU), and our build's split (execute, agree: the reseeded runs, render: beside them) from its report.
    `jobs`: ours again after upstream's, with each of these JOBS (the default is the number of cores)."""
    print("\nTab agreement's cost: a cold build of the book, ours and upstream d2lbook's, in the same run")
    with tempfile.TemporaryDirectory() as tmp:
        book = Path(tmp) / "book"
        book.mkdir()
        copy_book(book)

        def ours(jobs: int | None) -> tuple[float, float]:
            cold = Path(tmp) / f"cold-{jobs}"
            shutil.copytree(book, cold)
            before, cpu = load(), cpu_seconds()
            wall, report = html_build(cold, jobs=jobs)
            cpu = cpu_seconds() - cpu
            stages = ", ".join(f"{k} {v:.1f} s" for k, v in report["seconds"].items() if k != "total")
            kernels = {run: sum(n["seconds"] or 0 for n in report["notebooks"] if n["run"] == run)
                       for run in ("book", "reseeded")}
            reseeded = [n for n in report["notebooks"] if n["run"] == "reseeded"]
            name = f"ours, make html{f' JOBS={jobs}' if jobs else ''} cold"
            print(f"  {name:30} {wall:7.1f} s, CPU {cpu:6.1f} s  ({stages}; kernels: the book's "
                  f"{kernels['book']:.1f} s, another seed's {kernels['reseeded']:.1f} s in {len(reseeded)} "
                  f"notebooks; {before})")
            cores = jobs or os.cpu_count() or 1
            print(f"  {'':30} kernel seconds / {cores} cores: the book's {kernels['book'] / cores:.1f} s, with "
                  f"another seed's {sum(kernels.values()) / cores:.1f} s (what no scheduling goes below)")
            return wall, cpu

        times = {None: ours(None)}
        before, cpu = load(), cpu_seconds()
        upstream, what = upstream_d2lbook(book)
        upstream_cpu = cpu_seconds() - cpu
        print(f"  {'upstream d2lbook, cold':30} {upstream:7.1f} s, CPU {upstream_cpu:6.1f} s  ({what}; {before})")
        times.update({j: ours(j) for j in jobs})
        for j, (wall, cpu) in times.items():
            print(f"  ours{f' (JOBS={j})' if j else ''} / upstream: {wall / upstream:.2f} wall (target: <= 0.30), "
                  f"{cpu / upstream_cpu:.2f} CPU")


def agreement(keep: Path | None = None) -> None:
    fixture_score()
    chapter_score(keep)
    agreement_cost()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", type=int, nargs="*", default=[1, 3, 6])
    parser.add_argument("--jobs", type=int, nargs="*", default=[1, 2, 0], help="0: the default (cores)")
    parser.add_argument("--skip-edits", action="store_true", help="only the books of N sections")
    parser.add_argument("--preview", action="store_true", help="also time `make serve` from save to reload")
    parser.add_argument("--d2lbook", type=Path, default=D2LBOOK, help="upstream d2lbook, for --only whole-book")
    parser.add_argument("--cost-jobs", type=int, nargs="*", default=[],
                        help="--only agreement-cost: our cold build also with these JOBS, after upstream's")
    parser.add_argument("--keep", type=Path, help="--only agreement: build the chapter's books in this folder and "
                        "leave them there; a later run reuses their caches")
    parser.add_argument("--saved-book", type=Path, help="a book whose pages #@save code (default: the project's)")
    parser.add_argument("--only", choices=["edits", "prose", "saved", "shards", "scaling", "preview", "agreement",
                                           "agreement-fixture", "agreement-chapter", "agreement-cost", "whole-book"],
                        help="run one part only")
    args = parser.parse_args()
    if args.only:
        {"edits": maintainer_builds, "prose": prose_edit_by_size, "shards": shard_balance,
         "saved": lambda: saved_function_edit(args.saved_book),
         "scaling": lambda: scaling(args.sections, args.jobs), "preview": preview_latency,
         "agreement": lambda: agreement(args.keep), "agreement-fixture": fixture_score,
         "agreement-chapter": lambda: chapter_score(args.keep),
         "agreement-cost": lambda: agreement_cost(tuple(args.cost_jobs)),
         "whole-book": lambda: whole_book(d2lbook=args.d2lbook)}[args.only]()
        return
    if not args.skip_edits:
        maintainer_builds()
        prose_edit_by_size()
        saved_function_edit(args.saved_book)
    shard_balance()
    if args.preview:
        preview_latency()
    if args.sections:
        scaling(args.sections, args.jobs)


if __name__ == "__main__":
    main()
