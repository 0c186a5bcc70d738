"""Faults and bad input (issue #8): one clear message at its source, exit code 2 (130 when
interrupted), and nothing lost: the last good site, the cache and the data stay intact.

Every case runs the command line as the Makefile does (`python -m bookbuild ...`) on a
fixture book with cheap kernels, and asserts the message, the exit code, the site, the
cache and the data.
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

from bookbuild import environments, references
from bookbuild.config import ROOT
from d2l import data as d2l_data

import conf

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
    """The execution cache's entries; reading them fails if the database is inconsistent."""
    from jupyter_cache import get_cache
    cache = get_cache(str(book.paths.cache))
    return sorted(record.uri for record in cache.list_cache_records()
                  if cache.get_cache_bundle(record.pk).nb is not None)


def built(make_book, page=PAGE, **more):
    book = make_book(page, **more)
    done = book.cli("html")
    assert done.returncode == 0, done.stderr
    return book, tree(book.paths.site("html"))


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


# --- read stage: the source is checked before any kernel starts ------------------------

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
])
def test_source_errors_fail_in_seconds_before_any_kernel(make_book, edit, starts, words):
    book, site = built(make_book)
    book.write("ch/page.md", edit(PAGE).replace('print(6 * 7)', 'print(6 * 8)'))
    started = time.monotonic()
    done = book.cli("html")
    assert time.monotonic() - started < 15
    assert_clear_failure(done, starts=starts, contains=words)
    assert tree(book.paths.site("html")) == site                       # the last good site is kept
    report = book.report()
    assert report["status"] == "failed" and report["error"]["kind"] == "source"
    assert report["notebooks"] == []                                   # no kernel started


def test_a_label_of_the_published_edition_links_there(make_book):
    """A :numref: to it reads its published number ("Bölüm 11.4"; a :ref:, its title)."""
    book, _ = built(make_book)
    html = book.html("ch/page")
    sgd = references.published_labels(book.config.book.published_labels)["sec_sgd"]
    assert 'href="https://tr.d2l.ai/chapter_optimization/sgd.html#sec-sgd"' in html
    assert f"><span>{sgd.reads('numref', conf.numfig_format['section'])}</span><" in html


def test_a_label_of_this_build_wins_over_the_published_one(make_book):
    page = PAGE.replace("# Sayfa\n:label:`sec_page`", "# Sayfa\n:label:`sec_sgd`").replace(
        ":numref:`sec_page` ve ", "")
    book, _ = built(make_book, page)
    html = book.html("ch/page")
    assert "tr.d2l.ai/chapter_optimization/sgd.html" not in html
    assert 'href="#sec-sgd"' in html


def test_a_chapter_that_is_not_utf8_is_named(make_book):
    book, site = built(make_book)
    book.write("ch/page.md", PAGE.encode("utf-8").replace(b"Bkz.", b"Bkz\xff."))
    assert_clear_failure(book.cli("html"), starts="ch/page.md:4: is not UTF-8 text", contains=["save the file as UTF-8"])
    assert tree(book.paths.site("html")) == site


@pytest.mark.parametrize("edit, words", [
    (lambda t: t.replace("  pytorch:\n    label: PyTorch", "  pytorch: PyTorch\n  ignored:\n    label: PyTorch"),
     ["build.yml:", "frameworks.pytorch: must be a mapping"]),
    (lambda t: t.replace("timeout: 60", "timeout: [60"), ["build.yml:", "not valid YAML"]),
    (lambda t: t.replace("timeout: 60", "timeout: soon"), ["timeout must be a whole number"]),
    (lambda t: t.replace("  title: Deneme Kitabı\n", ""), ["book.title: is missing"]),
])
def test_build_yml_errors_are_one_message(make_book, edit, words):
    book = make_book(PAGE)
    book.write("build.yml", edit((book.root / "build.yml").read_text()))
    done = book.cli("html")
    message = assert_clear_failure(done, contains=words)
    assert len(message.strip().splitlines()) <= 3, message


# --- execution -----------------------------------------------------------------------

