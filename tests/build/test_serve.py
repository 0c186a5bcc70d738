"""`make serve` on a fixture book, watched in Chromium: prose and code edits reload the page,
only the edited framework executes, a bad citation shows a banner over the last good page,
the fix takes it away, and Ctrl-C stops everything without a traceback."""
from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import threading
from pathlib import Path

from books import INDEX, ROOT, Book, free_port

# Each framework has its own cell: a page has the frameworks its marks name (d2lbook's rule), and the first.
PAGE = """# Sayfa

İlk sürümün cümlesi.

```{.python .input}
#@tab all
import os
print("çerçeve", os.environ["FIXTURE_FRAMEWORK"])
```

```{.python .input}
#@tab pytorch
print("pytorch der ki", 1)
```

```{.python .input}
#@tab tensorflow
print("tensorflow", "burada")
```
"""


class Serve:
    """`make serve BOOK=... PORT=...` in the background, its output collected line by line."""

    def __init__(self, book, port: int):
        self.lines: list[str] = []
        self.printed = threading.Condition()      # notified at every line
        self.process = subprocess.Popen(["make", "-s", "serve", f"BOOK={book.root / 'build.yml'}", f"PORT={port}"],
                                        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        start_new_session=True)
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        for line in self.process.stdout:
            with self.printed:
                self.lines.append(line)
                self.printed.notify_all()

    def wait_for(self, words: str, after: int = 0, seconds: float = 180) -> int:
        """The number of the first line from line `after` on that holds `words` (plus one), once printed."""
        def found():
            return next((number + 1 for number, line in enumerate(self.lines[after:], after) if words in line), None)
        with self.printed:
            if number := self.printed.wait_for(found, timeout=seconds):
                return number
        raise AssertionError(f"`make serve` did not print {words!r}:\n" + "".join(self.lines[-40:]))

    def stop(self) -> str:
        os.killpg(self.process.pid, signal.SIGINT)          # Ctrl-C, as a terminal sends it
        self.process.wait(timeout=90)
        return "".join(self.lines)


# The page is looked at four times a second while a build runs, not at every frame: reading its text lays
# it out, and a rebuild on a loaded machine takes a while. A look can fall while the page reloads, before its
# article is parsed: that look waits on, rather than failing (no article) or passing (an article not yet whole).
def shows(page, text: str, shown: bool = True) -> None:
    """Wait until the parsed article holds `text` (or, `shown=False`, no longer holds it)."""
    page.wait_for_function("([text, shown]) => document.readyState !== 'loading'"
                           " && document.querySelector('article')?.innerText.includes(text) === shown",
                           arg=[text, shown], polling=250, timeout=60000)


def shows_banner(page) -> None:
    page.wait_for_function("document.getElementById('d2l-live-error')?.checkVisibility() === true",
                           polling=250, timeout=60000)


