"""The d2l package the book defines: our hand-written modules with the book's saved code laid below.

Each framework's module is its hand-written part (d2l/<module>.py above d2lbook's mark, the
whole file if it has none), the mark, then what the book's #@save cells give that framework
(saved.py). A framework the book saves nothing for keeps its module as it is. The shared
modules (common, plotting, training, data) are copied as they are.

* `write_package` puts that package under _build/library/<digest>/d2l, whole (a `.part` folder
  renamed), for the kernels (PYTHONPATH) and the readers' wheel;
* `write_sources` is `make lib`: the framework modules written into d2l/;
* `drift` is `make check`'s test that d2l/ is what the book defines, name by name;
* `differences` lists each name the book saves that our hand-written code also defines
  differently: the book's definition wins in the library, and the build says so.
"""
from __future__ import annotations

import ast
import contextlib
import copy
import dataclasses
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from bookbuild.environments import LIBRARY_MARK, hand_written
from bookbuild.errors import LibraryDrift, SourceError, disk_error
from bookbuild.library.saved import Saved, defined_names, generated
from bookbuild.whole import write_whole

NOTE = (f"{LIBRARY_MARK}\n"
        "# The below part is generated automatically through:\n"
        "#    make lib   (from the book's #@save cells, as d2lbook build lib)\n"
        "# Don't edit it directly\n\n")


@dataclasses.dataclass(frozen=True)
class Module:
    framework: str
    path: Path                    # d2l/<module>.py, relative to the package's folder: d2l/torch.py
    hand_written: str
    saved: tuple[Saved, ...]
    text: str                     # the whole module as the book defines it


def compose(framework, source: Path, saved: list[Saved]) -> Module:
    """The framework's module: our hand-written part, then the book's saved code (if any)."""
    path = source / f"{framework.d2l_module}.py"
    written = hand_written(path.read_text(encoding="utf-8")) if path.is_file() else ""
    text = written
    if saved:
        body = generated(saved)
        text = written.rstrip("\n") + "\n\n\n" + NOTE + body + "\n"
        try:
            ast.parse(text)
        except SyntaxError as err:   # the saved blocks parse one by one; this is their merge (add_to_class)
            raise SourceError(f"the library the book's #@save cells make for {framework.name} is not Python "
                              f"({err.msg}, line {err.lineno} of d2l/{path.name})", path=saved[0].page,
                              line=saved[0].line, framework=framework.name) from None
    return Module(framework.name, Path("d2l") / path.name, written, tuple(saved), text)


def package_files(source: Path, modules: list[Module]) -> dict[Path, str]:
    """Every file of the package (relative to its folder): the shared modules as they are, the framework
    modules as the book defines them."""
    files = {Path("d2l") / p.relative_to(source): p.read_text(encoding="utf-8")
             for p in sorted(source.rglob("*.py")) if "__pycache__" not in p.parts}
    files.update({m.path: m.text for m in modules})
    return files


def write_package(folder: Path, files: dict[Path, str]) -> Path:
    """The package under `folder/<digest of its files>/`, written whole (a `.part` renamed into place);
    other digests (earlier builds') are removed. The folder that holds `d2l/`."""
    digest = hashlib.sha256(b"".join(p.as_posix().encode() + b"\0" + t.encode() + b"\0"
                                     for p, t in sorted(files.items()))).hexdigest()[:16]
    target = folder / digest
    try:
        if not target.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            part = Path(tempfile.mkdtemp(prefix=f"{digest}.", suffix=".part", dir=folder))
            try:
                for path, text in files.items():
                    (part / path).parent.mkdir(parents=True, exist_ok=True)
                    (part / path).write_text(text, encoding="utf-8")
                os.rename(part, target)
            finally:
                shutil.rmtree(part, ignore_errors=True)
        for other in folder.iterdir():   # one build at a time per checkout (the build lock): none is in use
            if other.name != digest:
                shutil.rmtree(other, ignore_errors=True)
    except OSError as err:
        raise disk_error(err, "writing the d2l library", target) from None
    return target


def write_sources(source: Path, modules: list[Module]) -> list[Path]:
    """`make lib`: each framework module that differs from the book's, written into `source` (whole: a
    `.part` renamed). The files written."""
    written = []
    for module in modules:
        path = source / module.path.name
        if path.is_file() and path.read_text(encoding="utf-8") == module.text:
            continue
        try:
            write_whole(path, module.text)
        except OSError as err:
            raise disk_error(err, f"writing {path}") from None
        written.append(path)
    return written


def below_mark(text: str) -> tuple[str, int]:
    """A module's part below LIBRARY_MARK, and the line it starts at ("", 0: it has none)."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.strip() == LIBRARY_MARK:
            return "\n".join(lines[i + 1:]), i + 2
    return "", 0


def _statements(text: str, first_line: int) -> dict[str, tuple[int, str]]:
    """Top-level names of a module's text -> (line, the source of the statement that binds it last)."""
    lines = text.split("\n")
    found = {}
    for name, node in defined_names(ast.parse(text)):
        start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        found[name] = (start + first_line - 1, "\n".join(lines[start - 1:node.end_lineno]))
    return found


