"""build.yml, read and checked once; every setting of the build is declared here.

Nothing else opens build.yml: stages, tests, the Makefile (`python -m bookbuild
frameworks`) and the CI workflow (`python -m bookbuild matrix`, or
`bookbuild/config.py` run on a bare Python) take a `BookConfig` or ask the command
line. A setting has one declaration: a dataclass field with its default and what
it means. The reader knows every key from those fields, so a key it does not know
is an error at its line with the closest known key ("did you mean `kernel_env`?"),
and every value has a strict type. The command line may override `timeout` and
`jobs` for one build (`make html TIMEOUT=... JOBS=...`).

Settings that are not the book's but the project's (where things go, what a render
reads, the preview's port, the reader's-view targets) are declared at the end.

This module imports nothing outside the standard library at import time (and
PyYAML only when it reads), so `make env` and the CI matrix job can use it on a
bare Python.
"""
from __future__ import annotations

import dataclasses
import difflib
import os
import re
import types
import typing
from pathlib import Path

from bookbuild.errors import ConfigError, UsageError

ROOT = Path(__file__).resolve().parent.parent   # the project: conf.py, d2l/, static/, requirements/
BUILD_YML = ROOT / "build.yml"


def setting(default=dataclasses.MISSING, doc: str = "", **kind):
    """A field of build.yml: its default (none: required) and what it means."""
    if isinstance(default, (list, dict, tuple)):
        return dataclasses.field(default_factory=lambda: default, metadata={"doc": doc, **kind})
    return dataclasses.field(default=default, metadata={"doc": doc, **kind})


@dataclasses.dataclass(frozen=True)
class Published:
    url: str = setting("", "the published edition, where labels outside this build link to")
    labels: Path | None = setting(None, "its table of labels: label, kind, page, title, number", file=True)
    pages: Path | None = setting(None, "its table of pages: page, title, number (every page, labelled or not)",
                                 file=True)


@dataclasses.dataclass(frozen=True)
class Book:
    title: str = setting(doc="the book's title")
    short_name: str = setting(doc="file names of what the build makes: <short_name>-<framework>.pdf")
    index: Path = setting(doc="the front page; the build follows its `toc` blocks", file=True)
    authors: tuple[str, ...] = setting((), "its authors, in order")
    copyright: str = setting("", "the copyright line")
    bibliography: Path | None = setting(None, "BibTeX file of every :cite: key", file=True)
    published: Published = setting(Published(), "the published edition")

    published_url = property(lambda self: self.published.url)
    published_labels = property(lambda self: self.published.labels)
    published_pages = property(lambda self: self.published.pages)


@dataclasses.dataclass(frozen=True)
class Agreement:
    rtol: float = setting(0.05, "numbers of two tabs may differ by this fraction ...")
    atol: float = setting(0.01, "... or by this much")
    # A number followed by one of these (or after one of them on its line, as in
    # "performance in Gigaflops: 1.2, 3.4") measures the machine, not the code.
    timing_units: tuple[str, ...] = setting(
        ("sec/epoch", "sec", "s", "ms", "us", "µs", "seconds", "sn", "saniye", "examples/sec", "tokens/sec",
         "samples/sec", "images/sec", "it/s", "Gigaflops", "GFLOPS", "GFlops", "TFLOPS", "MFLOPS"),
        "units of timings and throughput: never compared")
    # Where another seed moves an output (a curve, a group's printed numbers), tabs may lie apart by
    # this many times what it moves (both as root mean squares over the output's values) ...
    spread_factor: float = setting(3.0, "tabs may lie this many times what another seed moves an output apart")
    # ... and an output that the seed moves by this fraction of its size is noise: not comparable.
    noise: float = setting(0.1, "an output another seed moves by this fraction of its size is not comparable")
    # Whatever the seed: a tab whose values are this many times larger than another's (root mean squares)
    # disagrees, as does a value that is not finite (nan, inf) where another tab's is.
    magnitude: float = setting(100.0, "values this many times larger in one tab than in another disagree")
    strict: bool = setting(False, "a disagreement fails the build (`make check` is always strict)")


