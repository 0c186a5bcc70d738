"""`make serve`: a live preview for translators and maintainers.

It watches the book's sources (its pages' folders, build.yml and the files at the book's
top, the d2l library and the site's configuration; never `_build/` or the environments),
from before its first build, so no save is lost; a burst of saves is one change. It
serves `_build/html` on localhost (loopback unless told otherwise). Every change runs
the real build (`python -m bookbuild html`, as `make html` does: it reads build.yml
anew, and only what changed executes), its progress in this terminal. A failing cell
fails the build but not the site: the pages reload and show the failure. The open pages reload
themselves, keeping their scroll position (the reader's framework is kept anyway). A failed build keeps the last good
site served and shows its error (file:line, framework, cell) on every page as a banner,
until a build succeeds. Ctrl-C stops the build that runs (its kernels shut down) and the
server, without a traceback.

The preview's script is added to pages as they are served: the built site is not touched.
"""
from __future__ import annotations

import errno
import functools
import http.server
import json
import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bookbuild.config import NOT_SOURCES, ROOT, WATCHED_INPUTS, BookConfig, Paths
from bookbuild.errors import UsageError

if TYPE_CHECKING:
    from watchfiles import Change  # imported late at run time, as Sphinx is: `make check` never watches

logger = logging.getLogger(__name__)

LIVE = "/__d2l_live__"

CLIENT = """(() => {
  const KEY = "d2l-live-scroll";
  const saved = sessionStorage.getItem(KEY);
  if (saved) {
    sessionStorage.removeItem(KEY);
    const [path, y] = JSON.parse(saved);
    if (path === location.pathname) addEventListener("load", () => scrollTo(0, y));
  }
  function banner(error) {
    let box = document.getElementById("d2l-live-error");
    if (!error) { if (box) box.remove(); return; }
    if (!box) {
      box = document.createElement("div");
      box.id = "d2l-live-error";
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;left:0;right:0;bottom:0;z-index:1000;max-height:40vh;overflow:auto;" +
        "margin:0;padding:.8em 1em;background:#8b1a1a;color:#fff;font:14px/1.4 monospace;white-space:pre-wrap";
      document.body.appendChild(box);
    }
    box.textContent = "Son derleme başarısız; gösterilen, son başarılı sürüm.\\n\\n" + error;
  }
  fetch("%(live)s/status").then((r) => r.json()).then((s) => banner(s.error));
  const events = new EventSource("%(live)s/events");
  events.addEventListener("reload", () => {
    sessionStorage.setItem(KEY, JSON.stringify([location.pathname, scrollY]));
    location.reload();
  });
  events.addEventListener("failed", (event) => banner(JSON.parse(event.data)));
})();
""" % {"live": LIVE}


class Server(http.server.ThreadingHTTPServer):
    """An HTTP server for browsers: a page fetches its styles, scripts, fonts and figures over several
    connections at once (six per host in Chromium), more with a second tab, a second reader or the
    preview's event stream. Python's default backlog of 5 connections waiting to be accepted drops the
    rest, which the browser tries again only a second later (then 3 s, 7 s, ... on a loaded machine)."""
    request_queue_size = 128


class State:
    """The last build's outcome, and the pages waiting to hear about the next one."""

    def __init__(self):
        self.error: str | None = None
        self.reload = False     # the last build changed the site (a failing cell fails the build, not the site)
        self.generation = 0
        self.changed = threading.Condition()

    def publish(self, error: str | None, site_changed: bool = False) -> None:
        with self.changed:
            self.error, self.reload = error, site_changed
            self.generation += 1
            self.changed.notify_all()


