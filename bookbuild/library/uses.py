"""Which of the book's saved code a notebook uses: its part of the execution cache key.

A page's notebook for one framework uses the names its code cells call as `d2l.X`, and
whatever those use in turn: the names a saved definition refers to (bare or as `d2l.Y`),
and the names our hand-written definitions of that module refer to (they call the book's
definitions where it saves one: `train_ch11` calls `linreg`). Its key holds the saved
definitions (`def`, `class`) of those names, and every saved statement that binds no
definition (imports, assignments, calls: they run when any page imports d2l). So editing a
saved function re-executes the pages that use it, and no other; our hand-written part is
in every notebook's key already (environments.fingerprint).
"""
from __future__ import annotations

import ast
import hashlib
import re

from bookbuild.library.modules import Module, below_mark

D2L_NAME = re.compile(r"\bd2l\.(\w+)")


def _refers_to(node: ast.AST) -> set[str]:
    """The names code refers to: bare names, and X of `d2l.X`."""
    names = set()
    for each in ast.walk(node):
        if isinstance(each, ast.Name):
            names.add(each.id)
        elif isinstance(each, ast.Attribute) and isinstance(each.value, ast.Name) and each.value.id == "d2l":
            names.add(each.attr)
    return names


class SavedCode:
    """One framework module's saved code, by the names it defines."""

    def __init__(self, module: Module):
        self.definitions: dict[str, list[tuple[str, set[str]]]] = {}   # name -> [(source, names it refers to)]
        self.everywhere = hashlib.sha256()                              # the saved statements every page runs
        self.hand_written: dict[str, set[str]] = {}                     # our definitions -> names they refer to
        self.saves = bool(module.saved)
        if not self.saves:
            return
        below, _ = below_mark(module.text)
        lines = below.split("\n")
        for node in ast.parse(below).body:
            start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
            source = "\n".join(lines[start - 1:node.end_lineno])
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.definitions.setdefault(node.name, []).append((source, _refers_to(node)))
            else:
                self.everywhere.update(source.encode() + b"\0")
        for node in ast.parse(module.hand_written).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.hand_written[node.name] = _refers_to(node)

    def key(self, code: str) -> str:
        """The digest of the saved code that notebook code calling `d2l.X` uses ("" if the book saves none)."""
        if not self.saves:
            return ""
        pending, reached = set(D2L_NAME.findall(code)), set()
        while pending:
            name = pending.pop()
            if name in reached:
                continue
            reached.add(name)
            for _, refers in self.definitions.get(name, []):
                pending |= refers - reached
            pending |= self.hand_written.get(name, set()) - reached
        digest = self.everywhere.copy()
        for name in sorted(reached & self.definitions.keys()):
            for source, _ in self.definitions[name]:
                digest.update(name.encode() + b"\0" + source.encode() + b"\0")
        return digest.hexdigest()[:16]


def keys(modules: dict[str, Module], pages) -> dict[tuple, str]:
    """{(page path, framework): the key of the saved code its notebook uses} (empty keys left out)."""
    found = {}
    for framework, module in modules.items():
        saved = SavedCode(module)
        if not saved.saves:
            continue
        for page in pages:
            code = "\n".join(b.source for b in page.blocks if b.kind == "code" and framework in b.tabs)
            if "d2l" in code:   # a notebook that never imports d2l uses none of it
                found[(page.path, framework)] = saved.key(code)
    return found