@dataclasses.dataclass(frozen=True)
class Limits:
    output_bytes: int = setting(1_000_000, "text a cell may print before it is cut (on the page and in "
                                           "the notebook)")
    images: int = setting(20, "figures a cell may show before the rest are dropped")
    image_bytes: int = setting(2_000_000, "bytes one figure may take before it is dropped")


@dataclasses.dataclass(frozen=True)
class Warnings:
    # The kinds are declared with what they mean in bookbuild/log.py (KINDS).
    silence: tuple[str, ...] = setting((), "kinds of warning not shown", choices="warning kinds")
    fatal: tuple[str, ...] = setting((), "kinds of warning that fail the build, as Sphinx's -W does",
                                     choices="warning kinds")


@dataclasses.dataclass(frozen=True)
class Launch:
    repository: str = setting(doc="GitHub `owner/name` where CI publishes the executed notebooks")
    branch: str = setting("notebooks", "the branch of that repository")


@dataclasses.dataclass(frozen=True)
class Framework:
    name: str                   # the tab's key, as written after `#@tab` (the key in build.yml)
    label: str = setting(doc="what readers see on the tab")
    d2l_module: str = setting(doc="`from d2l import <d2l_module> as d2l`")
    kernel: str = setting(doc="Jupyter kernel name registered for it")
    requirements: Path | None = setting(None, "pinned requirements of its environment", file=True)
    env: dict[str, str] = setting({}, "extra variables of its kernel")
    seed: str = setting("", "the function that seeds the framework's own random numbers, e.g. "
                            "torch.manual_seed: every kernel calls it with D2L_SEED as it imports the framework")
    environment: str = setting("", "the environment (.envs/<environment>) its kernel runs in "
                                   "(default: its own name)")


@dataclasses.dataclass(frozen=True)
class BookConfig:
    root: Path                          # the book: build.yml's folder
    path: Path                          # build.yml itself
    # dataclasses.field itself (no default, as setting(doc=...) gives): mypy then sees the field is required.
    book: Book = dataclasses.field(metadata={"doc": "the book: title, files, bibliography, published edition"})
    frameworks: tuple[Framework, ...]   # in tab order; the first is d2lbook's default tab
    kernel_env: dict[str, str] = setting({}, "variables set in every framework's kernel")
    agreement: Agreement = setting(Agreement(), "how the tabs of a group are compared")
    limits: Limits = setting(Limits(), "what one cell may output")
    launch: Launch | None = setting(None, "where readers open a page's notebook elsewhere (Colab)")
    warnings: Warnings = setting(Warnings(), "which kinds of warning are hidden, which fail the build")
    timeout: int = setting(600, "seconds a cell may run", positive=True)
    jobs: int = os.cpu_count() or 1     # kernels running at once (command line only)
    # The site's path on its host (command line only): the 404 page, served for any missing address,
    # finds the site's styles and pages from there. "/" for a host of its own; GitHub Pages of a
    # project: "/<repository>/" (CI passes it).
    base_path: str = "/"
    # Which notebooks run (command line only; a d2lbook book's `eval_notebook = False` means "none"): one of
    # EXECUTE, which the execute stage maps to its strategy.
    execute: str = "all"
    out: Path | None = None             # where the build writes (default: <root>/_build; see `Paths.of`)
    notices: tuple[str, ...] = ()       # what reading the configuration has to say (warnings of kind config)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(fw.name for fw in self.frameworks)

    @property
    def default_tab(self) -> str:
        return self.frameworks[0].name

    def framework(self, name: str) -> Framework:
        for fw in self.frameworks:
            if fw.name == name:
                return fw
        raise ConfigError(f"unknown framework {name!r}; build.yml declares {', '.join(self.names)}",
                          path=self.path)

    def with_options(self, *, timeout: int | None = None, jobs: int | None = None,
                     strict: bool | None = None, base_path: str | None = None,
                     execute: str | None = None) -> BookConfig:
        """The same book with the command line's overrides for one build."""
        changes: dict[str, typing.Any] = {}   # fields of several types; replace() takes them by name
        if execute is not None:
            if execute not in EXECUTE:
                raise ConfigError(f"--execute must be one of {', '.join(EXECUTE)}, not {execute!r}")
            changes["execute"] = execute
        if base_path:
            changes["base_path"] = "/" + base_path.strip("/") + "/" if base_path.strip("/") else "/"
        for name, value in (("timeout", timeout), ("jobs", jobs)):
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise UsageError(f"--{name} must be a whole number of at least 1, not {value!r}",
                                     fix=f"give a whole number of at least 1: `make html {name.upper()}=2`, "
                                         f"or --{name} 2")
                changes[name] = value
        if strict is not None:
            changes["agreement"] = dataclasses.replace(self.agreement, strict=strict)
        return dataclasses.replace(self, **changes)


