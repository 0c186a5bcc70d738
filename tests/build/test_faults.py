"""Faults and bad input (issues #8 and #16): one clear message at its source, exit code 2 (130
when interrupted, 3 for a bug in the build), and nothing lost: the last good site, the cache and
the data stay intact.

Every case starts from a copy of one fixture book built once (cheap kernels, its cache and site
included), in the same folder each time (books.Workbench), so it executes and renders only what it
changes. The command line runs in this process as the Makefile runs it (`python -m bookbuild ...`,
see books.Book.main), and in a process of its own where signals, locks, environments or the PATH are involved.
"""
from __future__ import annotations

import codecs
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from books import INDEX, REFERENCES, Book, Workbench, free_port, kernels_of, made_once

import conf
from bookbuild import environments
from bookbuild import published as references
from bookbuild.config import ROOT
from d2l import data as d2l_data

PAGE = """# Sayfa
:label:`sec_page`

Bkz. :numref:`sec_page` ve :numref:`sec_sgd`; :cite:`Polyak.1964`.

```{.python .input}
#@tab all
import os
print("merhaba", os.environ["FIXTURE_FRAMEWORK"])
```

```{.python .input}
#@tab all
print(6 * 7)
```
"""
AIRFOIL_SHA1 = d2l_data.DATA_HUB["airfoil"][1]
SHARED_AIRFOIL = ROOT.parent / "shared" / "data" / "airfoil_self_noise.dat"


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def cache_records(book) -> list[str]:
    """The execution cache's entries, each read whole: reading fails if an entry is damaged."""
    from jupyter_cache import get_cache
    cache = get_cache(str(book.paths.cache))
    return sorted(record.uri for record in cache.list_cache_records()
                  if cache.get_cache_bundle(record.pk).nb is not None)


@pytest.fixture(scope="session")
def built_book(tmp_path_factory, fixture_kernels):
    """The fixture book, built once for the whole run (every test works on a copy of it: `book`)."""
    def build(folder):
        book = Book(folder, {"index.md": INDEX, "kaynakca.md": REFERENCES, "ch/page.md": PAGE})
        done = book.main("html")
        assert done.returncode == 0, done.stderr

    return Book(made_once(tmp_path_factory, "faults", build))


@pytest.fixture(scope="session")
def workbench(built_book, tmp_path_factory):
    return Workbench(built_book, tmp_path_factory.getbasetemp() / "faults-book")


@pytest.fixture
def book(workbench):
    """The built fixture book, in this process's one folder for it: its site, cache and doctrees included."""
    return workbench.fresh()


def assert_clear_failure(done, exit_code=2, starts=None, contains=()):
    """One message: `error: <file:line: ...>`, no traceback, the given exit code."""
    assert done.returncode == exit_code, (done.stdout, done.stderr)
    for output in (done.stderr, done.stdout):   # the build's own traceback would mean a bug in the build
        assert not re.search(r"^Traceback \(most recent call last\):$", output, re.M), output
    assert "\x1b[" not in done.stderr and "\x1b[" not in done.stdout   # no colour codes in a log file
    message = done.stderr.split("error: ", 1)[-1]
    if starts:
        assert message.startswith(starts), message
    for words in contains:
        assert words in message, message
    return message


def no_kernel_ran(book) -> bool:
    return all(n["status"] == "cached" for n in book.report()["notebooks"]) or book.report()["notebooks"] == []


# --- read stage: the source is checked before any kernel starts ------------------------

def line_of(text: str, words: str) -> int:
    """The number of the last line of `text` that holds `words`."""
    return max(n for n, line in enumerate(text.splitlines(), 1) if words in line)


@pytest.mark.parametrize("edit, starts, words", [
    (lambda t: t.replace("Polyak.1964", "Polyak.1965"), "ch/page.md:4: citation key Polyak.1965 is not in d2l.bib",
     ["correct the key"]),
    (lambda t: t.replace(":numref:`sec_sgd`", ":numref:`sec_nowhere`"),
     "ch/page.md:4: label sec_nowhere is neither in this build nor in the published edition's table", []),
    (lambda t: t.replace("#@tab all\nprint(6", "#@tabpytorch\nprint(6"),
     "ch/page.md:13: `#@tabpytorch` looks like a tab mark but is not one", ["#@tab <framework>"]),
    (lambda t: t.replace('print("merhaba", os.environ["FIXTURE_FRAMEWORK"])\n```',
                         'print("merhaba", os.environ["FIXTURE_FRAMEWORK"])\n'),
     "ch/page.md:6: the code cell opened at line 6 is still open where another opens at line 12", []),
    (lambda t: t + "\n![x](../../../../etc/passwd)\n", "ch/page.md:{passwd}: image ../../../../etc/passwd resolves to ",
     ["outside the book's folder", "name a file inside the book's folder"]),
    (lambda t: t + "\n![x](/etc/passwd)\n", "ch/page.md:{passwd}: image /etc/passwd resolves to /etc/passwd, outside",
     []),
    (lambda t: t + "\n```toc\npage\n```\n", "ch/page.md:{page}: toc entry ch/page makes a loop "
     "(ch/page.md → ch/page.md)", ["remove this entry"]),
    (lambda t: t + "\n```toc\n../index\n```\n", "ch/page.md:{index}: toc entry index makes a loop "
     "(index.md → ch/page.md → index.md)", []),
    (lambda t: t + "\n```toc\n../kaynakca\n```\n", "ch/page.md:{kaynakca}: toc entry kaynakca is already listed at "
     "index.md:", ["one toc only"]),
    (lambda t: t + "\n```toc\n../../dışarı\n```\n", "ch/page.md:{dışarı}: toc entry ../dışarı resolves to ",
     ["outside"]),
    (lambda t: t.replace(":label:`sec_page`", "\u200b:label:`sec_page`"), "ch/page.md:2: an invisible character, "
     "U+200B ZERO WIDTH SPACE (column 1), hides `:label:`sec_page`` from the dialect", ["show invisibles"]),
])
def test_source_errors_fail_before_any_kernel(book, edit, starts, words):
    site = tree(book.paths.site("html"))
    text = edit(PAGE).replace('print(6 * 7)', 'print(6 * 8)')
    book.write("ch/page.md", text)
    starts = re.sub(r"\{(.+?)\}", lambda m: str(line_of(text, m.group(1))), starts)
    assert_clear_failure(book.main("html"), starts=starts, contains=words)
    assert tree(book.paths.site("html")) == site                       # the last good site is kept
    report = book.report()
    assert report["status"] == "failed" and report["error"]["kind"] == "source"
    assert report["notebooks"] == []                                   # no kernel started
    assert not (book.paths.staging / "etc").exists()                   # nothing staged from outside the book


def test_a_label_of_the_published_edition_links_there(book):
    """A :numref: to it reads its published number ("Bölüm 11.4"; a :ref:, its title)."""
    html = book.html("ch/page")
    sgd = references.published_labels(book.config.book.published_labels)["sec_sgd"]
    assert 'href="https://tr.d2l.ai/chapter_optimization/sgd.html#sec-sgd"' in html
    assert f"><span>{sgd.reads('numref', conf.numfig_format['section'])}</span><" in html