@pytest.mark.parametrize("code, kind, words", [
    ("import os\nos._exit(3)", "DeadKernel", ["the kernel died", "kernel-pytorch.log"]),
    ("import torch_that_is_not_there", "EnvironmentProblem",
     ["ModuleNotFoundError", "`torch_that_is_not_there` is not importable in the pytorch environment", "make env"]),
    ("from d2l import data\nimport tempfile\ndata.download('airfoil', cache_dir=tempfile.mkdtemp())",
     "DataError", ["DownloadError", "DATA_MIRROR"]),
])
def test_each_kind_of_execution_failure_says_what_to_do(make_book, code, kind, words):
    book, site = built(make_book)
    book.write("ch/page.md", PAGE + f"\n```{{.python .input}}\n#@tab pytorch\n{code}\n```\n")
    message = assert_clear_failure(book.cli("html"), starts="ch/page.md:19: [pytorch] cell 3/3: ", contains=words)
    assert "fix the code of that cell" not in message                   # not what a data or environment error needs
    assert tree(book.paths.site("html")) == site
    assert book.report()["error"]["kind"] == {"DeadKernel": "dead kernel", "EnvironmentProblem": "environment",
                                              "DataError": "data"}[kind]
    assert cache_records(book)                                          # the cache still reads


def test_the_timeout_is_a_setting_and_says_so(make_book):
    book, site = built(make_book)
    book.write("ch/page.md", PAGE + "\n```{.python .input}\n#@tab mxnet\nimport time\ntime.sleep(30)\n```\n")
    book.write("build.yml", (book.root / "build.yml").read_text().replace("timeout: 60", "timeout: 2"))
    assert_clear_failure(book.cli("html"), starts="ch/page.md:19: [mxnet] cell 3/3: ran longer than the timeout of 2 s",
                         contains=["TIMEOUT"])
    assert_clear_failure(book.cli("--timeout", "1", "html"), contains=["ran longer than the timeout of 1 s"])
    assert tree(book.paths.site("html")) == site


def test_a_damaged_cache_is_named_not_a_sqlalchemy_traceback(make_book):
    book, site = built(make_book)
    (book.paths.cache / "global.db").write_bytes(b"this is not a database" * 100)
    book.write("ch/page.md", PAGE.replace("6 * 7", "6 * 9"))
    message = assert_clear_failure(book.cli("html"), contains=["the execution cache cannot be opened",
                                                              "rm -rf _build/cache"])
    assert len(message.splitlines()) <= 3
    assert tree(book.paths.site("html")) == site


# --- interrupts, locks, the last good site --------------------------------------------

def kernels_running() -> int:
    done = subprocess.run(["pgrep", "-fc", "ipykernel_launcher"], capture_output=True, text=True)
    return int(done.stdout.strip() or 0)