# `--execute` / `make html EXECUTE=...`: which notebooks a build runs (execute/notebooks.py, STRATEGIES).
EXECUTE = {
    "all": "run every notebook the execution cache does not hold",
    "none": "run nothing: pages show their code, with the outputs the cache already holds (marked as "
            "such) and none where it holds none; no kernel starts and no framework environment is needed",
}


# --- reading ------------------------------------------------------------------------------

class _Reader:
    """Turns build.yml's mappings into the dataclasses above; errors name the key and its line."""

    def __init__(self, path: Path, tree, root: Path):
        self.path, self.tree = path, tree   # tree: yaml's node graph, which knows every key's line
        self.root = root                    # the book's folder, where `file` settings are found

    def line_of(self, key: str) -> int | None:
        """The line of a dotted key path (`frameworks.pytorch.label`), or of its nearest parent."""
        node, line = self.tree, None
        for part in key.split("."):
            if not isinstance(getattr(node, "value", None), list):
                break
            for key_node, value_node in (item for item in node.value if isinstance(item, tuple)):
                if str(key_node.value) == part:
                    node, line = value_node, key_node.start_mark.line + 1
                    break
            else:
                break
        return line

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{key}: {message}", path=self.path, line=self.line_of(key))

    def mapping(self, value, key: str) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(key, f"must be a mapping (`name: value` lines), not {_shown(value)}")
        return value

    def fill(self, cls, raw, key: str, **given):
        """An instance of dataclass `cls` from mapping `raw` at `key`: every key known, every value typed."""
        raw = self.mapping(raw, key)
        fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in given and f.init and f.metadata}
        for name in raw:
            if name not in fields:
                known = sorted(fields)
                close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
                hint = f"did you mean `{close[0]}`?" if close else f"known keys: {', '.join(known)}"
                raise self.error(f"{key}.{name}" if key else str(name), f"unknown key; {hint}")
        values = dict(given)
        for name, field in fields.items():
            where = f"{key}.{name}" if key else name
            if name not in raw or raw[name] is None:
                if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                    raise self.error(where, "is missing")
                continue
            values[name] = self.value(field, raw[name], where)
        return cls(**values)

    def value(self, field, value, where: str):
        kind = typing.get_type_hints(_owner(field))[field.name]
        optional = typing.get_args(kind) if isinstance(kind, types.UnionType) else ()
        kind = next((k for k in optional if k is not type(None)), kind)
        if dataclasses.is_dataclass(kind):
            return self.fill(kind, value, where)
        if field.metadata.get("file"):
            path = self.root / str(value)
            if not path.is_file():
                raise self.error(where, f"{path} does not exist")
            if not path.resolve().is_relative_to(self.root.resolve()):
                raise self.error(where, f"{value} is outside the book's folder {self.root}")
            return path
        if kind is bool:
            if not isinstance(value, bool):
                raise self.error(where, f"must be true or false, not {_shown(value)}")
            return value
        if kind is int:
            if isinstance(value, bool) or not isinstance(value, int) or (field.metadata.get("positive")
                                                                          and value < 1):
                least = "a whole number of at least 1" if field.metadata.get("positive") else "a whole number"
                raise self.error(where, f"must be {least}, not {_shown(value)}")
            return value
        if kind is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise self.error(where, f"must be a number of at least 0, not {_shown(value)}")
            return float(value)
        if kind is str:
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise self.error(where, f"must be text, not {_shown(value)}")
            return str(value)
        if typing.get_origin(kind) is tuple:
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list) or not all(isinstance(i, (str, int, float)) for i in items):
                raise self.error(where, f"must be a list of texts, not {_shown(value)}")
            if field.metadata.get("choices") == "warning kinds":
                from bookbuild.log import KINDS
                if unknown := [str(i) for i in items if str(i) not in KINDS]:
                    raise self.error(where, f"unknown kind {unknown[0]!r}; the kinds: {', '.join(KINDS)}")
            return tuple(map(str, items))
        if typing.get_origin(kind) is dict:
            entries = self.mapping(value, where)
            bad = [k for k, v in entries.items() if not isinstance(v, (str, int, float)) or isinstance(v, bool)]
            if bad:
                raise self.error(f"{where}.{bad[0]}", f"must be text (quote it), not {_shown(entries[bad[0]])}")
            return {str(k): str(v) for k, v in entries.items()}
        raise TypeError(f"build.yml reader: no rule for {kind}")   # a bug in this module


