"""build.yml, read and checked once; every setting of the build is declared here.

Nothing else opens build.yml: stages, tests, the Makefile (`python -m bookbuild
frameworks`) and the CI workflow (`python -m bookbuild matrix`) take a `BookConfig`
or ask the command line. A setting has one declaration: a dataclass field with its
default and what it means. The command line may override `timeout` and `jobs`
for one build (`make html TIMEOUT=... JOBS=...`).
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from bookbuild.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent   # the project: conf.py, d2l/, static/, requirements/
BUILD_YML = ROOT / "build.yml"


@dataclasses.dataclass(frozen=True)
class Framework:
    name: str                   # the tab's key, as written after `#@tab`
    label: str                  # what readers see on the tab
    d2l_module: str             # `from d2l import <d2l_module> as d2l`
    requirements: Path | None   # pinned requirements of its environment (None: `environment` is shared)
    kernel: str                 # Jupyter kernel name registered for it
    env: dict[str, str]         # extra variables of its kernel
    environment: str            # the environment (.envs/<environment>) its kernel runs in


@dataclasses.dataclass(frozen=True)
class Book:
    title: str
    short_name: str             # file names: <short_name>-<framework>.pdf
    authors: tuple[str, ...]
    copyright: str
    index: Path                 # the front page, relative to the book root
    bibliography: Path | None   # BibTeX file of every :cite: key, absolute
    published_url: str          # the published edition, for labels outside this build
    published_labels: Path | None   # its table of labels: label, kind, page, title


@dataclasses.dataclass(frozen=True)
class Agreement:
    rtol: float = 0.05          # numbers printed by two tabs may differ by this fraction ...
    atol: float = 0.01          # ... or by this much
    ignore: tuple[str, ...] = ("sec/epoch", "examples/sec", "sec")   # units of timings: not compared
    strict: bool = False        # a disagreement fails the build (`make check` is always strict)


@dataclasses.dataclass(frozen=True)
class BookConfig:
    root: Path                          # the book: build.yml's folder
    path: Path                          # build.yml itself
    book: Book
    frameworks: tuple[Framework, ...]   # in tab order; the first is d2lbook's default tab
    kernel_env: dict[str, str]
    agreement: Agreement = Agreement()
    timeout: int = 600                  # seconds a cell may run
    jobs: int = os.cpu_count() or 1     # kernels running at once, across pages and frameworks

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
                     strict: bool | None = None) -> "BookConfig":
        """The same book with the command line's overrides for one build."""
        changes = {}
        if timeout is not None:
            changes["timeout"] = _positive(timeout, "timeout", self.path)
        if jobs is not None:
            changes["jobs"] = _positive(jobs, "jobs", self.path)
        if strict is not None:
            changes["agreement"] = dataclasses.replace(self.agreement, strict=strict)
        return dataclasses.replace(self, **changes)


# --- reading --------------------------------------------------------------------------

def _positive(value, what: str, path) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number <= 0:
        raise ConfigError(f"{what} must be a whole number of at least 1, not {value!r}", path=path)
    return number


class _Reader:
    """Checks one mapping of build.yml; errors name the key path and the line it is on."""

    def __init__(self, path: Path, text: str, tree):
        self.path, self.tree = path, tree   # tree: yaml's node graph, which knows every key's line

    def line_of(self, key: str) -> int | None:
        """The line of a dotted key path (`frameworks.pytorch.label`), or of its nearest parent."""
        node, line = self.tree, None
        for part in key.split("."):
            if not hasattr(node, "value") or not isinstance(node.value, list):
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
            raise self.error(key, f"must be a mapping (`name: value` lines), not {type(value).__name__} {value!r}")
        return value

    def require(self, mapping: dict, key: str, where: str):
        if key not in mapping or mapping[key] in (None, ""):
            raise self.error(f"{where}.{key}" if where else key, "is missing")
        return mapping[key]

    def strings(self, value, key: str) -> dict[str, str]:
        return {str(k): str(v) for k, v in self.mapping(value, key).items()}

    def file(self, root: Path, value, key: str) -> Path:
        path = root / str(value)
        if not path.is_file():
            raise self.error(key, f"{path} does not exist")
        return path


