"""Stage 0: one virtual environment per framework, one for the build, one kernel each.

`.envs/<name>/` holds an environment; its `d2l-env.json` records the hash of the
requirement files it was made from, so a second run does nothing and a changed
file rebuilds only that environment. Kernels are written to `.envs/kernels/`,
which the build puts on JUPYTER_PATH: the user's own Jupyter kernels are never
touched.

This module runs on a bare Python (the build environment does not exist yet
when `make env` starts), so it imports nothing outside the standard library
at module level.
"""
from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENVS = Path(os.environ.get("D2L_ENVS_DIR", ROOT / ".envs"))
KERNELS = ENVS / "kernels"
STAMP = "d2l-env.json"


class EnvironmentError_(Exception):
    """An environment could not be made; the message says which and where the log is."""


def python_of(name: str) -> Path:
    return ENVS / name / "bin" / "python"


def requirements_hash(*requirements: Path) -> str:
    """Hash of requirement files and the files they include with `-r`, plus the Python version."""
    digest = hashlib.sha256(f"python {sys.version_info[:2]}".encode())
    pending, seen = [Path(r) for r in requirements], set()
    while pending:
        path = pending.pop(0).resolve()
        if path in seen:
            continue
        seen.add(path)
        text = path.read_text(encoding="utf-8")
        digest.update(path.name.encode() + b"\0" + text.encode())
        pending += [path.parent / m for m in re.findall(r"^\s*-r\s+(\S+)", text, re.M)]
    return digest.hexdigest()[:16]


def installed_hash(name: str) -> str | None:
    try:
        return json.loads((ENVS / name / STAMP).read_text())["requirements_hash"]
    except (OSError, ValueError, KeyError):
        return None


def say(message: str) -> None:
    """One whole line at a time: environments are made side by side, in threads."""
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def _run(cmd: list, log) -> None:
    log.write(f"$ {' '.join(map(str, cmd))}\n")
    log.flush()
    subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, check=True, cwd=ROOT)


def ensure(name: str, requirements: Path, editable_d2l: bool, assets: Path | None = None) -> bool:
    """Make environment `name` from `requirements` unless it is up to date. True if (re)made.
    `assets`: packages of static files, installed without dependencies into <env>/assets."""
    wanted = requirements_hash(requirements, *([assets] if assets else []))
    if installed_hash(name) == wanted and python_of(name).exists():
        return False
    target = ENVS / name
    log_path = ENVS / f"{name}.log"
    ENVS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    say(f"[env] {name}: installing {requirements.relative_to(ROOT)} (log: {log_path.relative_to(ROOT) if log_path.is_relative_to(ROOT) else log_path})")
    shutil.rmtree(target, ignore_errors=True)
    with open(log_path, "w") as log:
        try:
            _run([sys.executable, "-m", "venv", target], log)
            pip = [python_of(name), "-m", "pip", "install", "--disable-pip-version-check"]
            _run(pip + ["-r", requirements], log)
            if assets:
                _run(pip + ["--no-deps", "--target", target / "assets", "-r", assets], log)
            if editable_d2l:
                # The readers' library, editable: its edits reach the kernels at once.
                _run(pip + ["--no-deps", "-e", ROOT], log)
        except subprocess.CalledProcessError as err:
            shutil.rmtree(target, ignore_errors=True)
            tail = "".join(log_path.read_text().splitlines(True)[-15:])
            raise EnvironmentError_(
                f"[env] {name}: `{' '.join(map(str, err.cmd))}` failed. Last lines of {log_path}:\n{tail}"
                f"Fix {requirements.relative_to(ROOT)} (or the network/index) and run `make env` again."
            ) from None
    (target / STAMP).write_text(json.dumps({"requirements_hash": wanted,
                                            "requirements": str(requirements.relative_to(ROOT))}))
    say(f"[env] {name}: ready in {time.monotonic() - started:.0f} s")
    return True


def stale(config, names) -> list[str]:
    """Which of these environments ("build" or framework names) differ from their requirements."""
    wanted = {"build": requirements_hash(ROOT / "requirements.txt", ROOT / "requirements" / "site-assets.txt"),
              **{fw.name: requirements_hash(fw.requirements) for fw in config.frameworks}}
    return [name for name in names if installed_hash(name) != wanted[name]]


def write_kernel(framework, kernel_env: dict[str, str]) -> Path:
    """Register the framework's kernel under .envs/kernels (JUPYTER_PATH), not globally."""
    spec_dir = KERNELS / "kernels" / framework.kernel
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [str(python_of(framework.name)), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"{framework.label} (d2l)",
        "language": "python",
        "env": {**kernel_env, **framework.env},
        "metadata": {"debugger": False},
    }
    path = spec_dir / "kernel.json"
    text = json.dumps(spec, indent=1, sort_keys=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def jupyter_path() -> str:
    """The value of JUPYTER_PATH under which the build finds its kernels."""
    return str(KERNELS)


def d2l_sources(framework, config) -> list[Path]:
    """The d2l files a framework's kernel imports: the shared modules and its own."""
    others = {f"{fw.d2l_module}.py" for fw in config.frameworks if fw is not framework}
    return sorted(p for p in (config.root / "d2l").rglob("*.py") if p.name not in others)


def fingerprint(framework, config) -> str:
    """What, besides the code cells, decides a framework's outputs: its environment,
    its kernel's variables and the d2l code it imports. Part of the execution cache key."""
    digest = hashlib.sha256()
    digest.update((installed_hash(framework.name) or "missing").encode())
    digest.update(json.dumps({**config.kernel_env, **framework.env}, sort_keys=True).encode())
    for path in d2l_sources(framework, config):
        digest.update(path.relative_to(config.root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def ensure_frameworks(config, only: list[str] | None = None) -> None:
    """Make the framework environments (in parallel: mostly downloads) and their kernels."""
    wanted = [fw for fw in config.frameworks if not only or fw.name in only]
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(wanted) or 1) as pool:
        futures = {pool.submit(ensure, fw.name, fw.requirements, True): fw for fw in wanted}
        errors = [f.exception() for f in concurrent.futures.as_completed(futures) if f.exception()]
    if errors:
        raise EnvironmentError_("\n".join(map(str, errors)))
    for fw in wanted:
        write_kernel(fw, config.kernel_env)


def main(argv: list[str]) -> int:
    """`python -m bookbuild.environments build` makes the build environment on a bare Python;
    `... frameworks [NAME ...]` (run inside it) makes the framework environments;
    `... oracle` makes the test-only d2lbook environment."""
    try:
        if argv[:1] == ["build"]:
            ensure("build", ROOT / "requirements.txt", editable_d2l=False,
                   assets=ROOT / "requirements" / "site-assets.txt")
        elif argv[:1] == ["oracle"]:  # test-only: d2lbook, to check our split against its own
            ensure("d2lbook", ROOT / "requirements" / "d2lbook-oracle.txt", editable_d2l=False)
        elif argv[:1] == ["frameworks"]:
            from bookbuild import config as book_config
            ensure_frameworks(book_config.load(), argv[1:] or None)
        else:
            print(main.__doc__, file=sys.stderr)
            return 2
    except EnvironmentError_ as err:
        print(err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