def _owner(field):
    return next(cls for cls in (Published, Book, Agreement, Limits, Warnings, Launch, Framework, BookConfig)
                if field in dataclasses.fields(cls))


def _shown(value) -> str:
    return f"{type(value).__name__} {value!r}"


def load(path: Path = BUILD_YML) -> BookConfig:
    """Read build.yml (or another file of the same form, e.g. a test's); given a folder, its build.yml, or
    else its d2lbook `config.ini` (`load_d2lbook`)."""
    import yaml

    path = Path(path).resolve()
    if path.is_dir():
        if not (path / "build.yml").is_file() and (path / D2LBOOK_CONFIG).is_file():
            return load_d2lbook(path / D2LBOOK_CONFIG)
        path = path / "build.yml"
    if path.name == D2LBOOK_CONFIG:
        return load_d2lbook(path)
    root = path.parent
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read it: {err}", path=path) from None
    try:
        raw, tree = yaml.safe_load(text), yaml.compose(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise ConfigError(f"not valid YAML: {getattr(err, 'problem', err)}", path=path,
                          line=mark.line + 1 if mark else None) from None
    read = _Reader(path, tree, root)
    raw = read.mapping(raw, "build.yml")
    entries = read.mapping(raw.get("frameworks"), "frameworks")
    if not entries:
        raise read.error("frameworks", "must name at least one framework")
    frameworks = []
    for name, entry in entries.items():
        key = f"frameworks.{name}"
        if name == "all" or not str(name).isidentifier():
            raise read.error(key, "a framework name must be an identifier other than 'all'")
        fw = read.fill(Framework, entry, key, name=str(name))
        if not fw.environment:
            if fw.requirements is None:
                raise read.error(f"{key}.requirements", "is missing (or name a shared `environment:`)")
            fw = dataclasses.replace(fw, environment=fw.name)
        frameworks.append(fw)
    config = read.fill(BookConfig, {k: v for k, v in raw.items() if k != "frameworks"}, "",
                       root=root, path=path, frameworks=tuple(frameworks))
    # Pages are named relative to the book's folder, the front page too.
    return dataclasses.replace(config, book=dataclasses.replace(config.book, index=config.book.index.relative_to(root)))


# --- a d2lbook book, as it is: its config.ini --------------------------------------------------

D2LBOOK_CONFIG = "config.ini"
BOOKS_OUT = ROOT / "_build" / "books"   # where d2lbook books are built: _build/books/<the book's folder name>/
# The keys of d2lbook's config.ini this build reads; the rest are named once, in one warning.
D2LBOOK_KEYS = {
    "project": {"name", "title", "author", "copyright", "lang"},
    "build": {"index", "tabs", "eval_notebook",
              # d2lbook's list of the pages to evaluate, and of what to copy: the build follows the tocs,
              # and reads images and the bibliography where the pages name them.
              "notebooks", "exclusions", "resources"},
    "pdf": {"bibfile"},
}


def load_d2lbook(path: Path, project: Path = BUILD_YML) -> BookConfig:
    """A d2lbook project's config.ini (d2lbook/config.py reads the same keys, over its config_default.ini)
    as a BookConfig. How the frameworks run is the project's: d2lbook's tab names (`[build] tabs`) are the
    frameworks our build.yml declares, with its kernels, environments, timeout, limits and agreement. The
    book's folder is only read; the build writes under BOOKS_OUT."""
    import configparser

    path = Path(path).resolve()
    root = path.parent
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8-sig"), source=str(path))
    except (OSError, UnicodeDecodeError, configparser.Error) as err:
        raise ConfigError(f"cannot read it as d2lbook's config.ini: {err}", path=path) from None
    lines = path.read_text(encoding="utf-8-sig").splitlines()

    def line_of(section: str, key: str) -> int | None:
        current = None
        for number, line in enumerate(lines, 1):
            if line.strip().startswith("["):
                current = line.strip().strip("[]").strip()
            elif current == section and line.split("=")[0].strip().lower() == key:
                return number
        return None

    def get(section: str, key: str, default: str = "") -> str:
        return parser.get(section, key, fallback=default).strip()

    ours = load(project)
    tabs = [tab.strip().lower() for tab in get("build", "tabs").split(",") if tab.strip()]
    for tab in tabs:
        if tab not in ours.names:
            raise ConfigError(f"[build] tabs: {tab!r} is not a framework of this build",
                              path=path, line=line_of("build", "tabs"),
                              fix=f"use the frameworks {project.name} declares: {', '.join(ours.names)}")
    # A book without tabs is d2lbook's single-framework book: its code runs in our first framework.
    frameworks = tuple(ours.framework(tab) for tab in tabs) or ours.frameworks[:1]
    index = Path(get("build", "index", "index")).with_suffix(".md")
    title = get("project", "title") or _first_line(root / index)
    bibfile = get("pdf", "bibfile")
    if bibfile and not (root / bibfile).is_file():
        raise ConfigError(f"[pdf] bibfile: {root / bibfile} does not exist", path=path, line=line_of("pdf", "bibfile"))
    notices = []
    if get("project", "lang", "tr") not in ("", "tr"):
        notices.append(f"{path}: [project] lang = {get('project', 'lang')}: this build's site speaks Turkish")
    unused = {section: [key for key in parser[section] if key not in D2LBOOK_KEYS.get(section, ())]
              for section in parser.sections()}
    if any(unused.values()):
        notices.append(f"{path}: keys this build does not use: " + "; ".join(
            f"[{section}] {', '.join(keys)}" for section, keys in unused.items() if keys))
    book = Book(title=title, short_name=get("project", "name", "d2lbook"), index=index,
                authors=tuple(a.strip() for a in re.split(r",\s*(?:and\s+)?|\s+and\s+", get("project", "author"))
                              if a.strip()),
                copyright=get("project", "copyright"), bibliography=root / bibfile if bibfile else None)
    evaluate = get("build", "eval_notebook", "True").lower() == "true"   # d2lbook's own test (build.py)
    return dataclasses.replace(ours, root=root, path=path, book=book, frameworks=frameworks, launch=None,
                               execute="all" if evaluate else "none", out=BOOKS_OUT / root.name,
                               notices=tuple(notices))


def _first_line(path: Path) -> str:
    """d2lbook's title of a book whose config.ini gives none: the index page's first line, without `#`."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError:
        return path.stem
    first = next((line.strip() for line in text.splitlines() if line.strip()), path.stem)
    return first.lstrip("#").strip()


# --- the project's own settings --------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Paths:
    """Everything the build writes, under the book's `_build/`:

        executed/<framework>/<page>.ipynb  each framework's executed notebooks (CI artifacts)
        staging/                           the merged pages Sphinx reads (written only when changed)
        staged.json                        the key of each notebook staged (notebook_json.Known)
        cache/                             jupyter-cache's execution cache, and the kernels' logs
        work/<kernel>/<page>/              each notebook's working folder: the book's tree as its code sees
                                           it (it runs in <page>/<the page's folder>); made anew each run
        doctrees/                          Sphinx's environment, kept for incremental renders
        html/                              the site: replaced only by a render that succeeded
        jupyter_execute/                   myst-nb's copies of the pages' outputs (made anew by each render)
        latex/<framework>/, pdf/           the PDFs' LaTeX and the PDFs (`make pdf`)
        library/<digest>/d2l/              the d2l package the kernels import: ours, with the book's #@save code
        library.pickle                     the last library stage's Library, and the digest of what it read
        read.pickle                        the pages the last read stage read, each by its file's bytes (read/kept.py)
        report.json                        what the last build did (on every outcome; "running" meanwhile)
        timings/*.json                     other builds' reports (CI's shards), for the seconds of their notebooks
        lock                               held by the build running now
    """
    out: Path

    @classmethod
    def under(cls, root: Path) -> Paths:
        return cls(Path(root) / "_build")

    @classmethod
    def of(cls, config: BookConfig) -> Paths:
        """A build.yml book writes under its own folder's `_build/`; a d2lbook book (config.ini), whose
        folder is only read, under the project's `_build/books/<its folder's name>/`."""
        return cls(config.out) if config.out else cls.under(config.root)

    executed = property(lambda self: self.out / "executed")
    staging = property(lambda self: self.out / "staging")
    staged = property(lambda self: self.out / "staged.json")
    cache = property(lambda self: self.out / "cache")
    work = property(lambda self: self.out / "work")
    doctrees = property(lambda self: self.out / "doctrees")
    report = property(lambda self: self.out / "report.json")
    timings = property(lambda self: self.out / "timings")
    lock = property(lambda self: self.out / "lock")
    library = property(lambda self: self.out / "library")
    kept_library = property(lambda self: self.out / "library.pickle")
    kept_read = property(lambda self: self.out / "read.pickle")
    pdf = property(lambda self: self.out / "pdf")

    def site(self, builder: str = "html") -> Path:
        return self.out / builder


# The readers' library as written: each framework's module holds our hand-written part, then (below
# d2lbook's mark, bookbuild/library) the code the book's #@save cells define, as `make lib` writes it.
D2L = ROOT / "d2l"
# What a render reads besides the staged pages: the site's configuration and code.
RENDER_INPUTS = ("conf.py", "static", "templates", "locale", "bookbuild")
# What `make serve` watches besides the book's own pages, images, build.yml and bibliography.
WATCHED_INPUTS = ("d2l", *RENDER_INPUTS)
# Folders no build reads (what builds write, environments, tools' caches).
NOT_SOURCES = frozenset({"_build", ".envs", ".git", "__pycache__", "node_modules", ".pytest_cache"})


def data_mirror() -> Path:
    """Offline machines: a folder of d2l data files (env DATA_MIRROR, default ../shared/data beside the
    project) that kernels copy into their data cache when a data set is missing there, after checking
    its SHA-1 (d2l/data.py)."""
    return Path(os.environ.get("DATA_MIRROR") or ROOT.parent / "shared" / "data")


# `make serve`: where the preview listens unless told otherwise.
SERVE_HOST, SERVE_PORT = "127.0.0.1", 8000
# The reader's view, measured by `make audit` and the tests: bytes a page with code may load when read
# in one framework (as served: gzip), all it can load in every framework (uncompressed), the site folder.
PAGE_LIMIT_GZIP, PAGE_LIMIT_EVERYTHING, SITE_LIMIT = 150_000, 1_200_000, 10_000_000