class PreviewHandler(http.server.SimpleHTTPRequestHandler):
    state: State

    def log_message(self, *args):
        pass

    def do_GET(self):
        self._answer(with_body=True)

    def do_HEAD(self):
        self._answer(with_body=False)   # the same headers as GET, Content-Length included

    def list_directory(self, path):
        self.send_error(404, "Not found")   # a folder without index.html is not a page
        return None

    def _answer(self, with_body: bool) -> None:
        self.with_body = with_body
        path = urllib.parse.urlsplit(self.path).path
        if not path.startswith("/") or "\0" in urllib.parse.unquote(path):
            return self.send_error(400, "Bad request")
        if path == f"{LIVE}/reload.js":
            return self._send(CLIENT.encode(), "text/javascript")
        if path == f"{LIVE}/status":
            return self._send(json.dumps({"error": self.state.error}).encode(), "application/json")
        if path == f"{LIVE}/events":
            return self._events()
        try:
            file = Path(self.translate_path(self.path))
        except ValueError:
            return self.send_error(400, "Bad request")
        if file.is_dir():
            file = file / "index.html"
        if file.suffix == ".html" and file.is_file():
            page = file.read_text(encoding="utf-8").replace(
                "</body>", f'<script src="{LIVE}/reload.js"></script></body>', 1)
            return self._send(page.encode(), "text/html; charset=utf-8")
        if not file.exists() and path in ("/", "/index.html"):
            return self._send(b"<!doctype html><html lang=tr><body><h1>Kitap daha derlenmedi</h1>"
                              + f'<script src="{LIVE}/reload.js"></script></body></html>'.encode(), "text/html")
        if with_body:
            return super().do_GET()
        return super().do_HEAD()

    def _send(self, body: bytes, kind: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.with_body:
            self.wfile.write(body)

    def _events(self) -> None:
        """Server-sent events: `reload` after a good build, `failed` with the error after a bad one."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        seen = self.state.generation
        try:
            while True:
                with self.state.changed:
                    self.state.changed.wait_for(lambda seen=seen: self.state.generation != seen, timeout=15)
                if self.state.generation == seen:
                    self.wfile.write(b": still here\n\n")
                else:
                    seen = self.state.generation
                    failed = self.state.error and not self.state.reload
                    event = ("failed", json.dumps(self.state.error)) if failed else ("reload", "{}")
                    self.wfile.write(f"event: {event[0]}\ndata: {event[1]}\n\n".encode())
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass


class Builder:
    """Runs `python -m bookbuild html` for the book, one build at a time, its output on this terminal."""

    def __init__(self, config: BookConfig, overrides: list[str]):
        self.config, self.overrides = config, overrides
        self.process: subprocess.Popen[str] | None = None   # the build that runs, if one does

    def build(self) -> tuple[str | None, bool]:
        """(the error of a failed build, as the build reported it, or None; whether the site changed)."""
        site = Paths.of(self.config).site("html")
        before = _stamp(site)
        # build.yml is read anew by every build; only what the command line gave overrides it.
        command = [sys.executable, "-m", "bookbuild", "--config", str(self.config.path), *self.overrides, "html"]
        # Its own process group: Ctrl-C here reaches us, and we stop it as `make html` would be stopped.
        self.process = process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True,
                                                  start_new_session=True)
        _, stderr = process.communicate()
        code, self.process = process.returncode, None
        if stderr:
            sys.stderr.write(stderr)
        changed = _stamp(site) != before
        if code == 0:
            return None, changed
        if code == 130:
            return "the build was interrupted", False
        return stderr.split("error: ", 1)[-1].strip() or f"the build failed (exit {code})", changed

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            # The build shuts its kernels down and leaves the site, on SIGTERM as on Ctrl-C. Not SIGINT: a preview
            # started in a shell's background ignores SIGINT, and so does every build it starts.
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def _stamp(site: Path):
    try:
        return site.stat().st_ino, site.stat().st_mtime_ns
    except OSError:
        return None


def watched(config: BookConfig) -> list[Path]:
    """The folders to watch, each for its own entries: the book's and the project's source folders, every one
    below them, found without following links (a link out of the book is not watched, and a link within
    it points at what is watched already); never what builds write, the environments or git."""
    found = []
    for top in sorted({config.root, ROOT}):
        found.append(top)
        for entry in sorted(top.iterdir()):
            if entry.is_symlink() or not entry.is_dir() or entry.name in NOT_SOURCES or entry.name.startswith(".") \
                    or (top == ROOT != config.root and entry.name not in WATCHED_INPUTS):
                continue
            for folder, below, _ in os.walk(entry):   # links are not followed
                below[:] = sorted(b for b in below if b not in NOT_SOURCES and not b.startswith("."))
                found.append(Path(folder))
    return found


def source_filter():
    from watchfiles import DefaultFilter

    class Sources(DefaultFilter):
        """What the site is made from: not what the build writes (compiled catalogs, partial files)."""
        def __call__(self, change, path: str) -> bool:
            return (super().__call__(change, path) and not NOT_SOURCES.intersection(Path(path).parts)
                    and not path.endswith((".mo", ".pyc", "sphinx.js", ".part", ".lock")))
    return Sources(ignore_dirs=tuple(NOT_SOURCES))


def watch(config: BookConfig, changes: queue.Queue, stop: threading.Event, log=logger.info) -> None:
    """Put every burst of changes to the sources on `changes`, from now on. Each source folder is watched for
    its own entries; a folder made later (a new chapter) is watched from when it appears: the watch starts
    again over the folders there are then."""
    from watchfiles import Change
    from watchfiles import watch as watch_files

    def run():
        made: list[Path] = []
        while not stop.is_set():
            folders = watched(config)
            known = set(folders)
            # yield_on_timeout: an empty batch after a quiet second, so that the watch is known to be on
            for batch in watch_files(*folders, watch_filter=source_filter(), stop_event=stop, recursive=False,
                                     debounce=1600, step=300, rust_timeout=1000, yield_on_timeout=True,
                                     raise_interrupt=False):
                if made:
                    log(f"[serve] watching the new folder(s) too: {', '.join(str(p) for p in made)}")
                    made = []
                if not batch:
                    continue
                changes.put(batch)
                made = sorted({Path(p) for change, p in batch if change == Change.added and Path(p) not in known
                               and Path(p).is_dir() and not Path(p).is_symlink()})
                if made:
                    break   # the change itself rebuilds; the watch starts again over every folder
    threading.Thread(target=run, daemon=True, name="watch").start()


def listening(host: str, port: int, handler) -> Server:
    """The server, bound: a port that is in use or is none, or a host that is not this machine, is one message."""
    other_port = "choose another port: `make serve PORT=8123`"
    try:
        return Server((host, port), handler)
    except OverflowError:
        raise UsageError(f"PORT={port} is not a port number", fix="give one from 1 to 65535: `make serve PORT=8123`") \
            from None
    except socket.gaierror as err:
        raise UsageError(f"HOST={host} is not a name or address this machine knows ({err.strerror})",
                         fix="leave HOST out (loopback only), or give one of this machine's addresses "
                             "(`make serve HOST=0.0.0.0`: all of them)") from None
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} is in use on {host} (another `make serve`?)",
                             fix=f"stop what serves there, or {other_port}") from None
        if err.errno == errno.EADDRNOTAVAIL:
            raise UsageError(f"HOST={host} is not an address of this machine", fix="leave HOST out (loopback "
                             "only), or give one of this machine's addresses (`make serve HOST=0.0.0.0`)") from None
        raise UsageError(f"cannot serve on {host}:{port}: {err.strerror or err}", fix=other_port) from None


def serve(config: BookConfig, host: str, port: int, overrides: Sequence[str] = ()) -> None:
    state, builder = State(), Builder(config, list(overrides))
    site = Paths.of(config).site("html")
    handler = functools.partial(type("Handler", (PreviewHandler,), {"state": state}), directory=str(site))
    server = listening(host, port, handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    logger.info(f"Serving the book on http://{shown}:{port}/ (Ctrl-C stops; open it in your browser)")
    stop = threading.Event()
    changes: queue.Queue[set[tuple[Change, str]]] = queue.Queue()   # bursts of saves, as watchfiles gives them
    watch(config, changes, stop)   # before the first build: a save made while it runs is not lost
    try:
        state.publish(*builder.build())
        logger.info(f"\nWatching {len(watched(config))} source folders of {config.root} for changes ...")
        while True:
            try:
                batch = set(changes.get(timeout=0.5))   # a timeout: Ctrl-C is seen at once
            except queue.Empty:
                continue
            while not changes.empty():
                batch |= changes.get_nowait()
            names = sorted({Path(path).name for _, path in batch})
            logger.info(f"\n[serve] changed: {', '.join(names[:5])}{' ...' if len(names) > 5 else ''}; building")
            state.publish(*builder.build())
            outcome = ("done: pages reload" if not state.error else "failed: the pages reload and show it"
                       if state.reload else "failed: the last good site is still served")
            logger.info(f"[serve] {outcome}")
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        builder.stop()
        server.shutdown()
        logger.info("\nstopped")