def test_a_label_of_this_build_wins_over_the_published_one(book):
    book.write("ch/page.md", PAGE.replace("# Sayfa\n:label:`sec_page`", "# Sayfa\n:label:`sec_sgd`").replace(
        ":numref:`sec_page` ve ", ""))
    assert book.main("html").returncode == 0
    html = book.html("ch/page")
    assert "tr.d2l.ai/chapter_optimization/sgd.html" not in html and 'href="#sec-sgd"' in html


def test_a_chapter_that_is_not_utf8_is_named(book):
    site = tree(book.paths.site("html"))
    book.write("ch/page.md", PAGE.encode("utf-8").replace(b"Bkz.", b"Bkz\xff."))
    assert_clear_failure(book.main("html"), starts="ch/page.md:4: is not UTF-8 text",
                         contains=["save the file as UTF-8"])
    assert tree(book.paths.site("html")) == site


def test_line_endings_and_a_byte_order_mark_change_nothing(book):
    """CRLF, CR or LF, with or without a BOM: the same notebooks and the same site, and nothing runs."""
    site, staged = tree(book.paths.site("html")), tree(book.paths.staging)
    for text in ("\ufeff" + PAGE, PAGE.replace("\n", "\r\n"), "\ufeff" + PAGE.replace("\n", "\r\n")):
        book.write("ch/page.md", text.encode("utf-8"))
        done = book.main("html")
        assert done.returncode == 0, done.stderr
        assert no_kernel_ran(book)
        assert tree(book.paths.staging) == staged and tree(book.paths.site("html")) == site


# --- build.yml ---------------------------------------------------------------------------

@pytest.mark.parametrize("edit, words", [
    (lambda t: t.replace("  pytorch:\n    label: PyTorch", "  pytorch: PyTorch\n  ignored:\n    label: PyTorch"),
     ["build.yml:", "frameworks.pytorch: must be a mapping"]),
    (lambda t: t.replace("timeout: 60", "timeout: [60"), ["build.yml:", "not valid YAML"]),
    (lambda t: t.replace("  title: Deneme Kitabı\n", ""), ["build.yml:{book:}: book.title: is missing"]),
    (lambda t: t.replace("timeout: 60", "timout: 60"),
     ["build.yml:{timout}: timout: unknown key; did you mean `timeout`?"]),
    (lambda t: t + "kernel_envs:\n  D2L_SEED: '0'\n", ["build.yml:{kernel_envs}: kernel_envs: unknown key; did you "
                                                          "mean `kernel_env`?"]),
    (lambda t: t.replace("  short_name:", "  autors: [A]\n  short_name:"),
     ["build.yml:{autors}: book.autors: unknown key; did you mean `authors`?"]),
    (lambda t: t.replace("    environment: ", "    enviroment: ", 2)
     .replace("    enviroment: ", "    environment: ", 1),
     ["frameworks.pytorch.enviroment: unknown key; did you mean `environment`?"]),
    (lambda t: t.replace("timeout: 60", "timeout: soon"), ["build.yml:{timeout}: timeout: must be a whole number of "
                                                            "at least 1, not str 'soon'"]),
    (lambda t: t.replace("timeout: 60", 'timeout: "10"'),
     ["build.yml:{timeout}: timeout: must be a whole number", "str '10'"]),
    (lambda t: t.replace("timeout: 60", "timeout: 1.5"),
     ["build.yml:{timeout}: timeout: must be a whole number", "float 1.5"]),
    (lambda t: t.replace("timeout: 60", "timeout: true"), ["build.yml:{timeout}: timeout: must be a whole number",
                                                           "bool True"]),
    (lambda t: t.replace("  rtol: 0.05", "  rtol: yes"), ["build.yml:{rtol}: agreement.rtol: must be a number"]),
])
def test_build_yml_says_what_it_does_not_understand(book, edit, words):
    text = edit((book.root / "build.yml").read_text())
    book.write("build.yml", text)
    words = [re.sub(r"\{(.+?)\}", lambda m: str(line_of(text, m.group(1))), w) for w in words]
    message = assert_clear_failure(book.main("html"), contains=words)
    assert len(message.strip().splitlines()) <= 3, message


def test_the_first_framework_owns_untagged_cells_and_the_advice_says_so(book):
    """build.yml's frameworks reordered: the untagged (first-tab) cell goes to the new first framework,
    as d2lbook does, and a failure there says why instead of blaming the environment."""
    text = (book.root / "build.yml").read_text()
    first, rest = text.split("  pytorch:\n", 1)[0], text.split("  pytorch:\n", 1)[1]
    pytorch, others = rest.split("  tensorflow:\n", 1)
    book.write("build.yml", first.replace("  mxnet:\n", "  pytorch:\n" + pytorch + "  mxnet:\n", 1) +
               "  tensorflow:\n" + others)
    text = PAGE + "\n```{.python .input}\nimport mxnet_only_module\n```\n"
    book.write("ch/page.md", text)
    message = assert_clear_failure(book.main("html"), starts=f"ch/page.md:{line_of(text, 'mxnet_only')}: [pytorch] "
                                                              "cell 3/3: ModuleNotFoundError")
    assert "this cell has no `#@tab` mark, so it belongs to the first framework of build.yml, pytorch" in message


# --- execution -----------------------------------------------------------------------

@pytest.mark.parametrize("code, failing, kind, words", [
    ("import os\nos._exit(3)", "import os", "dead kernel", ["the kernel died", "kernel-pytorch.log"]),
    ("import torch_that_is_not_there", "import torch", "environment",
     ["ModuleNotFoundError", "`torch_that_is_not_there` is not importable in the pytorch environment", "make env"]),
    ("from d2l import data\nimport tempfile\ndata.download('airfoil', cache_dir=tempfile.mkdtemp(), mirror='')",
     "data.download", "data", ["DownloadError", "DATA_MIRROR"]),
])
def test_each_kind_of_execution_failure_says_what_to_do(book, code, failing, kind, words):
    """At the failing line (a dead kernel has no traceback: the cell's first line)."""
    text = PAGE + f"\n```{{.python .input}}\n#@tab pytorch\n{code}\n```\n"
    book.write("ch/page.md", text)
    failing = line_of(text, failing)
    message = assert_clear_failure(book.main("html"), starts=f"ch/page.md:{failing}: [pytorch] cell 3/3: ",
                                   contains=words)
    assert "fix the code of that cell" not in message                   # not what a data or environment error needs
    assert book.report()["error"]["kind"] == kind
    assert "Derleme hatası" in book.html("ch/page")                     # the site shows the failure in its tab
    assert cache_records(book)                                          # the cache still reads


def test_the_timeout_is_a_setting_and_says_so(book):
    book.write("ch/page.md", PAGE + "\n```{.python .input}\n#@tab mxnet\nimport time\ntime.sleep(30)\n```\n")
    book.write("build.yml", (book.root / "build.yml").read_text().replace("timeout: 60", "timeout: 2"))
    assert_clear_failure(book.main("html"), starts="ch/page.md:19: [mxnet] cell 3/3: ran longer than the timeout "
                                                   "of 2 s", contains=["TIMEOUT"])
    assert_clear_failure(book.main("--timeout", "1", "html"), contains=["ran longer than the timeout of 1 s"])