def test_make_serve_reloads_rebuilds_and_reports(reader, make_book):
    slow = PAGE.replace('print("çerçeve", os.environ["FIXTURE_FRAMEWORK"])',
                        'import time\ntime.sleep(1)\nprint("çerçeve", os.environ["FIXTURE_FRAMEWORK"])')
    book = make_book(slow)
    port = free_port()
    serve = Serve(book, port)
    try:
        # A save while the first build runs is not lost: a rebuild follows it.
        serve.wait_for("executing")
        book.write("ch/page.md", slow.replace("İlk sürümün", "Erken sürümün"))
        seen = serve.wait_for("; building", serve.wait_for("Watching"))
        seen = serve.wait_for("done: pages reload", seen)
        one = reader("desktop")
        page = one.open(f"http://127.0.0.1:{port}/ch/page.html")
        assert "Erken sürümün cümlesi." in page.inner_text("article")
        page.evaluate("localStorage.setItem('d2l-tab', 'pytorch')")

        # A prose edit: the page reloads itself with it; no kernel starts.
        book.write("ch/page.md", slow.replace("İlk sürümün", "İkinci sürümün"))
        shows(page, "İkinci sürümün cümlesi.")
        seen = serve.wait_for("done: pages reload", seen)
        assert {n["status"] for n in book.report()["notebooks"] if n["cells"]} == {"cached"}

        # A code edit in one framework: only that framework executes, its new output is on the page.
        edited = slow.replace("İlk sürümün", "İkinci sürümün").replace("der ki\", 1", "der ki\", 2")
        book.write("ch/page.md", edited)
        shows(page, "pytorch der ki 2")
        seen = serve.wait_for("done: pages reload", seen)
        statuses = {n["framework"]: n["status"] for n in book.report()["notebooks"] if n["cells"]}
        assert statuses == {"mxnet": "cached", "pytorch": "executed", "tensorflow": "cached"}

        # build.yml is read again by every rebuild: a timeout set now makes a five-second cell fail (not the
        # one-second cell: a second's sleep may end within a second's timeout). A failing cell fails the build,
        # not the site: the page reloads with the failure in its tab, and the banner says so.
        timeout = (book.root / "build.yml").read_text()
        book.write("build.yml", timeout.replace("timeout: 60", "timeout: 1"))
        book.write("ch/page.md",
                   edited.replace('print("pytorch der ki", 2)', 'time.sleep(5)\nprint("pytorch der ki", 3)'))
        # (the page is watched once the build has said so: a loaded machine may take minutes over it)
        seen = serve.wait_for("failed: the pages reload and show it", seen)
        banner = page.locator("#d2l-live-error")
        shows_banner(page)
        assert "ran longer than the timeout of 1 s" in banner.inner_text()
        shows(page, "Derleme hatası")
        book.write("build.yml", timeout)
        shows(page, "Derleme hatası", shown=False)
        seen = serve.wait_for("done: pages reload", seen)

        # A bad citation: a banner names the source line; the last good page is still served.
        good = page.inner_text("article")
        book.write("ch/page.md", edited.replace("der ki\", 2", "der ki\", 3").replace(
            "İkinci sürümün cümlesi.", "Bkz. :cite:`Yok.2099`."))
        shows_banner(page)
        assert "ch/page.md:3: citation key Yok.2099 is not in d2l.bib" in banner.inner_text()
        seen = serve.wait_for("failed: the last good site is still served", seen)
        page.reload()
        assert page.inner_text("article") == good and banner.is_visible()   # after a reload too

        # The fix: the banner goes, the page reloads.
        fixed = (edited.replace("der ki\", 2", "der ki\", 3")
                 .replace("İkinci sürümün cümlesi.", "Bkz. :cite:`Polyak.1964`."))
        book.write("ch/page.md", fixed)
        shows(page, "Polyak")
        assert page.locator("#d2l-live-error").count() == 0
        seen = serve.wait_for("done: pages reload", seen)
        assert one.errors == []

        # A burst of saves is one rebuild: the next build after it is the one for a later, different save.
        builds_before = sum("; building" in line for line in serve.lines)
        for k in range(5):
            book.write("ch/page.md", fixed.replace("Bkz.", f"Sürüm {k}. Bkz."))
        seen = serve.wait_for("done: pages reload", serve.wait_for("; building", seen))
        book.write("build.yml", timeout + "# son\n")
        serve.wait_for("done: pages reload", serve.wait_for("changed: build.yml; building", seen))
        assert sum("; building" in line for line in serve.lines) - builds_before == 2
    finally:
        output = serve.stop()
    assert "stopped" in output and not re.search(r"^Traceback", output, re.M)
    assert json.loads((book.paths.report).read_text())["status"] == "done"


def test_the_preview_watches_sources_only():
    """Not what builds write, not the environments (20,000 folders), not git."""
    from bookbuild.config import NOT_SOURCES, load
    from bookbuild.serve import preview as serve

    folders = serve.watched(load())
    assert not any(NOT_SOURCES.intersection(path.parts) for path in folders)
    assert {ROOT, ROOT / "chapter_optimization", ROOT / "d2l"} <= set(folders)