def drift(source: Path, modules: list[Module], root: Path) -> LibraryDrift | None:
    """How d2l/ differs from the library the book defines, name by name, with both places (None: in sync)."""
    problems = []
    for module in modules:
        path = source / module.path.name
        shown = path.relative_to(root) if path.is_relative_to(root) else path
        actual = path.read_text(encoding="utf-8") if path.is_file() else ""
        if actual == module.text:
            continue
        book = {name: f"{each.page.as_posix()}:{line}" for each in module.saved for name, line in each.names}
        try:
            have = _statements(*below_mark(actual))
        except SyntaxError as err:
            line = (err.lineno or 1) + below_mark(actual)[1] - 1
            problems.append(f"{shown}:{line}: not Python below the mark ({err.msg})")
            continue
        want = _statements(*below_mark(module.text))
        before = len(problems)
        for name in sorted(set(have) | set(want)):
            if name not in have:
                problems.append(f"{shown}: {name} is missing (the book saves it at {book[name]})")
            elif name not in want:
                problems.append(f"{shown}:{have[name][0]}: {name} is saved by no page of the build")
            elif have[name][1] != want[name][1]:
                problems.append(f"{shown}:{have[name][0]}: {name} differs from the book's, at {book[name]}")
        if len(problems) == before:
            problems.append(f"{shown}: differs from what the book's #@save cells give (order, spacing, or "
                            "code that binds no name)")
    if not problems:
        return None
    return LibraryDrift(f"d2l/ is not the library the book's #@save cells define ({len(problems)} "
                        f"difference{'s' if len(problems) > 1 else ''})", path=source.relative_to(root)
                        if source.is_relative_to(root) else source, detail="\n".join(problems))


# --- our hand-written definitions, and where the book's differ -------------------------------------

def hand_written_definitions(source: Path, name: str, text: str | None = None, seen=()) -> dict:
    """The names a hand-written module binds -> (file, line, node), following `from .x import ...`
    (and `*`, by the module's __all__) into the shared modules, as Python would."""
    path = source / f"{name}.py"
    if text is None:
        if not path.is_file() or name in seen:
            return {}
        text = hand_written(path.read_text(encoding="utf-8"))
    found = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            other = hand_written_definitions(source, node.module, seen=(*seen, name))
            for alias in node.names:
                if alias.name == "*":
                    public = _all_of(source / f"{node.module}.py")
                    found.update({k: v for k, v in other.items() if k in public})
                elif alias.name in other:
                    found[alias.asname or alias.name] = other[alias.name]
            continue
        for bound, statement in defined_names(ast.Module([node], [])):
            found[bound] = (path, statement.lineno, statement)
    return found


def _all_of(path: Path) -> set[str]:
    with contextlib.suppress(OSError, SyntaxError, ValueError):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__"
                                                    for t in node.targets):
                return set(ast.literal_eval(node.value))
    return set()


class _Meaning(ast.NodeTransformer):
    """What a definition does, not how it reads: no docstrings, and `d2l.X` is X (in the library,
    `d2l` is the module itself)."""

    def visit_Attribute(self, node):
        self.generic_visit(node)
        if isinstance(node.value, ast.Name) and node.value.id == "d2l":
            return ast.copy_location(ast.Name(node.attr, node.ctx), node)
        return node

    def _body(self, node):
        self.generic_visit(node)
        if node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant) \
                and isinstance(node.body[0].value.value, str):
            node.body = node.body[1:] or [ast.Pass()]
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _body


def meaning(node: ast.stmt, name: str) -> str:
    """What `node` binds `name` to: for an import, the one thing it imports under that name."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        module = "." * getattr(node, "level", 0) + (getattr(node, "module", None) or "")
        return next(f"import {module}:{alias.name}" for alias in node.names
                    if (alias.asname or alias.name).split(".")[0] == name)
    return ast.dump(_Meaning().visit(copy.deepcopy(node)), annotate_fields=False, include_attributes=False)


def differences(source: Path, root: Path, framework, module: Module) -> list[dict]:
    """Each name the book saves for this framework that our hand-written code defines otherwise:
    {name, framework, ours: file:line, book: page:line}."""
    if not module.saved:
        return []
    ours = hand_written_definitions(source, framework.d2l_module, module.hand_written)
    found = []
    for each in module.saved:
        tree = ast.parse(each.code)
        for (name, node), (_, line) in zip(defined_names(tree), each.names, strict=True):
            if name in ours and meaning(ours[name][2], name) != meaning(node, name):
                path, our_line, _ = ours[name]
                shown = path.relative_to(root) if path.is_relative_to(root) else path
                found.append({"name": name, "framework": framework.name, "ours": f"{shown}:{our_line}",
                              "book": f"{each.page.as_posix()}:{line}"})
    return found