@pytest.mark.parametrize("start", [
    "subprocess.Popen(['sleep', '300'], start_new_session=True).pid",
    "subprocess.Popen(['sleep', '300'], env={}, start_new_session=True).pid",                  # its own environment
    "int(subprocess.run(['/bin/sh', '-c', 'sleep 300 > /dev/null 2>&1 & echo $!'], env={}, start_new_session=True, "
    "capture_output=True, text=True).stdout)",                                                 # a daemon: orphaned
])
def test_a_process_a_cell_starts_ends_with_its_kernel(book, start):
    """Whatever session or environment it was given (a token in the environment found it only if it kept
    the kernel's)."""
    book.write("ch/page.md",
               PAGE + f"\n```{{.python .input}}\n#@tab pytorch\nimport subprocess\nprint('pid', {start})\n```\n")
    done = book.main("html")
    assert done.returncode == 0, done.stderr
    pid = int(re.search(r"pid (\d+)", book.html("ch/page")).group(1))
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split(")")[-1][:3]


def test_output_over_the_limit_is_cut_with_a_notice_and_a_warning(book):
    """One long line (3 MB) and many short ones, and more figures than allowed: cut before render, on the
    page and in the notebook, with a notice where and a warning at the cell's line."""
    book.write("build.yml", (book.root / "build.yml").read_text() + "limits:\n  output_bytes: 200000\n  images: 2\n")
    figure = "display(SVG('<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"/>'))"
    text = PAGE + ("\n```{.python .input}\n#@tab all\nfrom IPython.display import SVG, display\n"
                   "print('x' * 3_000_000)\nfor i in range(20_000):\n    print('satır', i)\n"
                   f"for _ in range(4):\n    {figure}\n```\n")
    book.write("ch/page.md", text)
    done = book.main("html")
    assert done.returncode == 0, done.stderr
    cell = line_of(text, "from IPython.display import SVG")
    assert f"ch/page.md:{cell}: " in done.stdout and "bytes of output cut (over limits.output_bytes" in done.stdout
    assert f"ch/page.md:{cell}: a figure was dropped" in done.stdout
    html = book.html("ch/page")
    assert len(html.encode()) < 3 * 250_000 and html.count("Çıktının kalan") == 3
    assert html.count("Bu şekil sayfaya konmadı") == 3 * 2
    notebook = book.paths.site("html") / "_notebooks" / "ch" / "page-pytorch.ipynb"
    assert notebook.stat().st_size < 300_000 and "Çıktının kalan" in notebook.read_text()


# --- the cache, the report and the disk ---------------------------------------------------

def test_an_unreadable_cache_entry_is_dropped_and_runs_again(book):
    damaged = next(book.paths.cache.rglob("base.ipynb"))
    damaged.write_text(damaged.read_text()[:200])                       # as a crash while it was written leaves it
    done = book.main("html")
    assert done.returncode == 0, done.stderr
    assert "its cached run could not be read (NotJSONError); dropped, it runs again" in done.stdout
    assert sorted(n["status"] for n in book.report()["notebooks"]) == ["cached", "cached", "executed"]
    assert len(cache_records(book)) == 3


@pytest.mark.skipif(os.geteuid() != 0, reason="a small file system to fill needs mount (root), as in CI")
def test_a_full_disk_while_caching_is_one_message_and_costs_nothing(book):
    cache = book.paths.cache
    saved = tree(cache)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(cache)], check=True)
    try:
        for name, content in saved.items():
            (cache / name).parent.mkdir(parents=True, exist_ok=True)
            (cache / name).write_bytes(content)
        book.write("ch/page.md", PAGE.replace("print(6 * 7)", "print('y' * 900_000)"))
        message = assert_clear_failure(book.main("html"), contains=["no space left on device while storing "
                                                                    "ch/page.md#", "in the execution cache"])
        assert len(message.strip().splitlines()) == 2
        report = book.report()
        assert report["status"] == "failed" and report["error"]["kind"] == "storage"
        assert not list(book.paths.out.glob("*.part")) and not list(cache.rglob("*.part"))
        subprocess.run(["mount", "-o", "remount,size=20m", str(cache)], check=True)   # space freed
        done = book.main("html")
        assert done.returncode == 0, done.stderr
        assert "could not be read" not in done.stdout                 # no half entry was left behind
        assert book.main("html").returncode == 0 and no_kernel_ran(book)
    finally:
        subprocess.run(["umount", "-l", str(cache)], check=False)


def held_until(gate: Path) -> str:
    """PAGE with a cell that runs until the test creates `gate`: a build that is running for as long as
    the test needs, however slow the machine."""
    return PAGE.replace("print(6 * 7)", f"import os, time\nwhile not os.path.exists({str(gate)!r}):\n"
                                        "    time.sleep(0.05)\nprint(6 * 7)")


def test_progress_and_the_report_say_running_while_a_build_runs(book, tmp_path):
    """Written into a pipe, as under CI or `make html | tee`, the build's progress arrives while its cell
    still runs, not when the build ends."""
    book.write("ch/page.md", held_until(tmp_path / "go"))
    process = start(book, "html")
    try:
        wait_for(process, "executing")
        assert book.report()["status"] == "running"
    finally:
        (tmp_path / "go").touch()
    process.communicate(timeout=120)
    assert process.returncode == 0 and book.report()["status"] == "done"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders (CI, as root, runs the full-disk "
                                               "test instead)")
def test_a_read_only_checkout_is_one_message(book):
    for path in [book.root, *book.root.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o222)
    try:
        done = book.cli("html", env={"HOME": str(book.root)})   # a process of its own: modes hold for its files
        message = assert_clear_failure(done, starts="cannot write into")
        assert "build in a writable checkout" in message
    finally:
        for path in [book.root, *book.root.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)


def test_a_damaged_cache_database_is_named_not_a_sqlalchemy_traceback(book):
    site = tree(book.paths.site("html"))
    (book.paths.cache / "global.db").write_bytes(b"this is not a database" * 100)
    book.write("ch/page.md", PAGE.replace("6 * 7", "6 * 9"))
    message = assert_clear_failure(book.main("html"), contains=["the execution cache cannot be opened",
                                                                "rm -rf _build/cache"])
    assert len(message.splitlines()) <= 3
    assert tree(book.paths.site("html")) == site


# --- interrupts, locks, the last good site --------------------------------------------

def start(book, *args, shell_prefix: str = "", env: dict | None = None) -> subprocess.Popen:
    """`python -m bookbuild ... ARGS` in a process of its own; `shell_prefix`: shell commands it is exec'd after;
    `env`: on top of this process's environment."""
    command = [sys.executable, "-m", "bookbuild", "--config", str(book.root / "build.yml"), *args]
    if shell_prefix:
        command = ["sh", "-c", f'{shell_prefix}; exec "$@"', "sh", *command]
    return subprocess.Popen(command,
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "D2L_TEST_BOOK": str(book.root), **(env or {})})


