"""Stage 0: environments are keyed by their requirement files, includes and Python version."""
from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

from books import ROOT  # noqa: E402

from bookbuild import environments
from bookbuild.config import load


def test_requirements_hash_follows_includes(tmp_path):
    (tmp_path / "kernel.txt").write_text("ipykernel==7.4.0\n")
    (tmp_path / "fw.txt").write_text("-r kernel.txt\nnumpy==2.4.6\n")
    before = environments.requirements_hash(tmp_path / "fw.txt")
    assert environments.requirements_hash(tmp_path / "fw.txt") == before
    (tmp_path / "kernel.txt").write_text("ipykernel==7.4.1\n")        # an included file changed
    assert environments.requirements_hash(tmp_path / "fw.txt") != before


def test_stale_names_only_the_changed_environment(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "requirements", tmp_path / "requirements")
    for name in ("build.yml", "d2l.bib", "d2l-tr-labels.tsv", "d2l-tr-pages.tsv"):
        shutil.copy(ROOT / name, tmp_path)
    (tmp_path / "index.md").write_text("# K\n")
    config = load(tmp_path / "build.yml")
    envs = tmp_path / ".envs"
    monkeypatch.setattr(environments, "ENVS", envs)
    for fw in config.frameworks:
        (envs / fw.name).mkdir(parents=True)
        (envs / fw.name / environments.STAMP).write_text(
            json.dumps({"requirements_hash": environments.requirements_hash(
                *environments.requirement_files(fw.requirements))}))
    assert environments.stale(config, config.names) == []
    with open(tmp_path / "requirements" / "pytorch.txt", "a") as requirements:
        requirements.write("# a changed pin\n")
    assert environments.stale(config, config.names) == ["pytorch"]
    no_deps = environments.no_deps_file(config.framework("tensorflow").requirements)
    no_deps.write_text(no_deps.read_text() + "# a changed pin\n" if no_deps.is_file() else "# a new file\n")
    assert environments.stale(config, config.names) == ["pytorch", "tensorflow"]   # a no-deps file keys it too


def wheel(folder: Path, name: str, requires: str) -> Path:
    """A minimal wheel of package `name` that declares it needs `requires`."""
    path = folder / f"{name}-1.0-py3-none-any.whl"
    files = {f"{name}/__init__.py": "VERSION = 1\n",
             f"{name}-1.0.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
                                               f"Requires-Dist: {requires}\n",
             f"{name}-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                            "Tag: py3-none-any\n"}
    files[f"{name}-1.0.dist-info/RECORD"] = "".join(f"{n},,\n" for n in files) + f"{name}-1.0.dist-info/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in files.items():
            archive.writestr(member, text)
    return path


def test_a_no_deps_file_is_installed_without_its_dependencies_and_keys_the_environment(tmp_path, monkeypatch):
    """`<name>.no-deps.txt` beside a requirement file: installed after it with `pip --no-deps` (as tf-keras
    must be: it names `tensorflow`, which tensorflow-cpu is not); changing it makes the environment again."""
    monkeypatch.setattr(environments, "ENVS", tmp_path / ".envs")
    monkeypatch.setattr(environments, "ROOT", tmp_path)
    requirements = tmp_path / "requirements" / "fw.txt"
    requirements.parent.mkdir()
    requirements.write_text("# nothing besides what the no-deps file names\n")
    needy = wheel(tmp_path, "needy", "no-such-distribution-anywhere==9.9")
    environments.no_deps_file(requirements).write_text(f"{needy}\n")
    assert environments.ensure("fw", requirements)
    python = environments.python_of("fw")
    assert subprocess.run([python, "-c", "import needy"]).returncode == 0
    assert not environments.ensure("fw", requirements)                    # up to date: nothing to do
    environments.no_deps_file(requirements).write_text(f"# changed\n{needy}\n")
    assert environments.installed_hash("fw") != environments.requirements_hash(
        *environments.requirement_files(requirements))


def test_a_books_own_requirements_outside_the_project_make_its_environment(tmp_path, monkeypatch):
    """`make html BOOK=<folder>` whose build.yml names requirement files in that folder: they lie outside the
    project, and the environment is made from them (its message named them relative to the project, and
    raised ValueError)."""
    monkeypatch.setattr(environments, "ENVS", tmp_path / "project" / ".envs")
    monkeypatch.setattr(environments, "ROOT", tmp_path / "project")
    requirements = tmp_path / "book" / "requirements" / "fw.txt"
    requirements.parent.mkdir(parents=True)
    requirements.write_text("# nothing to install\n")
    assert environments.ensure("fw", requirements)
    assert environments.python_of("fw").exists() and not environments.ensure("fw", requirements)


def test_kernels_are_registered_under_the_build_not_globally(tmp_path, monkeypatch):
    monkeypatch.setattr(environments, "KERNELS", tmp_path / "kernels")
    config = load(ROOT / "build.yml")
    fw = config.framework("tensorflow")
    spec = json.loads(environments.write_kernel(fw, config.kernel_env).read_text())
    assert spec["argv"][0] == str(environments.python_of("tensorflow"))
    assert spec["env"]["TF_CPP_MIN_LOG_LEVEL"] == "3" and spec["env"]["D2L_SEED"] == "0"
    assert (tmp_path / "kernels" / "kernels" / fw.kernel / "kernel.json").is_file()


def test_a_kernel_starts_without_the_debugger_and_imports_what_lies_beside_its_page(fixture_kernels, tmp_path):
    """The build's kernels never import debugpy (a third of a kernel's start), and otherwise start as
    `python -m ipykernel_launcher` does: a cell imports a module from its page's folder."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    (tmp_path / "beside.py").write_text("WHERE = 'beside the page'\n")
    specs = KernelSpecManager(kernel_dirs=[str(folder) for folder in environments.kernel_dirs()])
    kernel = KernelManager(kernel_name=fixture_kernels.frameworks[0].kernel, kernel_spec_manager=specs)
    kernel.start_kernel(cwd=str(tmp_path))
    client = kernel.client()
    printed = []
    try:
        client.start_channels()
        client.wait_for_ready(timeout=60)
        client.execute_interactive("import sys, beside\nprint(beside.WHERE, sys.modules.get('debugpy'))", timeout=60,
                                   output_hook=lambda msg: printed.append(msg["content"].get("text", "")))
    finally:
        client.stop_channels()
        kernel.shutdown_kernel(now=True)
    assert "".join(printed) == "beside the page None\n"