def start(book, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bookbuild", "--config", str(book.root / "build.yml"), *args],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(process, words: str) -> str:
    """Read the build's output, line by line, until a line holds `words`."""
    seen = ""
    for line in process.stdout:
        seen += line
        if words in line:
            return seen
    raise AssertionError(f"the build ended before printing {words!r}:\n{seen}")


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_stops_kernels_keeps_the_site_and_the_cache(make_book, signal_number):
    book, site = built(make_book)
    before = kernels_running()
    slow = PAGE.replace("print(6 * 7)", "print(6 * 7)\nimport time\ntime.sleep(60)")
    book.write("ch/page.md", slow)
    process = start(book, "--jobs", "3", "html")
    wait_for(process, "cell 1/2")
    time.sleep(0.5)
    process.send_signal(signal_number)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, (out, err)
    assert err.strip().splitlines()[-1].startswith("interrupted: "), err
    assert "Traceback" not in err and "InvalidStateError" not in err + out
    assert "The site is in" not in out                                  # it did not go on to render
    assert kernels_running() == before                                  # every kernel was shut down
    assert tree(book.paths.site("html")) == site
    assert book.report()["status"] == "interrupted"
    assert all(uri.endswith(("#mxnet", "#pytorch", "#tensorflow")) for uri in cache_records(book))
    # The next build runs what is missing only: the interrupted notebooks.
    book.write("ch/page.md", slow.replace("time.sleep(60)", "time.sleep(0)"))
    assert book.cli("html").returncode == 0


def test_one_build_at_a_time_the_second_waits_and_says_so(make_book):
    book, _ = built(make_book)
    book.write("ch/page.md", PAGE.replace("print(6 * 7)", "import time\ntime.sleep(3)\nprint(6 * 7)"))
    first = start(book, "html")
    wait_for(first, "executing")
    second = start(book, "html")
    out, err = second.communicate(timeout=120)
    first.communicate(timeout=120)
    assert first.returncode == 0 and second.returncode == 0, err
    assert "another build is running in this checkout" in out and "waiting" in out
    statuses = {n["status"] for n in book.report()["notebooks"]}
    assert statuses == {"cached"}                                       # the second reused the first's work


def test_a_render_error_points_at_the_chapter_and_keeps_the_site(make_book):
    book, site = built(make_book)
    page = PAGE + "\nSon.\n\n```eval_rst\n.. this-directive-does-not-exist::\n```\n"
    book.write("ch/page.md", page)
    message = assert_clear_failure(book.cli("html"), contains=["Unknown directive type", "the last good site is kept"])
    assert message.startswith("ch/page.md:2"), message                  # the chapter's own file and a line near 20
    assert tree(book.paths.site("html")) == site
    assert (book.paths.doctrees / "html").is_dir()                      # and the doctrees
    assert book.report()["error"]["kind"] == "render"


def test_the_same_notebooks_render_to_the_same_bytes(make_book):
    """Clean or incremental, and after an edit that was reverted: the same site, search index included."""
    book, first = built(make_book)
    book.write("ch/page.md", PAGE.replace("Bkz.", "Bkz. ayrıca zıpkınlı sözcükler."))
    assert book.cli("html").returncode == 0
    assert "zıpkın" in codecs.decode((book.paths.site("html") / "searchindex.js").read_text(), "unicode_escape")
    book.write("ch/page.md", PAGE)
    assert book.cli("html").returncode == 0
    assert tree(book.paths.site("html")) == first
    for folder in (book.paths.site("html"), book.paths.doctrees):
        subprocess.run(["rm", "-rf", str(folder)], check=True)
    assert book.cli("html").returncode == 0
    assert tree(book.paths.site("html")) == first


def test_the_pdf_without_tex_is_a_toolchain_error(make_book):
    book, site = built(make_book)
    done = book.cli("pdf", env={"PATH": str(Path(sys.executable).parent)})
    assert_clear_failure(done, contains=["the PDF needs", "apt-get install"])
    assert tree(book.paths.site("html")) == site


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
    os.utime(mirror / "airfoil_self_noise.dat", (time.time() + 100, time.time() + 100))
    assert dict(d2l_data.seed_cache(mirror, cache)) == {"airfoil": "cached copy verified"}
    assert sha1(cache / "airfoil_self_noise.dat") == AIRFOIL_SHA1


def test_a_damaged_cached_file_is_repaired_from_a_good_mirror(mirror_and_cache):
    mirror, cache = mirror_and_cache
    (mirror / "airfoil_self_noise.dat").write_bytes(SHARED_AIRFOIL.read_bytes())
    (cache / "airfoil_self_noise.dat").write_bytes(b"damaged")
    os.utime(cache / "airfoil_self_noise.dat", (time.time() + 100, time.time() + 100))   # newer than the mirror
    assert "copied from" in dict(d2l_data.seed_cache(mirror, cache))["airfoil"]
    assert sha1(cache / "airfoil_self_noise.dat") == AIRFOIL_SHA1


def test_a_bad_mirror_copy_is_refused_and_other_files_are_ignored(mirror_and_cache):
    mirror, cache = mirror_and_cache
    (mirror / "airfoil_self_noise.dat").write_bytes(b"wrong")
    (mirror / "unrelated.txt").write_text("not a data set")
    assert "wrong SHA-1" in dict(d2l_data.seed_cache(mirror, cache))["airfoil"]
    assert list(cache.iterdir()) == []


@pytest.mark.parametrize("mirror", ["empty", "missing"])
def test_an_empty_or_missing_mirror_is_not_an_error(make_book, tmp_path, mirror):
    folder = tmp_path / "mirror"
    if mirror == "empty":
        folder.mkdir()
    book = make_book(PAGE)
    done = book.cli("html", env={"DATA_MIRROR": str(folder), "D2L_DATA_DIR": str(tmp_path / "cache")})
    assert done.returncode == 0, done.stderr


def test_the_build_seeds_the_cache_from_the_mirror(make_book, tmp_path):
    book = make_book(PAGE)
    cache = tmp_path / "cache"
    done = book.cli("html", env={"DATA_MIRROR": str(SHARED_AIRFOIL.parent), "D2L_DATA_DIR": str(cache)})
    assert done.returncode == 0, done.stderr
    assert "[data] airfoil: copied from" in done.stdout
    assert sha1(cache / "airfoil_self_noise.dat") == AIRFOIL_SHA1
    assert sorted(p.name for p in cache.iterdir()) == ["airfoil_self_noise.dat"]   # nothing else copied


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