def wait_for(process, *words: str) -> str:
    """Read the build's output, line by line, until a line holds one of `words`."""
    seen = ""
    for line in process.stdout:
        seen += line
        if any(word in line for word in words):
            return seen
    raise AssertionError(f"the build ended before printing {' or '.join(map(repr, words))}:\n{seen}")


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_stops_kernels_keeps_the_site_and_the_cache(book, signal_number):
    site = tree(book.paths.site("html"))
    slow = PAGE.replace("print(6 * 7)", "print(6 * 7)\nimport time\ntime.sleep(60)")
    book.write("ch/page.md", slow)
    process = start(book, "--jobs", "3", "html")
    wait_for(process, "cell 1/2")
    process.send_signal(signal_number)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, (out, err)
    assert err.strip().splitlines()[-1].startswith("interrupted: "), err
    assert "Traceback" not in err and "InvalidStateError" not in err + out
    assert "The site is in" not in out                                  # it did not go on to render
    assert kernels_of(book) == []                                       # every kernel it started was shut down
    assert tree(book.paths.site("html")) == site
    assert book.report()["status"] == "interrupted"
    assert all(uri.endswith(("#fixture-mxnet", "#fixture-pytorch", "#fixture-tensorflow"))
               for uri in cache_records(book))
    # The next build runs what is missing only: the interrupted notebooks.
    book.write("ch/page.md", slow.replace("time.sleep(60)", "time.sleep(0)"))
    assert book.main("html").returncode == 0


def mathjax_of(process) -> int:
    """The MathJax run (Node) of the build `process`, once its render has started one."""
    deadline = time.monotonic() + 300
    while process.poll() is None and time.monotonic() < deadline:
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                if (f"\nPPid:\t{process.pid}\n" in status.read_text()
                        and b"typeset.mjs" in (status.parent / "cmdline").read_bytes()):
                    return int(status.parent.name)
            except OSError:
                continue   # ended meanwhile
        time.sleep(0.1)
    raise AssertionError(f"the build started no MathJax: {process.communicate()}")


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_while_the_math_is_typeset_stops_node(book, signal_number):
    """The render runs beside the main thread, which an interrupt leaves to end with the process: its MathJax
    run, busy with a page of many formulas, is stopped all the same, before the build exits."""
    site = tree(book.paths.site("html"))
    book.write("ch/page.md", PAGE + "".join(f"\n$$x_{{{n}}} = \\sum_{{i=1}}^{{{n}}} i^2.$$\n" for n in range(3000)))
    process = start(book, "html")
    node = mathjax_of(process)
    process.send_signal(signal_number)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, (out, err)
    assert "Traceback" not in err
    assert not Path(f"/proc/{node}").exists()        # stopped and reaped, not left to end on its own
    assert tree(book.paths.site("html")) == site


def test_an_interrupt_stops_the_kernels_kept_for_reseeded_runs(book, tmp_path):
    """Every tab draws numbers of its own, so each needs another seed. MXNet's and PyTorch's book runs end:
    their reseeded runs are due, MXNet's starts in the kernel its book run left and waits, PyTorch's kernel
    waits for its own (parked), TensorFlow's book run waits: three kernels, all stopped by the interrupt."""
    gate = tmp_path / "never"
    book.write("ch/page.md", PAGE.replace("print(6 * 7)", f"""import os, time
seed = int(os.environ.get("D2L_SEED", "0"))
while (seed == 1 or os.environ["FIXTURE_FRAMEWORK"] == "tensorflow") and not os.path.exists({str(gate)!r}):
    time.sleep(0.05)
```

```{{.python .input}}
#@tab all
import numpy as np
print(np.random.default_rng([seed, len(os.environ["FIXTURE_FRAMEWORK"])]).normal())"""))
    process = start(book, "--jobs", "2", "html")
    try:
        reused = re.match(r"\[(\w+)\]", wait_for(process, "in the book run's kernel").splitlines()[-1]).group(1)
        wait_for(process, f"[{reused}] ch/page.md: cell 1/3")
        kernels = [pid for pid in kernels_of(book) if b"reaper.py" not in Path(f"/proc/{pid}/cmdline").read_bytes()]
        assert len(kernels) == 3, kernels
    finally:
        process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, (out, err)
    assert "Traceback" not in err and "InvalidStateError" not in err + out
    assert kernels_of(book) == []


# --- the kernels' sockets: in a folder of the build's own, gone however the build ends ----------------------

def sockets_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_socket()]


@pytest.fixture
def temporary():
    """A temporary folder of a short path (pytest's are too long for sockets: the build would use /tmp)."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="d2l-test-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_build_whose_kernel_dies_leaves_no_socket_behind(book, temporary, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(temporary))   # the build's process: this one
    book.write("ch/page.md", PAGE.replace("print(6 * 7)", "import signal\nos.kill(os.getpid(), signal.SIGKILL)"))
    running = []   # the kernels' sockets, seen while a kernel ran: where the build put them
    from bookbuild.execute import kernel_session
    started = kernel_session.run_notebook

    async def looking(job, settings, *args, **kwargs):
        running.append(settings.socket_dir)
        return await started(job, settings, *args, **kwargs)

    monkeypatch.setattr(kernel_session, "run_notebook", looking)
    from bookbuild.execute import scheduler
    monkeypatch.setattr(scheduler, "run_notebook", looking)
    done = book.main("html")
    assert running and all(folder.parent == temporary for folder in running)
    assert done.returncode == 2 and "the kernel died" in done.stderr, done.stderr
    assert kernels_of(book) == []
    assert list(temporary.iterdir()) == []


def test_a_killed_build_leaves_no_socket_behind(book, temporary):
    """SIGKILL gives the build no chance to clean up: each kernel's reaper removes what its kernel left."""
    book.write("ch/page.md", PAGE.replace("print(6 * 7)", "print(6 * 7)\nimport time\ntime.sleep(60)"))
    process = start(book, "--jobs", "3", "html", env={"TMPDIR": str(temporary)})
    try:
        wait_for(process, "cell 1/2")
        assert sockets_under(temporary)                 # the running kernels' sockets, where the build put them
    finally:
        process.kill()
        process.communicate()
    while kernels_of(book):                             # each reaper sees its build gone, and ends its kernel
        time.sleep(0.1)
    assert sockets_under(temporary) == [] and list(temporary.iterdir()) == []


def test_an_unexpected_error_inside_jupyter_client_is_a_bug_not_advice(book, tmp_path):
    """Only the kinds of failure the build means to translate become messages: an exception raised in
    jupyter_client's own code that is none of them is a bug in the build (exit 3), never "run make env"."""
    inject = tmp_path / "inject"
    inject.mkdir()
    (inject / "sitecustomize.py").write_text(
        "import os\n"
        "if os.environ.pop('D2L_TEST_BREAK_JUPYTER_CLIENT', None):   # the build's process only, not its kernels\n"
        "    import jupyter_client.session as session\n"
        "    session.msg_header = session.extract_header   # a TypeError in jupyter_client's own frame\n")
    book.write("ch/page.md", PAGE.replace("print(6 * 7)", "print(6 * 8)"))
    process = start(book, "html", env={"PYTHONPATH": os.pathsep.join(filter(None, [str(inject),
                                                                              os.environ.get("PYTHONPATH")])),
                                       "D2L_TEST_BREAK_JUPYTER_CLIENT": "1"})
    out, err = process.communicate(timeout=300)
    assert process.returncode == 3, (out, err)
    assert "Traceback (most recent call last)" in err and f"jupyter_client{os.sep}session.py" in err
    assert "this is a bug in the build, not in the book" in err and "make env" not in err
    assert book.report()["error"]["kind"] == "bug"


