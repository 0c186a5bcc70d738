"""`make serve` on a fixture book, watched in Chromium: prose and code edits reload the page,
only the edited framework executes, a bad citation shows a banner over the last good page,
the fix takes it away, and Ctrl-C stops everything without a traceback."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

from books import ROOT, Reader

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
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Serve:
    """`make serve BOOK=... PORT=...` in the background, its output collected line by line."""

    def __init__(self, book, port: int):
        self.lines: list[str] = []
        self.process = subprocess.Popen(["make", "-s", "serve", f"BOOK={book.root / 'build.yml'}", f"PORT={port}"],
                                        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        start_new_session=True)
        threading.Thread(target=lambda: self.lines.extend(self.process.stdout), daemon=True).start()

    def wait_for(self, words: str, after: int = 0, seconds: float = 180) -> int:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for number, line in enumerate(self.lines[after:], after):
                if words in line:
                    return number + 1
            time.sleep(0.1)
        raise AssertionError(f"`make serve` did not print {words!r}:\n" + "".join(self.lines[-40:]))

    def stop(self) -> str:
        os.killpg(self.process.pid, signal.SIGINT)          # Ctrl-C, as a terminal sends it
        self.process.wait(timeout=90)
        return "".join(self.lines)


def test_make_serve_reloads_rebuilds_and_reports(browser, make_book):
    book = make_book(PAGE)
    port = free_port()
    serve = Serve(book, port)
    try:
        seen = serve.wait_for("Watching")
        reader = Reader(browser, "desktop")
        page = reader.open(f"http://127.0.0.1:{port}/ch/page.html")
        assert "İlk sürümün cümlesi." in page.inner_text("article")
        page.evaluate("localStorage.setItem('d2l-tab', 'pytorch')")

        # A prose edit: the page reloads itself with it; no kernel starts.
        book.write("ch/page.md", PAGE.replace("İlk sürümün", "İkinci sürümün"))
        page.wait_for_function("document.querySelector('article').innerText.includes('İkinci sürümün cümlesi.')",
                               timeout=60000)
        seen = serve.wait_for("done: pages reload", seen)
        assert {n["status"] for n in book.report()["notebooks"] if n["cells"]} == {"cached"}

        # A code edit in one framework: only that framework executes, its new output is on the page.
        book.write("ch/page.md", PAGE.replace("İlk sürümün", "İkinci sürümün").replace("der ki\", 1", "der ki\", 2"))
        page.wait_for_function("document.querySelector('article').innerText.includes('pytorch der ki 2')",
                               timeout=60000)
        seen = serve.wait_for("done: pages reload", seen)
        statuses = {n["framework"]: n["status"] for n in book.report()["notebooks"] if n["cells"]}
        assert statuses == {"mxnet": "cached", "pytorch": "executed", "tensorflow": "cached"}

        # A bad citation: a banner names the source line; the last good page is still served.
        good = page.inner_text("article")
        book.write("ch/page.md", PAGE.replace("İlk sürümün cümlesi.", "Bkz. :cite:`Yok.2099`.")
                   .replace("der ki\", 1", "der ki\", 2"))
        banner = page.locator("#d2l-live-error")
        banner.wait_for(timeout=60000)
        assert "ch/page.md:3: citation key Yok.2099 is not in d2l.bib" in banner.inner_text()
        seen = serve.wait_for("failed: the last good site is still served", seen)
        page.reload()
        assert page.inner_text("article") == good and banner.is_visible()   # after a reload too

        # The fix: the banner goes, the page reloads.
        book.write("ch/page.md", PAGE.replace("İlk sürümün cümlesi.", "Bkz. :cite:`Polyak.1964`.")
                   .replace("der ki\", 1", "der ki\", 2"))
        page.wait_for_function("document.querySelector('article').innerText.includes('Polyak')", timeout=60000)
        assert page.locator("#d2l-live-error").count() == 0
        assert reader.errors == []
        reader.close()

        # A burst of saves is one rebuild.
        builds_before = sum("; building" in line for line in serve.lines)
        for k in range(5):
            book.write("ch/page.md", PAGE.replace("İlk sürümün", f"Sürüm {k}").replace("der ki\", 1", "der ki\", 2"))
            time.sleep(0.05)
        serve.wait_for("done: pages reload", serve.wait_for("; building", seen))
        time.sleep(2)
        assert sum("; building" in line for line in serve.lines) - builds_before == 1
    finally:
        output = serve.stop()
    assert "stopped" in output and not re.search(r"^Traceback", output, re.M)
    assert json.loads((book.paths.report).read_text())["status"] in ("done", "failed", "interrupted")
