"""Books for the tests: throwaway fixture books, what a built site should hold (read from the
merged notebooks the build staged, never typed in), and a local server for the browser.

Fixture books use the project's conf.py and three "frameworks" named like the real ones
(so pages use the real `#@tab` marks) whose kernels run in the first real framework's
environment without importing the framework: cheap to start, and able to print, fail,
sleep, and draw real figures with the framework-free part of d2l (plotting, training).
"""
from __future__ import annotations

import contextlib
import functools
import gzip
import http.server
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))

from filelock import FileLock  # noqa: E402

from bookbuild import config as book_config  # noqa: E402
from bookbuild import environments, pipeline, tab_marks  # noqa: E402
from bookbuild.config import Paths  # noqa: E402
from bookbuild.read import book as read  # noqa: E402
from bookbuild.serve import preview as serve  # noqa: E402

REAL = book_config.load()

FIXTURE_YML = """book:
  title: Deneme Kitabı
  short_name: deneme
  authors: [Birinci Yazar, İkinci Yazar]
  index: index.md
  bibliography: d2l.bib
  published:
    url: https://tr.d2l.ai/
    labels: d2l-tr-labels.tsv
    pages: d2l-tr-pages.tsv
timeout: 60
agreement:
  rtol: 0.05
  atol: 0.01
frameworks:
""" + "".join(f"""  {fw.name}:
    label: {fw.label}
    d2l_module: {fw.d2l_module}
    kernel: fixture-{fw.name}
    environment: {REAL.frameworks[0].environment}
    env:
      FIXTURE_FRAMEWORK: {fw.name}
""" for fw in REAL.frameworks)

INDEX = """# Deneme

```toc
:maxdepth: 2
:numbered:

ch/page
kaynakca
```
"""
REFERENCES = "# Kaynakça\n\n```eval_rst\n.. bibliography::\n```\n"


