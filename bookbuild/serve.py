"""`make serve`: a live preview for translators and maintainers.

It builds the site, serves `_build/html` on localhost (loopback unless told otherwise)
and watches the book's sources, build.yml, the bibliography, the d2l library and the
site's configuration (watchfiles: a burst of saves is one change). Every change runs the
real build (`python -m bookbuild html`, as `make html` does: only what changed executes),
its progress in this terminal. The open pages reload themselves, keeping their scroll
position (the reader's framework is kept anyway). A failed build keeps the last good
site served and shows its error (file:line, framework, cell) on every page as a banner,
until a build succeeds. Ctrl-C stops the build that runs (its kernels shut down) and the
server, without a traceback.

The preview's script is added to pages as they are served: the built site is not touched.
"""
from __future__ import annotations

import functools
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from bookbuild.config import ROOT, BookConfig, Paths

LIVE = "/__d2l_live__"
# What the site is made from, besides the book's own folder (pages, images, build.yml, bibliography).
WATCHED = ("d2l", "conf.py", "static", "templates", "locale", "bookbuild")
IGNORED_DIRS = {"_build", ".envs", ".git", "__pycache__", "node_modules", ".pytest_cache"}

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


class State:
    """The last build's outcome, and the pages waiting to hear about the next one."""

    def __init__(self):
        self.error: str | None = None
        self.generation = 0
        self.changed = threading.Condition()

    def publish(self, error: str | None) -> None:
        with self.changed:
            self.error = error
            self.generation += 1
            self.changed.notify_all()


class PreviewHandler(http.server.SimpleHTTPRequestHandler):
    state: State

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == f"{LIVE}/reload.js":
            return self._send(CLIENT.encode(), "text/javascript")
        if path == f"{LIVE}/status":
            return self._send(json.dumps({"error": self.state.error}).encode(), "application/json")
        if path == f"{LIVE}/events":
            return self._events()
        file = Path(self.translate_path(self.path))
        if file.is_dir():
            file = file / "index.html"
        if file.suffix == ".html" and file.is_file():
            page = file.read_text(encoding="utf-8").replace(
                "</body>", f'<script src="{LIVE}/reload.js"></script></body>', 1)
            return self._send(page.encode(), "text/html; charset=utf-8")
        if not file.exists() and path in ("/", "/index.html"):
            return self._send(b"<!doctype html><html lang=tr><body><h1>Kitap daha derlenmedi</h1>"
                              + f'<script src="{LIVE}/reload.js"></script></body></html>'.encode(), "text/html")
        return super().do_GET()

    def _send(self, body: bytes, kind: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
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
                    event = ("failed", json.dumps(self.state.error)) if self.state.error else ("reload", "{}")
                    self.wfile.write(f"event: {event[0]}\ndata: {event[1]}\n\n".encode())
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass


class Builder:
    """Runs `python -m bookbuild html` for the book, one build at a time, its output on this terminal."""

    def __init__(self, config: BookConfig):
        self.config, self.process = config, None

    def build(self) -> str | None:
        """The error of a failed build (as the build reported it), or None."""
        command = [sys.executable, "-m", "bookbuild", "--config", str(self.config.path),
                   "--timeout", str(self.config.timeout), "--jobs", str(self.config.jobs), "html"]
        # Its own process group: Ctrl-C here reaches us, and we stop it as `make html` would be stopped.
        self.process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True,
                                        start_new_session=True)
        _, stderr = self.process.communicate()
        code, self.process = self.process.returncode, None
        if stderr:
            sys.stderr.write(stderr)
        if code == 0:
            return None
        if code == 130:
            return "the build was interrupted"
        return stderr.split("error: ", 1)[-1].strip() or f"the build failed (exit {code})"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)   # the build shuts its kernels down, leaves the site
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def watched_paths(config: BookConfig) -> list[Path]:
    return [config.root, *(ROOT / name for name in WATCHED if (ROOT / name).exists() and ROOT != config.root)]


def source_filter():
    from watchfiles import DefaultFilter

    class Sources(DefaultFilter):
        """What the site is made from: not what the build writes (_build, .envs, compiled catalogs)."""
        def __call__(self, change, path: str) -> bool:
            parts = Path(path).parts
            return (super().__call__(change, path) and not IGNORED_DIRS.intersection(parts)
                    and not path.endswith((".mo", ".pyc", "sphinx.js", ".part", ".lock")))
    return Sources(ignore_dirs=tuple(IGNORED_DIRS))


def serve(config: BookConfig, host: str, port: int) -> None:
    from watchfiles import watch

    state, builder = State(), Builder(config)
    site = Paths.under(config.root).site("html")
    handler = functools.partial(type("Handler", (PreviewHandler,), {"state": state}), directory=str(site))
    server = http.server.ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    print(f"Serving the book on http://{shown}:{port}/ (Ctrl-C stops; open it in your browser)", flush=True)
    stop = threading.Event()
    try:
        state.publish(builder.build())
        print(f"\nWatching {', '.join(str(p) for p in watched_paths(config))} for changes ...", flush=True)
        for changes in watch(*watched_paths(config), watch_filter=source_filter(), stop_event=stop,
                             debounce=1600, step=300, raise_interrupt=True):
            names = sorted({Path(path).name for _, path in changes})
            print(f"\n[serve] changed: {', '.join(names[:5])}{' ...' if len(names) > 5 else ''}; building", flush=True)
            state.publish(builder.build())
            print(f"[serve] {'failed: the last good site is still served' if state.error else 'done: pages reload'}",
                  flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        builder.stop()
        server.shutdown()
        print("\nstopped", flush=True)