def test_the_preview_stops_its_build_and_kernels_where_ctrl_c_is_ignored(book):
    """`make serve &` in a shell ignores SIGINT, and so does every build it starts: `kill` stops the
    preview, and the build it was running shuts its kernels down as it would on Ctrl-C."""
    book.write("ch/page.md", PAGE.replace("print(6 * 7)", "print(6 * 7)\nimport time\ntime.sleep(60)"))
    preview = start(book, "serve", "--port", str(free_port()), shell_prefix="trap '' INT")
    try:
        wait_for(preview, "cell 1/2")
        preview.terminate()
        out, err = preview.communicate(timeout=50)   # within the 60 s after which the preview kills a build
    finally:
        if preview.poll() is None:                   # a failed test leaves no preview behind
            preview.kill()
    assert preview.returncode == 0 and "stopped" in out and "Traceback" not in err, (out, err)
    assert book.report()["status"] == "interrupted"                      # not killed in the middle
    assert kernels_of(book) == []


def test_one_build_at_a_time_the_second_waits_and_says_so(book, tmp_path):
    book.write("ch/page.md", held_until(tmp_path / "go"))
    first = start(book, "html")
    try:
        wait_for(first, "executing")
        second = start(book, "html")
        said = wait_for(second, "waiting", "executing")     # (executing: it did not wait)
    finally:
        (tmp_path / "go").touch()
    out, err = second.communicate(timeout=120)
    first.communicate(timeout=120)
    assert first.returncode == 0 and second.returncode == 0, err
    assert "another build is running in this checkout" in said
    assert {n["status"] for n in book.report()["notebooks"]} == {"cached"}   # the second reused the first's work


def test_a_render_error_points_at_the_chapter_and_keeps_the_site(book):
    site = tree(book.paths.site("html"))
    book.write("ch/page.md", PAGE + "\nSon.\n\n```eval_rst\n.. this-directive-does-not-exist::\n```\n")
    message = assert_clear_failure(book.main("html"), contains=["Unknown directive type", "the last good site is kept"])
    assert message.startswith("ch/page.md:2"), message                  # the chapter's own file and a line near 20
    assert tree(book.paths.site("html")) == site
    assert (book.paths.doctrees / "html").is_dir()                      # and the doctrees
    assert book.report()["error"]["kind"] == "render"


def test_the_same_notebooks_render_to_the_same_bytes(book):
    """Clean or incremental, and after an edit that was reverted: the same site, search index included."""
    first = tree(book.paths.site("html"))
    book.write("ch/page.md", PAGE.replace("Bkz.", "Bkz. ayrıca zıpkınlı sözcükler."))
    assert book.main("html").returncode == 0
    assert "zıpkın" in codecs.decode((book.paths.site("html") / "searchindex.js").read_text(), "unicode_escape")
    book.write("ch/page.md", PAGE)
    assert book.main("html").returncode == 0
    assert tree(book.paths.site("html")) == first
    for folder in (book.paths.site("html"), book.paths.doctrees):
        subprocess.run(["rm", "-rf", str(folder)], check=True)
    assert book.main("html").returncode == 0
    assert tree(book.paths.site("html")) == first


def test_what_the_render_reads_besides_the_pages_renders_as_a_clean_render_would(book, tmp_path):
    """The published label table is read by the render's own code, not by Sphinx's tracking of the pages: a
    change to it (or to that code, or to the settings) renders every page afresh, as a clean render does."""
    site = book.paths.site("html")
    assert "Rasgele Gradyan İnişi" in book.html("ch/page")
    table = (book.root / "d2l-tr-labels.tsv").read_text(encoding="utf-8")
    book.write("d2l-tr-labels.tsv", table.replace("Rasgele Gradyan İnişi", "Rastgele Gradyan İnişi"))
    assert book.main("html").returncode == 0
    assert "Rastgele Gradyan İnişi" in book.html("ch/page")
    incremental = tree(site)
    clean = Book(book.copy(tmp_path / "clean").root)
    for folder in (clean.paths.site("html"), clean.paths.doctrees):
        subprocess.run(["rm", "-rf", str(folder)], check=True)
    assert clean.main("html").returncode == 0
    in_its_folder = ".buildinfo"   # Sphinx's digest of the settings, which name the book's folder
    assert {k: v for k, v in tree(clean.paths.site("html")).items() if k != in_its_folder} == \
        {k: v for k, v in incremental.items() if k != in_its_folder}


@pytest.mark.parametrize("where", ["a stage", "a Sphinx extension", "the executor"])
def test_a_bug_in_the_build_looks_like_a_bug(book, monkeypatch, where):
    """Only errors the build means to translate become messages; anything else is our bug: a traceback,
    "this is a bug in the build", exit 3, and the site, the cache and the lock left as they were."""
    from bookbuild.execute import kernel_session
    from bookbuild.merge import pages as merge
    from bookbuild.render import figures

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    site = tree(book.paths.site("html"))
    target = {"a stage": (merge, "readers_notebook"), "a Sphinx extension": (figures, "apply_to_images"),
              "the executor": (kernel_session, "explain")}[where]
    monkeypatch.setattr(*target, broken)
    book.write("ch/page.md", PAGE.replace("print(6 * 7)", "print(6 * 7 / 0)" if where == "the executor" else
                                          "print(6 * 8)"))
    done = book.main("html")
    assert done.returncode == 3, done.stderr
    assert "Traceback (most recent call last)" in done.stderr and "ZeroDivisionError: a bug" in done.stderr
    assert "this is a bug in the build, not in the book" in done.stderr
    assert "make env" not in done.stderr and "correct the source" not in done.stderr
    assert tree(book.paths.site("html")) == site and cache_records(book)
    assert book.report()["status"] == "failed" and book.report()["error"]["kind"] == "bug"
    monkeypatch.undo()
    assert book.main("html").returncode in (0, 2)                       # the lock was released


# --- the toolchain is checked before any kernel ----------------------------------------------

@pytest.mark.parametrize("command, words", [("pdf", ["the PDF needs", "apt-get install"]),
                                            ("html", ["`node` is not on PATH", "install Node.js"])])
def test_a_missing_program_is_named_before_any_kernel(book, command, words):
    site = tree(book.paths.site("html"))
    book.write("ch/page.md", PAGE.replace("print(6 * 7)", "print(6 * 9)"))
    done = book.cli(command, env={"PATH": str(Path(sys.executable).parent)})
    assert_clear_failure(done, contains=words)
    assert book.report()["notebooks"] == [] and tree(book.paths.site("html")) == site


# --- data --------------------------------------------------------------------------------

def sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


@pytest.fixture
def mirror_and_cache(tmp_path):
    mirror, cache = tmp_path / "mirror", tmp_path / "cache"
    mirror.mkdir(), cache.mkdir()
    return mirror, cache


def test_a_verified_cached_file_is_never_overwritten(mirror_and_cache):
    mirror, cache = mirror_and_cache
    (cache / "airfoil_self_noise.dat").write_bytes(SHARED_AIRFOIL.read_bytes())
    (mirror / "airfoil_self_noise.dat").write_bytes(b"corrupt and newer")
    d2l_data.download("airfoil", cache, mirror=mirror)
    assert sha1(cache / "airfoil_self_noise.dat") == AIRFOIL_SHA1


def test_a_damaged_cached_file_is_repaired_from_a_good_mirror(mirror_and_cache, capsys):
    mirror, cache = mirror_and_cache
    (mirror / "airfoil_self_noise.dat").write_bytes(SHARED_AIRFOIL.read_bytes())
    (cache / "airfoil_self_noise.dat").write_bytes(b"damaged")
    d2l_data.download("airfoil", cache, mirror=mirror)
    assert "copied from" in capsys.readouterr().err
    assert sha1(cache / "airfoil_self_noise.dat") == AIRFOIL_SHA1
    assert sorted(p.name for p in cache.iterdir()) == ["airfoil_self_noise.dat"]   # no partial file left