def made_once(tmp_path_factory, name: str, make) -> Path:
    """A folder `make(folder)` fills once for the whole test run, shared by every worker."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    root = tmp_path_factory.getbasetemp().parent if worker else tmp_path_factory.getbasetemp()
    folder = root / f"shared-{name}"
    with FileLock(str(root / f"shared-{name}.lock")):
        if not (folder / ".made").is_file():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            make(folder)
            (folder / ".made").touch()
    return folder


class Book:
    """A book in a temporary directory, built with the project's conf.py. `real`: the project's
    build.yml and real framework kernels; otherwise the cheap fixture frameworks."""

    def __init__(self, root: Path, pages: dict[str, str] | None = None, real: bool = False):
        self.root = root
        self.paths = Paths(root / "_build")
        if pages is None:   # an existing book (see `copy`)
            return
        (root / "build.yml").write_text((ROOT / "build.yml").read_text() if real else FIXTURE_YML, encoding="utf-8")
        if real:
            shutil.copytree(ROOT / "requirements", root / "requirements")  # build.yml names them
        for data in ("d2l.bib", "d2l-tr-labels.tsv", "d2l-tr-pages.tsv"):
            shutil.copy(ROOT / data, root / data)
        for name, text in pages.items():
            self.write(name, text)

    def copy(self, root: Path) -> Book:
        """The same book, and what its builds made (cache, site), in another folder: a test starts from a
        built book and executes only what it changes."""
        shutil.copytree(self.root, root, symlinks=True, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("lock"))
        return Book(root)

    def write(self, name: str, text: str | bytes) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")

    @property
    def config(self):
        return book_config.load(self.root / "build.yml")

    def build(self, command: str = "html", **options):
        return pipeline.build(self.config, pipeline.Options(command, **options), paths=self.paths)

    def main(self, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
        """`python -m bookbuild --config <book>/build.yml ARGS`, run in this process (no interpreter to
        start, the bibliography already parsed): its exit code, and what it printed."""
        from bookbuild.__main__ import main

        stdout, stderr = io.StringIO(), io.StringIO()
        saved = dict(os.environ)
        os.environ.update(env or {})
        try:
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                code = main(["--config", str(self.root / "build.yml"), *args])
        finally:
            os.environ.clear()
            os.environ.update(saved)
        return subprocess.CompletedProcess(args, code, stdout.getvalue(), stderr.getvalue())

    def cli(self, *args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
        """`python -m bookbuild --config <book>/build.yml ARGS`, as the Makefile runs it (a process of its own:
        for signals, locks and environments)."""
        return subprocess.run([sys.executable, "-m", "bookbuild", "--config", str(self.root / "build.yml"), *args],
                              cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, **(env or {})})

    def html(self, page: str) -> str:
        return (self.paths.site("html") / page).with_suffix(".html").read_text(encoding="utf-8")

    def report(self) -> dict:
        return json.loads(self.paths.report.read_text(encoding="utf-8"))


class Workbench:
    """A built book kept in one folder of this test process, and a snapshot of it: Sphinx keeps what it
    built only for the folder it built it in, so a test given `fresh()`, the snapshot put back in that
    same folder, executes and renders only what it changes. (A process runs its tests one at a time.)"""

    def __init__(self, built: Book, folder: Path):
        self.book = built.copy(folder)
        self.book.build()                                    # rendered once in this folder
        self.snapshot = self.book.copy(folder.with_name(folder.name + "-built"))

    def fresh(self) -> Book:
        shutil.rmtree(self.book.root)
        return self.snapshot.copy(self.book.root)


BOOK_FILES = ["build.yml", "requirements", "d2l", "d2l.bib", "d2l-tr-labels.tsv", "d2l-tr-pages.tsv"]


def copy_book(target: Path) -> None:
    """The project's own book, and what it needs (build.yml, requirements, data, d2l), copied into `target`:
    a copy to build and edit without touching the checkout."""
    config = book_config.load()
    for name in BOOK_FILES:
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, target / name)
    source = read.read_book(config)
    for page in source.pages:   # each page, and what sits beside it (its interactive figures' files)
        folder = ROOT / page.path.parent
        for file in (f for f in folder.iterdir() if f.is_file() and (f.suffix != ".md" or f.name == page.path.name)):
            (target / page.path.parent).mkdir(parents=True, exist_ok=True)
            shutil.copy(file, target / page.path.parent / file.name)
    for page in source.pages:   # images the pages show, wherever they are
        for mention in (m for m in page.mentions if m.role == "image" and "://" not in m.target):
            image = read.image_path(page, mention.target)
            (target / image).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / image, target / image)


# --- a book of several sections, for the site, browser and PDF tests ------------------------

# One line, wider than a phone's screen.
WIDE_EQUATION = (r"$$\mathbf{z}_t = \mathbf{z}_{t-1} - \eta \left(\beta \mathbf{v}_{t-1} + \boldsymbol{\Lambda} "
                 r"\mathbf{z}_{t-1}\right) = (\mathbf{I} - \eta \boldsymbol{\Lambda}) \mathbf{z}_{t-1} - "
                 r"\eta \beta \mathbf{v}_{t-1} + \mathbf{c}_{t-1} + \mathbf{d}_{t-1}.$$")


def _section(number: int, title: str, label: str, other: str) -> str:
    """A section with every kind of thing a page holds: tab groups with printed numbers and SVG
    figures, numbered equations (one labelled, one wide), references, a citation, tab prose."""
    return f"""# {title}
:label:`{label}`

Bu bölüm {number}. bölümdür; bkz. :numref:`{other}`, :numref:`sec_sgd` ve :eqref:`eq_{label}`.
Momentum :cite:`Polyak.1964` ile başlar.

$$f(x) = {number} x^2 + \\frac{{1}}{{2}} \\sum_{{i=1}}^n x_i.$$
:eqlabel:`eq_{label}`

Ara metin, sonra geniş bir denklem:

{WIDE_EQUATION}

## Hesap

```{{.python .input}}
#@tab all
import os
from IPython.display import SVG, display
fw = os.environ["FIXTURE_FRAMEWORK"]
print(f"loss: {{0.25 + {number} / 1000:.3f}}, {{len(fw) / 10:.3f}} sec/epoch")
# A figure shaped as matplotlib writes one: axes, tick and axis labels, a legend (texts as comments).
display(SVG('<svg xmlns="http://www.w3.org/2000/svg" width="120pt" height="60pt" viewBox="0 0 120 60">'
            '<g id="axes_1"><rect width="120" height="60" fill="none" stroke="black"/>'
            '<g id="matplotlib.axis_1"><g id="xtick_1"><g id="text_1"><!-- 0 --></g></g>'
            '<g id="xtick_2"><g id="text_2"><!-- {number}0 --></g></g><g id="text_3"><!-- epoch --></g></g>'
            '<g id="matplotlib.axis_2"><g id="ytick_1"><g id="text_4"><!-- 0.2 --></g></g>'
            '<g id="ytick_2"><g id="text_5"><!-- 0.3 --></g></g><g id="text_6"><!-- loss --></g></g>'
            '<path d="M0 60 L60 {10 * number} L120 0" stroke="steelblue" fill="none"/>'
            '<g id="legend_1"><g id="text_7"><!-- eğitim kaybı --></g></g></g></svg>'))
```