def load(path: Path = BUILD_YML) -> BookConfig:
    """Read build.yml (or another file of the same form, e.g. a test's)."""
    import yaml

    path = Path(path).resolve()
    root = path.parent
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read it: {err}", path=path) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise ConfigError(f"not valid YAML: {getattr(err, 'problem', err)}", path=path,
                          line=mark.line + 1 if mark else None) from None
    read = _Reader(path, text, yaml.compose(text))
    raw = read.mapping(raw, "build.yml")
    book = _book(read, root, read.mapping(read.require(raw, "book", ""), "book"))
    frameworks = _frameworks(read, root, read.require(raw, "frameworks", ""))
    agreement = read.mapping(raw.get("agreement"), "agreement")
    unknown = set(agreement) - {f.name for f in dataclasses.fields(Agreement)}
    if unknown:
        raise read.error("agreement", f"unknown setting(s) {', '.join(sorted(unknown))}")
    try:
        agreement = Agreement(**{**agreement, "ignore": tuple(agreement.get("ignore", Agreement.ignore))})
        float(agreement.rtol), float(agreement.atol)
    except (TypeError, ValueError) as err:
        raise read.error("agreement", str(err)) from None
    config = BookConfig(root=root, path=path, book=book, frameworks=frameworks,
                        kernel_env=read.strings(raw.get("kernel_env"), "kernel_env"), agreement=agreement)
    if "timeout" in raw:
        config = config.with_options(timeout=raw["timeout"])
    return config


def _book(read: _Reader, root: Path, raw: dict) -> Book:
    published = read.mapping(raw.get("published"), "book.published")
    authors = raw.get("authors") or []
    if isinstance(authors, str):
        authors = [authors]
    return Book(
        title=str(read.require(raw, "title", "book")),
        short_name=str(read.require(raw, "short_name", "book")),
        authors=tuple(map(str, authors)),
        copyright=str(raw.get("copyright", "")),
        index=read.file(root, read.require(raw, "index", "book"), "book.index").relative_to(root),
        bibliography=read.file(root, raw["bibliography"], "book.bibliography") if raw.get("bibliography") else None,
        published_url=str(published.get("url", "")),
        published_labels=(read.file(root, published["labels"], "book.published.labels")
                          if published.get("labels") else None),
    )


def _frameworks(read: _Reader, root: Path, entries) -> tuple[Framework, ...]:
    entries = read.mapping(entries, "frameworks")
    if not entries:
        raise read.error("frameworks", "must name at least one framework")
    frameworks = []
    for name, entry in entries.items():
        key = f"frameworks.{name}"
        if name == "all" or not str(name).isidentifier():
            raise read.error(key, "a framework name must be an identifier other than 'all'")
        entry = read.mapping(entry, key)
        environment = str(entry.get("environment", name))
        requirements = entry.get("requirements")
        if requirements is None and environment == name:
            raise read.error(f"{key}.requirements", "is missing (or name a shared `environment:`)")
        frameworks.append(Framework(
            name=str(name),
            label=str(read.require(entry, "label", key)),
            d2l_module=str(read.require(entry, "d2l_module", key)),
            requirements=read.file(root, requirements, f"{key}.requirements") if requirements else None,
            kernel=str(read.require(entry, "kernel", key)),
            env=read.strings(entry.get("env"), f"{key}.env"),
            environment=environment,
        ))
    return tuple(frameworks)


@dataclasses.dataclass(frozen=True)
class Paths:
    """Everything the build writes, under the book's `_build/`:

        executed/<framework>/<page>.ipynb  each framework's executed notebooks (CI artifacts)
        staging/                           the merged pages Sphinx reads (written only when changed)
        cache/                             jupyter-cache's execution cache, and the kernels' logs
        doctrees/                          Sphinx's environment, kept for incremental renders
        html/                              the site: replaced only by a render that succeeded
        latex/<framework>/, pdf/           the PDFs' LaTeX and the PDFs (`make pdf`)
        report.json                        what the last build did (on every outcome)
        lock                               held by the build running now
    """
    out: Path

    @classmethod
    def under(cls, root: Path) -> "Paths":
        return cls(Path(root) / "_build")

    executed = property(lambda self: self.out / "executed")
    staging = property(lambda self: self.out / "staging")
    cache = property(lambda self: self.out / "cache")
    doctrees = property(lambda self: self.out / "doctrees")
    report = property(lambda self: self.out / "report.json")
    lock = property(lambda self: self.out / "lock")
    pdf = property(lambda self: self.out / "pdf")

    def site(self, builder: str = "html") -> Path:
        return self.out / builder