def test_a_bad_mirror_copy_is_refused(mirror_and_cache, monkeypatch, capsys):
    mirror, cache = mirror_and_cache
    (mirror / "airfoil_self_noise.dat").write_bytes(b"wrong")
    monkeypatch.setattr(d2l_data, "DOWNLOAD_TIMEOUT_SECONDS", 0.01)
    with pytest.raises(d2l_data.DownloadError, match="put it in the mirror"):
        d2l_data.download("airfoil", cache, mirror=mirror)
    assert "wrong SHA-1: not used" in capsys.readouterr().err
    assert list(cache.iterdir()) == []


def test_the_kernels_copy_data_from_the_mirror(book, tmp_path):
    cache = tmp_path / "data"
    book.write("ch/page.md", PAGE + "\n```{.python .input}\n#@tab all\nfrom d2l import data\n"
               "print(len(open(data.download('airfoil')).read().splitlines()))\n```\n")
    done = book.main("html", env={"DATA_MIRROR": str(SHARED_AIRFOIL.parent), "D2L_DATA_DIR": str(cache)})
    assert done.returncode == 0, done.stderr
    assert "[data] airfoil: copied from" in done.stdout                  # the kernel's stderr, in the build's log
    assert sha1(cache / "airfoil_self_noise.dat") == AIRFOIL_SHA1
    assert sorted(p.name for p in cache.iterdir()) == ["airfoil_self_noise.dat"]
    assert book.html("ch/page").count("1503") == 3


