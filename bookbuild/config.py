"""build.yml, read and checked once: the frameworks (tabs) and the book's front page.

Every other stage takes a `BookConfig`; nothing else opens build.yml.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BUILD_YML = ROOT / "build.yml"


class ConfigError(Exception):
    """build.yml says something the build cannot follow."""


@dataclasses.dataclass(frozen=True)
class Framework:
    name: str            # the tab's key, as written after `#@tab`
    label: str           # what readers see on the tab
    d2l_module: str      # `from d2l import <d2l_module> as d2l`
    requirements: Path   # pinned requirements of its environment
    kernel: str          # Jupyter kernel name registered for it
    env: dict[str, str]  # extra variables of its kernel


@dataclasses.dataclass(frozen=True)
class BookConfig:
    root: Path
    index: Path                        # the front page, relative to root
    frameworks: tuple[Framework, ...]  # in tab order; the first is d2lbook's default tab
    kernel_env: dict[str, str]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(fw.name for fw in self.frameworks)

    def framework(self, name: str) -> Framework:
        for fw in self.frameworks:
            if fw.name == name:
                return fw
        raise ConfigError(f"unknown framework {name!r}; build.yml declares {', '.join(self.names)}")


def _require(mapping: dict, key: str, where: str):
    if key not in mapping:
        raise ConfigError(f"{where}: missing key {key!r}")
    return mapping[key]


def _strings(mapping, where: str) -> dict[str, str]:
    mapping = mapping or {}
    if not isinstance(mapping, dict):
        raise ConfigError(f"{where}: expected a mapping of variable names to values")
    return {str(k): str(v) for k, v in mapping.items()}


def load(path: Path = BUILD_YML) -> BookConfig:
    """Read build.yml (or another file of the same form, e.g. a test's)."""
    path = Path(path).resolve()
    root = path.parent
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"{path}: {err}") from err
    where = path.name
    entries = _require(raw, "frameworks", where)
    if not isinstance(entries, dict) or not entries:
        raise ConfigError(f"{where}: 'frameworks' must map framework names to their settings")
    frameworks = []
    for name, entry in entries.items():
        here = f"{where}: frameworks.{name}"
        if name == "all" or not str(name).isidentifier():
            raise ConfigError(f"{here}: a framework name must be an identifier other than 'all'")
        requirements = root / _require(entry, "requirements", here)
        if not requirements.is_file():
            raise ConfigError(f"{here}.requirements: {requirements} does not exist")
        frameworks.append(Framework(
            name=str(name),
            label=str(_require(entry, "label", here)),
            d2l_module=str(_require(entry, "d2l_module", here)),
            requirements=requirements,
            kernel=str(_require(entry, "kernel", here)),
            env=_strings(entry.get("env"), f"{here}.env"),
        ))
    index = Path(_require(raw, "index", where))
    if not (root / index).is_file():
        raise ConfigError(f"{where}: index {index} does not exist")
    return BookConfig(root=root, index=index, frameworks=tuple(frameworks),
                      kernel_env=_strings(raw.get("kernel_env"), f"{where}: kernel_env"))
