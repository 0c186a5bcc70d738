"""Merge-stage helper: what readers take away, and run elsewhere.

* Each page's notebook per framework, for the reader's own Jupyter or Colab: the generic
  python3 kernel, and a first cell that installs what it needs, the framework at the pinned
  versions of its environment (requirements/<framework>.txt) from the package index, and the
  readers' library d2l from the wheel the cell itself carries: it reaches neither this site nor
  any address the site was built for, so it runs wherever the notebook goes (Colab, a laptop,
  offline but for the package index). The site serves the same wheel (`_d2l/`).
* That wheel: built by pip from pyproject.toml and the library the build made (bookbuild/library:
  our d2l with the book's #@save code, as the kernels import it), with fixed timestamps (the same
  sources give the same bytes), once per version of those sources on this machine: every build of
  the same library reuses it (a wheel no build used for a week is removed).
"""
from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from bookbuild import notebook_json
from bookbuild.config import ROOT
from bookbuild.environments import ENVS, no_deps_file
from bookbuild.errors import EnvironmentProblem
from bookbuild.tab_marks import Staged

INSTALL_TAG = "d2l-install"   # the install cell's tag: readers' tools (and the build) know it by it
REPRODUCIBLE_EPOCH = "315532800"   # 1980-01-01, the earliest time a zip file holds
KEPT_WHEELS = ENVS / "d2l-wheel"   # the project's, beside its environments: every book's build serves it


def download_path(page: Path, framework: str) -> Path:
    """Where a page's notebook for one framework is, in the staging folder and on the site."""
    return Path(Staged.NOTEBOOKS) / page.parent / f"{page.stem}-{framework}.ipynb"


def pins(requirements: Path | None) -> list[str]:
    """The packages a requirement file pins itself (without what it includes)."""
    if requirements is None:
        return []
    lines = requirements.read_text(encoding="utf-8").splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()
            and not line.strip().startswith("-")]


def install_cell(framework, wheel: Path) -> nbformat.NotebookNode:
    """The first cell: the framework's pins from the package index, d2l from the wheel it carries (base64,
    written to a temporary folder; IPython puts the path into `%pip`). Its source starts folded in Jupyter
    and Colab (a form): readers see its title, not the wheel's letters."""
    packages = " ".join(pins(framework.requirements))
    # What the environment installs without its declared dependencies (tf-keras), the same way.
    no_deps = pins(no_deps_file(framework.requirements)) if framework.requirements and \
        no_deps_file(framework.requirements).is_file() else []
    cell = notebook_json.code_cell(
        "#@title Kurulum: bu hücreyi önce çalıştırın\n"
        "# Bu defteri kendi ortamınızda (Python 3.11, Jupyter ya da Colab) çalıştırmak için gerekenler:\n"
        f"# {framework.label}, kitabın ortamındaki sürümleriyle, ve kitabın d2l kitaplığı (bu hücrede).\n"
        "import base64, pathlib, tempfile\n"
        f"d2l_wheel = pathlib.Path(tempfile.mkdtemp()) / {wheel.name!r}\n"
        f"d2l_wheel.write_bytes(base64.b64decode({_base64(wheel)!r}))\n"
        f"%pip install --quiet {packages} {{d2l_wheel}}"
        + (f"\n%pip install --quiet --no-deps {' '.join(no_deps)}" if no_deps else ""), "install")
    cell.metadata["tags"] = [INSTALL_TAG]
    cell.metadata["jupyter"] = {"source_hidden": True}
    cell.metadata["cellView"] = "form"
    return cell


@functools.cache
def _base64(wheel: Path) -> str:
    """The wheel's bytes in base64, made once, not for each of the book's notebooks (a kept wheel's folder is
    named by its sources' digest: `wheel`)."""
    return base64.b64encode(wheel.read_bytes()).decode()


def carried_wheel(cell) -> bytes:
    """The wheel an install cell carries (for the tests)."""
    found = re.search(r"b64decode\('([^']*)'\)", cell.source)
    if found is None:
        raise ValueError("not an install cell: it carries no wheel")
    return base64.b64decode(found.group(1))


def for_download(nb: nbformat.NotebookNode, framework, wheel: Path) -> nbformat.NotebookNode:
    """A copy readers can open in their own Jupyter: the generic python3 kernel, and the install cell first."""
    nb = nbformat.from_dict(nb)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": f"Python 3 ({framework.label})",
                                 "language": "python"}
    nb.cells.insert(0, install_cell(framework, wheel))
    return nb


def wheel(library: Path, folder: Path = KEPT_WHEELS) -> Path:
    """The wheel of the d2l package in `library` (the folder holding d2l/), kept in `folder/<sources'
    digest>/` (made only when the library or pyproject.toml changed; builds side by side each make it
    whole in a folder of their own, and the first to finish keeps it)."""
    sources = {Path("pyproject.toml"): ROOT / "pyproject.toml",
               **{p.relative_to(library): p for p in sorted((library / "d2l").rglob("*.py"))}}
    digest = hashlib.sha256(b"".join(name.as_posix().encode() + b"\0" + p.read_bytes()
                                     for name, p in sources.items())).hexdigest()[:16]
    kept = folder / digest
    made = sorted(kept.glob("*.whl"))
    if len(made) == 1:
        with contextlib.suppress(OSError):
            os.utime(kept)   # in use: kept (see below)
        return made[0]
    folder.mkdir(parents=True, exist_ok=True)
    part = Path(tempfile.mkdtemp(prefix=f"{digest}.", suffix=".part", dir=folder))
    try:
        tree = part / "source"   # a copy: pip builds in place
        for name, path in sources.items():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, tree / name)
        done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                               "--disable-pip-version-check", "-w", str(part / "wheel"), str(tree)],
                              capture_output=True, text=True,
                              env={**os.environ, "SOURCE_DATE_EPOCH": REPRODUCIBLE_EPOCH})
        made = sorted((part / "wheel").glob("*.whl"))
        if done.returncode or len(made) != 1:
            raise EnvironmentProblem("the readers' d2l wheel could not be made (pip wheel)",
                                     path=ROOT / "pyproject.toml",
                                     detail="\n".join((done.stdout + done.stderr).strip().splitlines()[-8:]),
                                     fix="check pyproject.toml, and that pip can reach the package index for "
                                         "setuptools")
        # What a killed build left, and wheels no build used for a week: books that save other code have
        # libraries (and wheels) of their own, and builds of several books take turns.
        for other in folder.iterdir():
            if other.name != digest and _older_than(other, 3600 if other.name.endswith(".part") else 7 * 86400):
                shutil.rmtree(other, ignore_errors=True)
        with contextlib.suppress(OSError):   # a build beside this one may have kept its own first
            os.rename(part / "wheel", kept)
    finally:
        shutil.rmtree(part, ignore_errors=True)
    return sorted(kept.glob("*.whl"))[0]


def _older_than(path: Path, seconds: float) -> bool:
    """Not touched for that long (no build takes an hour to make the wheel: a `.part` folder this old is no
    build's any more)."""
    with contextlib.suppress(OSError):
        return time.time() - path.stat().st_mtime > seconds
    return False


def colab_url(launch, relative: str) -> str:
    """"Open in Colab" for a notebook that CI publishes to `launch.branch` of `launch.repository`."""
    return f"https://colab.research.google.com/github/{launch.repository}/blob/{launch.branch}/{relative}"