## Kodun kendisi

{PARAGRAPHS}

```{{.python .input}}
values = [{number}, 2, 3]   # mxnet
print("toplam", sum(values))
```

```{{.python .input}}
#@tab pytorch
values = [{number}, 2, 3]   # pytorch
print("toplam", sum(values))
```

```{{.python .input}}
#@tab tensorflow
values = [{number}, 2, 3]   # tensorflow, with a long line that scrolls sideways on a phone: {"x" * 60}
print("toplam", sum(values))
```

:begin_tab:`mxnet`
[Tartışmalar](https://discuss.d2l.ai/t/{number})
:end_tab:

:begin_tab:`pytorch`
[Tartışmalar](https://discuss.d2l.ai/t/{number + 100})
:end_tab:

:begin_tab:`tensorflow`
[Tartışmalar](https://discuss.d2l.ai/t/{number + 200})
:end_tab:
"""


# Enough prose for a page that scrolls, as a real section does.
PARAGRAPHS = "\n\n".join(["Gradyan inişi, amaç fonksiyonunun gradyanının tersi yönünde küçük adımlar atar. "
                           "Adım boyu öğrenme oranıdır; çok büyük seçilirse yöntem ıraksar, çok küçük seçilirse "
                           "yakınsama yavaşlar. Momentum, geçmiş gradyanların sızdıran ortalamasını kullanır."] * 8)

MULTI = {
    "index.md": "# Deneme Kitabı\n\nÇok bölümlü bir deneme kitabı.\n\n```toc\n:maxdepth: 2\n:numbered:\n\n"
                "bolum/index\nkaynakca\n```\n",
    "bolum/index.md": "# Bir Bölüm\n:label:`chap_deneme`\n\nBölümün girişi, üç kısımdan oluşur.\n\n"
                      "```toc\n:maxdepth: 2\n\nbirinci\nikinci\nucuncu\n```\n",
    "bolum/birinci.md": _section(1, "Birinci Kısım", "sec_birinci", "sec_ikinci"),
    "bolum/ikinci.md": _section(2, "İkinci Kısım", "sec_ikinci", "sec_ucuncu"),
    "bolum/ucuncu.md": _section(3, "Üçüncü Kısım", "sec_ucuncu", "sec_birinci"),
    "kaynakca.md": REFERENCES,
}


# --- what a built site should hold, read from the merged notebooks ------------------------

def merged_pages(staging: Path) -> dict[str, dict]:
    """{page (docname): merged notebook as JSON} of every staged page."""
    return {p.relative_to(staging).with_suffix("").as_posix(): json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(staging.rglob("*.ipynb")) if not p.relative_to(staging).parts[0].startswith("_")}


def tab_groups(nb: dict) -> int:
    """How many sets of tabs the page shows: the groups the merge stage marked."""
    groups = {tab_marks.cell_mark(c.get("metadata"))[1] for c in nb["cells"] if tab_marks.cell_mark(c.get("metadata"))}
    groups |= {int(g) for c in nb["cells"] if c["cell_type"] == "markdown"
               for g in re.findall(rf"{{{tab_marks.TAB_PROSE}}} \w+\n:group: (\d+)", "".join(c["source"]))}
    return len(groups)


def cells_of(nb: dict, framework: str) -> list[dict]:
    """The code cells shown in `framework`'s tabs (its own, and the ones shown once for all)."""
    return [c for c in nb["cells"] if c["cell_type"] == "code"
            and (tab_marks.cell_mark(c.get("metadata")) or (framework, 0))[0] == framework]


def figures(nb: dict, framework: str) -> int:
    return sum(1 for c in cells_of(nb, framework) for o in c.get("outputs", [])
               if any(k.startswith("image/") for k in o.get("data", {})))


def printed(nb: dict, framework: str) -> list[str]:
    """Every line the framework's cells printed."""
    return [line for c in cells_of(nb, framework) for o in c.get("outputs", []) if o.get("name") == "stdout"
            for line in "".join(o["text"]).splitlines() if line.strip()]


def display_equations(nb: dict) -> int:
    """Display equations of the page: each is one `$$ ... $$` of its prose."""
    return sum("".join(c["source"]).count("$$") // 2 for c in nb["cells"] if c["cell_type"] == "markdown")


class StaticHost(http.server.SimpleHTTPRequestHandler):
    """A static host as readers meet one: text (HTML, CSS, JS, SVG, JSON) sent gzip-compressed to
    a browser that accepts it, as GitHub Pages or any web server does; a missing address gets the
    site's 404.html, with status 404, as GitHub Pages does; connections kept open for the page's
    next requests (HTTP/1.1), as every host does (http.server's default is HTTP/1.0: a connection per
    request, which Lighthouse's network model then charges each stylesheet a new connection for); quiet."""

    protocol_version = "HTTP/1.1"
    COMPRESSED = (".html", ".css", ".js", ".svg", ".json", ".ipynb", ".txt")

    def do_GET(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        missing = Path(self.directory) / "404.html"
        if not path.exists() and missing.is_file():
            body = missing.read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if "gzip" not in self.headers.get("Accept-Encoding", "") or not path.is_file() or \
                path.suffix not in self.COMPRESSED:
            return super().do_GET()
        body = gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def script_files(page: Path) -> list[str]:
    """The script files a written page runs, in their order (paths from the page's folder): each bundle of
    bookbuild/render/bundles.py by the files its first line names (paths in the site)."""
    site_root = next(p for p in [page.parent, *page.parents] if (p / "_static").is_dir())
    files = []
    for src in re.findall(r"<script\b[^>]*\bsrc=\"([^\"?]+)", page.read_text(encoding="utf-8")):
        file = (page.parent / src).resolve()
        if file.parent.name == "bundles":
            first = file.read_text(encoding="utf-8").splitlines()[0]
            files += [os.path.relpath(site_root / name, page.parent) for name in first.strip("/* ").split()]
        else:
            files.append(src)
    return files


def kernels_of(book) -> list[int]:
    """The kernels running for this book's builds: processes of the build kernels' program (kernel_start.py: the
    kernelspecs under .envs, shared by checkouts, may name another checkout's) whose environment names the book
    (D2L_TEST_BOOK, which the tests give a build, and so its kernels): the other tests' kernels do not count."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if Path(environments.KERNEL_LAUNCH).name.encode() in (entry / "cmdline").read_bytes() and \
                        str(book.root).encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def served(folder: Path, port: int = 0):
    """The folder on http://127.0.0.1:<port, or a free one>, as a static host serves it."""
    httpd = serve.Server(("127.0.0.1", port), functools.partial(StaticHost, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()      # shutdown() only stops serving: the listening socket stays open without this


# --- a reader's browser: Debian's Chromium through Playwright ---------------------------------

# Debian's headless shell of Chromium: the same Blink as `chromium`, without the desktop browser around it,
# as Playwright itself runs headless tests; a page opens in about half the CPU. (`make audit` measures with
# the full `chromium`.)
CHROMIUM = shutil.which("chromium-headless-shell") or "/usr/bin/chromium-headless-shell"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
         "--disable-component-update", "--disable-sync"]
VIEWS = {"desktop": {"viewport": {"width": 1366, "height": 900}},
         "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
                   "device_scale_factor": 2}}
AXE = environments.node_modules("audit") / "axe-core" / "axe.min.js"


def launch_browser(playwright):
    """Debian's Chromium, headless, with nothing reaching out to the network."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)


class Requests:
    """The requests a page has open (but an event stream's, which stays open by design). `settle` waits
    for the page's load and for every request to end: as soon as they have, not after half a second of
    quiet as Playwright's "networkidle" does, and naming the requests that never end."""

    def __init__(self, page):
        self.page = page
        self.open: dict = {}            # request -> its URL
        page.on("request", self._opened)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)

    def _opened(self, request) -> None:
        if request.resource_type != "eventsource":
            self.open[request] = request.url

    def _ended(self, request) -> None:
        self.open.pop(request, None)

    def settle(self, timeout: float = 30):
        self.page.wait_for_load_state("load")
        deadline = time.monotonic() + timeout
        while self.open:
            if time.monotonic() > deadline:
                raise TimeoutError(f"requests still open after {timeout} s: {sorted(self.open.values())}")
            self.page.wait_for_timeout(20)     # the events that end them arrive while Playwright waits


def settled(page):
    """The page, loaded and with no request open (see Requests). A reader's pages are tracked from their
    start; another page from this first call, after its load."""
    if not hasattr(page, "d2l_requests"):
        page.d2l_requests = Requests(page)
    page.d2l_requests.settle()
    return page


class Reader:
    """One browser context (a reader's device and colour scheme), collecting script errors."""

    def __init__(self, browser, view: str, scheme: str = "light", motion: str = "no-preference"):
        self.context = browser.new_context(**VIEWS[view], color_scheme=scheme, reduced_motion=motion)
        self.context.on("page", lambda page: setattr(page, "d2l_requests", Requests(page)))
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("response", lambda response: response.status >= 400 and self.errors.append(
            f"{response.status} {response.url}"))

    def open(self, url: str):
        self.page.goto(url)
        return settled(self.page)

    def axe(self) -> list:
        if not AXE.is_file():
            raise FileNotFoundError(f"{AXE} is missing: `make test` installs axe-core (tests/audit)")
        self.page.add_script_tag(path=str(AXE))
        return self.page.evaluate("async () => (await axe.run()).violations"
                                  ".map(v => [v.id, v.nodes.map(n => n.target.join(' '))])")

    def forget(self) -> None:
        """Make this a reader who has never visited anything, as a new context would be (storage, open
        tabs, print emulation, the pointer, what was collected), yet keep its tab and so its renderer
        and cache warm: a page opens again in about half the CPU."""
        for other in self.context.pages:
            if other is not self.page:
                other.close()
        self.page.goto("about:blank")
        self.page.emulate_media(media="null")
        self.page.mouse.move(0, 0)
        devtools = self.context.new_cdp_session(self.page)
        try:
            for origin in {found[0] for url in self.requests if (found := re.findall(r"^https?://[^/]+", url))}:
                # "all": local and session storage, cookies and the rest
                devtools.send("Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "all"})
        finally:
            devtools.detach()
        self.errors.clear()
        self.requests.clear()

    def close(self):
        self.context.close()


def scroll_through(page) -> None:
    """Scroll the page from top to end a screen at a time, so that its lazy figures load, and wait until
    every figure shown has (the hidden tabs' figures are never fetched: they are lazy and out of sight)."""
    page.evaluate("""async () => {
      for (let y = 0; y < document.body.scrollHeight; y += innerHeight) {
        scrollTo({top: y, behavior: "instant"});   // at once: a smooth scroll would not have moved yet
        await new Promise((shown) => requestAnimationFrame(() => requestAnimationFrame(shown)));
      }
    }""")
    page.wait_for_function("[...document.images].filter((image) => image.checkVisibility())"
                           ".every((image) => image.complete)")


def follow_contents_link(page, target: str) -> float:
    """From the top of the page, the link to `target` in "Bu sayfada" followed as a reader clicks it: where
    the page's scroll to it ended, as the target's distance from the top of the screen."""
    return page.evaluate("""(id) => new Promise((landed) => {
      const follow = () => {
        addEventListener('scrollend', () => landed(document.getElementById(id).getBoundingClientRect().top),
                         {once: true});
        document.querySelector(`.toc-tree a[href="#${id}"]`).click();
      };
      if (scrollY === 0) return follow();
      addEventListener('scrollend', follow, {once: true});
      scrollTo({top: 0, behavior: 'instant'});
    })""", target)


def read_in_one_framework(page) -> int:
    """Bytes the page has loaded as served (gzip-compressed where the host compresses: bodies as
    sent, headers left out) once read to its end in the framework it shows, scrolled through so
    that every lazy figure of that framework is fetched."""
    scroll_through(page)
    settled(page)
    return page.evaluate("performance.getEntriesByType('navigation')[0].encodedBodySize + "
                         "performance.getEntriesByType('resource').reduce((s, r) => s + r.encodedBodySize, 0)")


def read_through(page) -> int:
    """Bytes (uncompressed) the page has loaded once read to its end in every framework: each one
    chosen in turn and the page scrolled through, so every lazy figure it shows is fetched."""
    for choice in page.eval_on_selector_all("[data-d2l-choose]", "b => b.map(x => x.dataset.d2lChoose)"):
        page.evaluate(f"document.querySelector(\"[data-d2l-choose='{choice}']\").click()")
        scroll_through(page)
    settled(page)
    return page.evaluate("performance.getEntriesByType('navigation')[0].decodedBodySize + "
                         "performance.getEntriesByType('resource').reduce((s, r) => s + r.decodedBodySize, 0)")