def test_without_home_the_data_cache_is_still_a_home(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("HOME", "D2L_DATA_DIR")}
    done = subprocess.run([sys.executable, "-c", "from d2l import data; print(data.default_cache_dir())"],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert not done.stdout.startswith("/.cache"), done.stdout
    dry = subprocess.run(["make", "-n", "html"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert "/.cache" not in dry.stdout


# --- environments ----------------------------------------------------------------------------

def test_a_broken_framework_environment_is_remade_then_reported(tmp_path, monkeypatch):
    """`make env`'s smoke check: the framework must import. A broken one is made again once;
    if it still does not import, the message says which and what to do."""
    from bookbuild.config import load
    from bookbuild.errors import EnvironmentProblem

    pythons = {name: environments.python_of(name) for name in ("build", "pytorch")}
    monkeypatch.setattr(environments, "ENVS", tmp_path)
    (tmp_path / "pytorch" / "lib").mkdir(parents=True)
    real = load().framework("pytorch")
    remade = []
    monkeypatch.setattr(environments, "ensure", lambda name, *args: remade.append(name))
    monkeypatch.setattr(environments, "python_of", lambda name: pythons["build"])   # no torch in there
    with pytest.raises(EnvironmentProblem) as error:
        environments.ensure_framework(real)
    assert remade == ["pytorch", "pytorch"]                  # checked, made again once, checked again
    assert "`import d2l.torch` fails" in str(error.value) and "No module named 'torch'" in str(error.value)
    monkeypatch.setattr(environments, "python_of", lambda name: pythons["pytorch"])
    remade.clear()
    environments.ensure_framework(real)                      # a working environment passes, and is stamped
    assert remade == ["pytorch"]
    assert json.loads((tmp_path / "pytorch" / "d2l-smoke.json").read_text())["signature"]


# --- third round (issue 31): nothing from outside published, every fault one clear message ----------

OUTSIDE = "../../../../../../../../../../etc/hostname"


@pytest.mark.parametrize("added, words", [
    (f"```eval_rst\n.. literalinclude:: /{OUTSIDE}\n```\n", "literalinclude /../"),
    ("```eval_rst\n.. raw:: html\n   :file: /etc/hostname\n```\n", "raw :file: /etc/hostname"),
    (f"```eval_rst\n.. csv-table:: Tablo\n   :file: {OUTSIDE}\n```\n", "csv-table :file: ../"),
    (f"```eval_rst\n.. include:: {OUTSIDE}\n```\n", "include ../"),
    (f"```eval_rst\nBkz. :download:`ortam <{OUTSIDE}>`.\n```\n", "download ../"),
    (f"```{{literalinclude}} {OUTSIDE}\n```\n", "literalinclude ../"),
    (f":::{{raw}} html\n:file: {OUTSIDE}\n:::\n", "raw :file: ../"),
    (f"Bkz. {{download}}`ortam <{OUTSIDE}>`.\n", "download ../"),
    ("```eval_rst\n.. literalinclude:: bag.txt\n```\n", "literalinclude bag.txt"),   # a link out of the book
])
def test_a_file_from_outside_the_book_is_an_error_at_its_line(book, added, words):
    """`.. literalinclude:: /../../proc/self/environ` published the build's environment: every path a page
    names is confined to the book, before any kernel starts."""
    site = tree(book.paths.site("html"))
    (book.root / "ch" / "bag.txt").symlink_to("/etc/hostname")
    text = PAGE.replace("print(6 * 7)", "print(6 * 8)") + "\n" + added
    book.write("ch/page.md", text)
    line = line_of(text, "hostname" if "hostname" in added else "bag.txt")
    message = assert_clear_failure(book.main("html"), starts=f"ch/page.md:{line}: {words}",
                                   contains=["outside the book's folder"])
    assert book.report()["notebooks"] == [] and tree(book.paths.site("html")) == site
    assert Path("/etc/hostname").read_text().strip() not in message.split("resolves to")[0]


@pytest.mark.parametrize("include, inserted", [
    ("```eval_rst\n.. include:: parca.rst\n```\n", ".. raw:: html\n   :file: /etc/hostname\n"),
    ("```{include} parca.md\n```\n", f":::{{literalinclude}} {OUTSIDE}\n:::\n"),
    ("```eval_rst\n.. include:: parca.rst\n```\n", ".. include:: ic/ic.rst\n"),     # an include in an include
])
def test_a_file_that_an_included_file_names_is_confined_to_the_book_too(book, include, inserted):
    """A file an `include` inserts is read as the page's own markup: what it names would be published."""
    name = re.search(r"parca\.\w+", include).group(0)
    book.write(f"ch/{name}", "Parça.\n\n" + inserted)
    book.write("ch/ic/ic.rst", ".. raw:: html\n   :file: ../../../../../../../../../../etc/hostname\n")
    text = PAGE + "\n" + include
    book.write("ch/page.md", text)
    message = assert_clear_failure(book.main("html"), starts=f"ch/page.md:{line_of(text, name)}: include {name}: ",
                                   contains=["outside the book's folder"])
    assert book.report()["notebooks"] == [] and Path("/etc/hostname").read_text().strip() not in message


def test_a_url_to_fetch_while_rendering_is_refused(book):
    book.write("ch/page.md", PAGE + "\n```eval_rst\n.. raw:: html\n   :url: http://127.0.0.1:1/x\n```\n")
    assert_clear_failure(book.main("html"), contains=["raw :url: http://127.0.0.1:1/x: the build fetches nothing"])


def test_files_beside_the_page_are_included_and_published(book):
    """Relative to the page's own folder, as Sphinx reads them (they resolved against the staging folder)."""
    book.write("ch/veri.csv", "a,b\n1,2\n")
    book.write("ch/parca.html", "<p id='parca'>Parça</p>\n")
    book.write("ch/kod.py", "print('dahil edilen kod')\n")
    book.write("ch/page.md", PAGE + "\n```eval_rst\nBkz. :download:`veri <veri.csv>`.\n\n.. raw:: html\n"
                                    "   :file: parca.html\n\n.. literalinclude:: kod.py\n```\n\n"
                                    "{download}`Tablo <veri.csv>`\n")
    done = book.main("html")
    assert done.returncode == 0, done.stderr
    html = book.html("ch/page")
    assert "<p id='parca'>Parça</p>" in html and "dahil edilen kod" in html
    published = list(book.paths.site("html").glob("_downloads/*/veri.csv"))
    assert [p.read_text() for p in published] == ["a,b\n1,2\n"]


def test_an_interactive_figure_cannot_name_a_file_outside_the_book(book, tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "src.js").write_text("alert(1)")
    escape = "../" * len(book.root.parts) + str(tmp_path / "x" / "src.js").lstrip("/")
    book.write("ch/page.interactive.yml", f"- id: fig\n  after: sec_page\n  script: {escape}\n")
    message = assert_clear_failure(book.main("html"), starts="ch/page.interactive.yml:1: script ",
                                   contains=["outside the book's folder"])
    assert book.report()["notebooks"] == [] and "resolves to" in message
    assert not [p for p in book.paths.out.rglob("src.js")]


@pytest.mark.parametrize("args, starts, words", [
    (("--jobs", "0", "html"), "--jobs must be a whole number of at least 1, not 0", ["`make html JOBS=2`"]),
    (("check", "--tab", "nonexistent"), "TAB=nonexistent: build.yml declares no framework 'nonexistent'",
     ["`make check TAB=mxnet`"]),
])
def test_what_the_command_line_gets_wrong_is_named_as_such(book, args, starts, words):
    message = assert_clear_failure(book.main(*args), starts=starts, contains=words)
    assert "correct build.yml" not in message and book.report()["status"] == "done"   # no build started


@pytest.mark.parametrize("folder, words", [
    ("lock", "is a folder, where the build keeps its lock file"),
    ("report.json", "is a folder, where the build writes a file, while writing the build report"),
    ("report.json.part", "is a folder, where the build writes a file, while writing the build report"),
])
def test_a_folder_where_the_build_keeps_a_file_is_named(book, folder, words):
    site = tree(book.paths.site("html"))
    (book.paths.out / folder).unlink(missing_ok=True)
    (book.paths.out / folder).mkdir()
    message = assert_clear_failure(book.main("html"), starts=f"{book.paths.out / folder}: {words}",
                                   contains=["remove that folder"])
    assert "free space" not in message and "cannot write into" not in message
    assert tree(book.paths.site("html")) == site


@pytest.mark.parametrize("option, words", [
    ("--port=99999", "PORT=99999 is not a port number"),
    ("--host=no-such-host.invalid", "HOST=no-such-host.invalid is not a name or address this machine knows"),
    ("busy", "is in use on 127.0.0.1 (another `make serve`?)"),
])
def test_the_preview_names_a_bad_or_busy_address(book, option, words):
    import socket
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = book.main("serve", f"--port={port}" if option == "busy" else option)
    assert_clear_failure(done, contains=[words])
    assert done.stdout == ""                                    # nothing served, no build started


@pytest.mark.skipif(os.geteuid() != 0, reason="a small file system to fill needs mount (root), as in CI")
def test_a_full_disk_while_rendering_is_one_message_and_leaves_nothing_half_written(book):
    """The whole _build on a disk with 60 KB free: copying the last site fills it. One message, exit 2 (not
    "a bug in the build", not the report blamed), no half html.new kept, the report final."""
    out = book.paths.out
    saved = tree(out)
    blocks = sum(-(-len(data) // 4096) * 4096 for data in saved.values())
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={blocks + 60 * 1024}", "tmpfs", str(out)], check=True)
    try:
        for name, content in saved.items():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            (out / name).write_bytes(content)
        book.write("ch/page.md", PAGE.replace("Bkz.", "Bakınız"))
        message = assert_clear_failure(book.main("html"), starts="no space left on device while copying the "
                                                                 "last site into html.new; the last good site is kept")
        assert len(message.strip().splitlines()) == 2
        assert not [p.name for p in out.iterdir() if p.name.endswith((".new", ".part"))]
        assert not [p for p in book.paths.doctrees.iterdir() if p.name.endswith(".new")]
        report = book.report()
        assert report["status"] == "failed" and report["error"]["kind"] == "storage"
        assert tree(out / "html") == {name[len("html/"):]: data for name, data in saved.items()
                                      if name.startswith("html/")}
    finally:
        subprocess.run(["umount", "-l", str(out)], check=False)


@pytest.mark.parametrize("damage, words", [
    (lambda data: data[:len(data) // 2], "not a notebook: NotJSONError"),
    (lambda data: b'{"cells": 5}', "not a notebook"),
    (lambda data: data.decode("utf-8").encode("utf-16"), "not UTF-8 text"),
])
def test_a_damaged_executed_notebook_in_make_merge_is_named(book, tmp_path, damage, words):
    executed = tmp_path / "executed"
    import shutil
    shutil.copytree(book.paths.executed, executed)
    damaged = executed / "pytorch" / "ch" / "page.ipynb"
    damaged.write_bytes(damage(damaged.read_bytes()))
    message = assert_clear_failure(book.main("html", "--executed", str(executed)),
                                   starts=f"ch/page.md: [pytorch] {damaged} is not a readable executed notebook: "
                                          f"{words}", contains=["make check TAB=pytorch"])
    assert len(message.strip().splitlines()) == 2


def test_a_shard_is_balanced_by_the_last_finished_builds_timings(book):
    """`make check TAB=… SHARD=i/n` locally: the build's own "running" report took the place of the timings
    before the split read them, so the split was by count."""
    book.write("index.md", INDEX.replace("ch/page\n", "ch/page\nch/b\nch/c\n"))
    for name in ("b", "c"):
        book.write(f"ch/{name}.md", f"# Sayfa {name}\n\n```{{.python .input}}\n#@tab all\nprint('{name}')\n```\n")
    seconds = {"ch/page.md": 10.0, "ch/b.md": 1.0, "ch/c.md": 1.0}     # by time: [page] and [b, c]
    book.paths.report.write_text(json.dumps({"command": "check", "status": "done", "notebooks": [
        {"page": page, "framework": "pytorch", "status": "executed", "run": "book", "cells": [{"seconds": s}]}
        for page, s in seconds.items()]}))
    done = book.main("check", "--tab", "pytorch", "--shard", "1/2")
    assert done.returncode == 0, done.stderr
    assert [n["page"] for n in book.report()["notebooks"] if n["run"] == "book"] == ["ch/page.md"]   # count: [page, c]
    done = book.main("check", "--tab", "pytorch", "--shard", "2/2")     # the same timings: the other share
    assert done.returncode == 0, done.stderr
    assert [n["page"] for n in book.report()["notebooks"] if n["run"] == "book"] == ["ch/b.md", "ch/c.md"]


def test_a_failed_notebook_is_cached_until_its_inputs_change_or_retry(book, tmp_path):
    """Every build ran a failing notebook again (and the preview, if the cell wrote beside its page, forever)."""
    runs = tmp_path / "runs"
    failing = (f"\n```{{.python .input}}\n#@tab pytorch\nopen({str(runs)!r}, 'a').write('x')\n"
               "raise ValueError('bozuk')\n```\n")
    book.write("ch/page.md", PAGE + failing)
    starts = f"ch/page.md:{line_of(PAGE + failing, 'bozuk')}: [pytorch] cell 3/3: ValueError: bozuk"
    first = assert_clear_failure(book.main("html"), starts=starts)
    assert runs.read_text() == "x"
    again = assert_clear_failure(book.main("html"), starts=starts)
    assert runs.read_text() == "x" and again == first                   # from the cache: the same message
    assert {n["framework"]: n["status"] for n in book.report()["notebooks"]}["pytorch"] == "failed"
    assert "Derleme hatası" in book.html("ch/page")
    assert_clear_failure(book.main("--retry", "html"), starts=starts)
    assert runs.read_text() == "xx"
    book.write("ch/page.md", PAGE + failing.replace("bozuk", "yine bozuk"))   # its inputs changed
    assert_clear_failure(book.main("html"), contains=["ValueError: yine bozuk"])
    assert runs.read_text() == "xxx"


def test_the_site_publishes_only_what_its_pages_use_incremental_or_clean(book, tmp_path):
    """A framework removed from build.yml left its readers' notebooks, a removed :download: its file: render
    starts from a copy of the last site."""
    book.write("ch/veri.csv", "a,b\n1,2\n")
    book.write("ch/page.md", PAGE + "\nBkz. {download}`veri <veri.csv>`.\n")
    assert book.main("html").returncode == 0
    site = book.paths.site("html")
    assert list(site.glob("_downloads/*/veri.csv")) and (site / "_notebooks/ch/page-tensorflow.ipynb").is_file()
    text = (book.root / "build.yml").read_text()
    book.write("build.yml", text[:text.index("  tensorflow:\n")])
    book.write("ch/page.md", PAGE)
    done = book.main("html")
    assert done.returncode == 0, done.stderr
    assert not list(site.glob("_downloads/*/veri.csv")) and not (site / "_downloads").exists()
    assert not (site / "_notebooks/ch/page-tensorflow.ipynb").exists()
    incremental = sorted(tree(site))
    clean = Book(book.copy(tmp_path / "clean").root)
    import shutil
    for folder in (clean.paths.site("html"), clean.paths.doctrees):
        shutil.rmtree(folder)
    assert clean.main("html").returncode == 0
    assert sorted(tree(clean.paths.site("html"))) == incremental


@pytest.mark.parametrize("image, content", [("x.png", b"not an image\n"), ("x.svg", b"<html>not a drawing</html>\n")])
def test_an_image_that_is_not_one_is_an_error_at_its_line(book, image, content):
    """A text file named x.png passed `make html` as a broken figure, and failed `make pdf` in the .tex."""
    book.write(f"ch/{image}", content)
    text = PAGE + f"\n![Bir şekil]({image})\n"
    book.write("ch/page.md", text)
    assert_clear_failure(book.main("html"), starts=f"ch/page.md:{line_of(text, image)}: image {image} is not ")
    assert book.report()["notebooks"] == []


def test_control_characters_a_cell_prints_are_shown_escaped_and_never_reach_the_terminal(book):
    book.write("ch/page.md", PAGE.replace('print(6 * 7)',
                                          "import sys\nsys.stderr.write('\\x1b]0;başlık\\x07\\x1b[2J')\n"
                                          "print('zil\\x07 dikey\\x0b son')"))
    done = book.main("html")
    assert done.returncode == 0, done.stderr
    for output in (done.stdout, done.stderr):
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", output), output    # not the cell's escape codes
    assert "\\x1b]0;başlık\\x07\\x1b[2J" in done.stdout                       # but shown, escaped
    html = book.html("ch/page")
    assert "zil\\x07 dikey\\x0b son" in html and "\x07" not in html and "\x0b" not in html
    notebook = json.loads((book.paths.site("html") / "_notebooks/ch/page-pytorch.ipynb").read_text())
    assert "\x07" not in json.dumps(notebook, ensure_ascii=False)


def test_a_page_without_a_title_is_caught_at_its_toc_line_before_any_kernel(book):
    index = INDEX.replace("ch/page\n", "ch/page\nch/rst\nch/basliksiz\n")
    book.write("index.md", index)
    book.write("ch/rst.md", "```eval_rst\n\n.. only:: html\n\n   Başlık\n   ======\n\n```\n\nMetin.\n")  # has one
    book.write("ch/basliksiz.md", "Yalnızca metin, başlık yok.\n\n```{.python .input}\n#@tab all\nprint(1)\n```\n")
    message = assert_clear_failure(book.main("html"), starts=f"index.md:{line_of(index, 'basliksiz')}: toc entry "
                                                              "ch/basliksiz: ch/basliksiz.md has no title")
    assert len(message.strip().splitlines()) == 2 and book.report()["notebooks"] == []


def test_a_toc_entry_and_its_file_name_are_compared_after_unicode_normalisation(book):
    import unicodedata
    nfc, nfd = (unicodedata.normalize(form, "bölüm/şekil") for form in ("NFC", "NFD"))
    assert nfc != nfd
    book.write("index.md", INDEX.replace("kaynakca\n", f"kaynakca\n{nfc}\n"))
    book.write(f"{nfd}.md", "# Şekil\n\nMetin.\n")
    done = book.main("html")
    assert done.returncode == 0, done.stderr
    assert "Metin." in book.html(nfc) and "Şekil" in book.html("index")   # Sphinx names pages in NFC


def test_a_checkout_copied_elsewhere_runs_its_own_d2l(tmp_path):
    """The environments held an editable d2l naming the checkout that made them: a copy (environments
    included) ran the old checkout's d2l while the cache key hashed its own (issue 31, case 14)."""
    copy = tmp_path / "checkout"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True)
    for name in filter(None, tracked.stdout.split("\0")):
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_bytes((ROOT / name).read_bytes())
    (copy / ".envs").symlink_to((ROOT / ".envs").resolve())
    with open(copy / "d2l" / "__init__.py", "a", encoding="utf-8") as library:
        library.write("\nCHECKOUT = 'kopya'\n")
    (copy / "kitap").mkdir()
    book = Book(copy / "kitap", {"index.md": "# Deneme\n\n```toc\nch/page\n```\n", "ch/page.md":
                                 "# Sayfa\n\n```{.python .input}\n#@tab pytorch\nimport d2l\n"
                                 "print(d2l.__file__, getattr(d2l, 'CHECKOUT', 'asıl'))\n```\n"}, real=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-m", "bookbuild", "--config", str(book.root / "build.yml"), "check",
                           "--tab", "pytorch"], cwd=copy, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    executed = (book.paths.executed / "pytorch" / "ch" / "page.ipynb").read_text(encoding="utf-8")
    # the copy's d2l, as the library stage wrote it into the copy's _build (ours with the book's #@save code)
    printed = re.search(r"(/[^\s\"]+/d2l/__init__\.py) (\w+)", executed)
    assert printed and printed.group(2) == "kopya" and printed.group(1).startswith(str(copy)), executed[-2000:]