def _until(changes, name: str) -> list:
    """The batches of changes up to the first that names `name` (the watcher reports it within seconds)."""
    seen = []
    while not any(Path(path).name == name for batch in seen for _, path in batch):
        seen.append(changes.get(timeout=120))
    return seen


def test_the_preview_watches_folders_made_after_it_started_and_no_link_out_of_the_book(tmp_path):
    """A new chapter's pages were never rebuilt; a link to /usr was followed (18,882 watches)."""
    import queue
    import threading

    from bookbuild.serve import preview as serve

    (tmp_path / "book").mkdir()
    book = Book(tmp_path / "book", {"index.md": INDEX, "ch/page.md": "# Sayfa\n"})
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (book.root / "disari").symlink_to(outside)
    (book.root / "ch" / "disari").symlink_to(outside)
    folders = serve.watched(book.config)
    assert book.root / "ch" in folders and not [p for p in folders if "disari" in p.parts]
    changes, stop, said = queue.Queue(), threading.Event(), queue.Queue()
    serve.watch(book.config, changes, stop, log=said.put)
    try:
        while True:                                  # the watch has started once a save is seen
            (book.root / "index.md").write_text(INDEX + "\n")
            with contextlib.suppress(queue.Empty):
                if any(Path(path).name == "index.md" for _, path in changes.get(timeout=5)):
                    break
        (book.root / "ch2").mkdir()
        assert "ch2" in said.get(timeout=120)
        (book.root / "ch2" / "yeni.md").write_text("# Yeni\n")
        _until(changes, "yeni.md")
        (outside / "deep" / "dis.md").write_text("# Dış\n")
        (book.root / "ch" / "page.md").write_text("# Sayfa 2\n")
        seen = _until(changes, "page.md")
        assert not [path for batch in seen for _, path in batch if "dis.md" in path]
    finally:
        stop.set()


def test_the_preview_answers_bad_requests_and_lists_no_folders(tmp_path):
    """400 for a malformed request, 404 for a folder without index.html, HEAD as long as GET."""
    import functools
    import http.client

    from bookbuild.serve import preview as serve

    (tmp_path / "_images").mkdir()
    (tmp_path / "_images" / "a.svg").write_text("<svg/>")
    (tmp_path / "page.html").write_text("<html><body>sayfa</body></html>")
    handler = functools.partial(type("Handler", (serve.PreviewHandler,), {"state": serve.State()}),
                                directory=str(tmp_path))
    server = serve.Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def ask(method: str, path: str):
        connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
        connection.request(method, path)
        response = connection.getresponse()
        body = response.read()
        connection.close()
        return response.status, response.getheader("Content-Length"), body

    try:
        assert ask("GET", "/%00")[0] == 400
        assert ask("GET", "/_images/")[0] == 404 and b"a.svg" not in ask("GET", "/_images/")[2]
        for path in ("/page.html", "/_images/a.svg"):
            status, length, body = ask("GET", path)
            assert status == 200 and int(length) == len(body)
            assert ask("HEAD", path)[:2] == (200, length)
    finally:
        server.shutdown()
        server.server_close()


def test_the_preview_keeps_a_pages_burst_of_connections_waiting_rather_than_dropping_them():
    """Pages and tabs open many connections at once. Until the server accepts them they wait in its
    backlog; one dropped is tried again by the browser only a second later."""
    import socket

    from bookbuild.serve import preview as serve

    server = serve.Server(("127.0.0.1", 0), serve.PreviewHandler)   # listening, accepting nothing yet
    connections = []
    try:
        for _ in range(64):
            connections.append(socket.create_connection(server.server_address, timeout=5))
    finally:
        for connection in connections:
            connection.close()
        server.server_close()
