"""d2lbook's `#@save`: what a page's code cells give each framework's library (d2lbook 1.0.3's library.py).

* A cell goes to the frameworks its `#@tab` names (`all`: every one); a cell without a
  mark, to the first framework only (the read stage's `Block.tabs`).
* In a cell, each line holding `# *@save` (anywhere on the line) starts a block: the text
  before the mark (if any), then the unindented lines that follow, then, from the first
  indented or empty line, every indented or empty line up to the next unindented one. A
  cell's blocks are joined, trailing spaces dropped, and the whole stripped.
* A `def` or `class` gets "Defined in :numref:`sec_...`" in its docstring: the last `sec_`
  label of the page's prose before the cell (d2lbook skips the prose right before it).
* `@d2l.add_to_class(C)` methods are moved into the latest saved `class C`.
* Blocks are written in toc order, one blank line apart; nothing is deduplicated (in the
  library, the later definition of a name wins, as Python rebinds it).

Where we differ from d2lbook 1.0.3, on purpose: it sorts a block holding imports with isort,
which the build does not carry (we keep the book's order: the same names are bound); a page
whose code cells name a framework only through `#@tab all` gives that framework its saved
code here, as the build executes it there (d2lbook gives such a page to the first framework
only); and a saved block that is not Python on its own is an error at its mark's line, where
d2lbook writes a library that no page can import.
"""
from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

from bookbuild.errors import SourceError

SAVE_MARK = re.compile(r"# *@save")                               # d2lbook's f'# *{save_mark}'
MD_MARK = re.compile(r":([-\/\\._\w]+):(`[\ \*-\/\\\._\w]+`)?")    # d2lbook's common.md_mark_pattern
ADD_TO_CLASS = "@d2l.add_to_class"


@dataclasses.dataclass(frozen=True)
class Saved:
    """One code cell's saved code for one framework."""
    code: str                           # as d2lbook writes it (docstring label and all)
    page: Path
    line: int                           # of the cell's first #@save mark
    label: str                          # "`sec_...`", or "" when no section label precedes it
    names: tuple[tuple[str, int], ...]  # each top-level name it defines, with its line in the page


def save_block(source: str, lines: tuple[int, ...]) -> list[tuple[int, str]]:
    """d2lbook's `_save_block` on one cell: the saved lines, each with its line in the page."""
    text = source.splitlines()
    block = []
    for i, line in enumerate(text):
        mark = SAVE_MARK.search(line)
        if not mark:
            continue
        before = line[:mark.start()].rstrip()
        if before:
            block.append((i, before))
        for j in range(i + 1, len(text)):
            if not text[j].startswith(" ") and len(text[j]):
                block.append((j, text[j]))
            else:
                for k in range(j, len(text)):
                    if text[k].startswith(" ") or not len(text[k]):
                        block.append((k, text[k]))
                    else:
                        break
                break
    kept = [(lines[i] if i < len(lines) else lines[-1], t.rstrip()) for i, t in block]
    while kept and not kept[0][1]:
        kept.pop(0)
    while kept and not kept[-1][1]:
        kept.pop()
    if kept:   # d2lbook strips the whole block, so the first line loses its indentation too
        kept[0] = (kept[0][0], kept[0][1].lstrip())
    return kept


def defined_names(tree: ast.Module) -> list[tuple[str, ast.stmt]]:
    """The names a module's top-level statements bind: defs, classes, assigned names, imports."""
    found = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.append((node.name, node))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in getattr(node, "targets", [getattr(node, "target", None)]):
                found += [(n.id, node) for n in ast.walk(target) if isinstance(n, ast.Name)
                          and isinstance(target, (ast.Name, ast.Tuple, ast.List))]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            found += [((a.asname or a.name).split(".")[0], node) for a in node.names if a.name != "*"]
    return found


def page_saved(page, framework: str) -> list[Saved]:
    """A page's saved code for one framework, cell by cell, in page order."""
    saved, cells = [], []   # cells: the framework's notebook as d2lbook reads it ("markdown" text or a code block)
    prose = ""
    for block in page.blocks:
        if block.kind != "code":
            prose += block.source
            continue
        if prose.strip():
            cells.append(prose)
        prose = ""
        if framework in block.tabs:
            cells.append(block)
    for i, cell in enumerate(cells):
        if isinstance(cell, str):
            continue
        kept = save_block(cell.source, cell.lines)
        if not kept:
            continue
        code = "\n".join(text for _, text in kept)
        mark = next(cell.lines[i] for i, line in enumerate(cell.source.splitlines()) if SAVE_MARK.search(line))
        try:
            tree = ast.parse(code)
        except SyntaxError as err:
            raise SourceError(f"the code #@save saves from this cell is not Python on its own ({err.msg}, "
                              f"its line {err.lineno})", path=page.path, line=mark, framework=framework,
                              fix="mark the whole definition: #@save on (or above) its first, unindented line") from None
        names = tuple((name, kept[node.lineno - 1][0]) for name, node in defined_names(tree))
        saved.append(Saved(code, page.path, mark, _latest_label(cells[:max(i - 1, 0)]), names))
    return saved


def _latest_label(cells) -> str:
    """d2lbook's `_find_latest_label`: the last `:label:` holding `sec_` in the prose of these cells."""
    for cell in reversed([c for c in cells if isinstance(c, str)]):
        for kind, value in reversed(MD_MARK.findall(cell)):
            if kind == "label" and "sec_" in value:
                return value
    return ""


def _split_list(items: list, starts) -> list[list]:
    """d2lbook's common.split_list: cut before each item for which `starts` is true."""
    parts, previous = [], 0
    for i, item in enumerate(items):
        if starts(item):
            parts.append(items[previous:i])
            previous = i
    parts.append(items[previous:])
    return parts


def _indent(line: str) -> str:
    return line[:len(line) - len(line.lstrip())]


def _with_label(code: str, label: str) -> str:
    """d2lbook's docstring note: each top-level def or class says where the book defines it."""
    if not label:
        return code
    modules = _split_list(code.split("\n"), lambda line: line.startswith("def") or line.startswith("class"))
    block = ["\n".join(modules[0])] if modules[0] else []
    for module in modules[1:]:
        parts = _split_list(module, lambda line: "):" in line)
        if len(parts) > 1:
            docstring = parts[1][1] if len(parts[1]) > 1 else _indent(module[0]) + "    "
            where = f'Defined in :numref:{label}"""'
            if docstring.lstrip().startswith('"""') and docstring.endswith('"""'):
                parts[1][1] = docstring[:-3] + f"\n\n{_indent(docstring)}{where}"
            else:
                parts[1].insert(1, f'{_indent(docstring)}"""{where}')
        block.append("\n".join(line for part in parts for line in part))
    return "\n".join(block)


def generated(saved: list[Saved]) -> str:
    """The library's generated part: every saved block in order, methods moved into their classes."""
    blocks, classes = [], {}
    for each in saved:
        code = _with_label(each.code, each.label)
        lines = code.split("\n")
        if lines[0].startswith("class"):
            blocks.append(code)
            name = re.search(r"class +([\w_]+)", lines[0])
            if name:
                classes[name.group(1)] = len(blocks) - 1
            continue
        if ADD_TO_CLASS in code:
            parts = _split_list(lines, lambda line: line.startswith(ADD_TO_CLASS))
            if parts[0]:
                blocks.append("\n".join(parts[0]))   # d2lbook appends this as a list (and fails); we keep it as code
            for part in parts[1:]:
                cls = re.search(r"@d2l\.add_to_class\(([.\w_]+)\)", part[0])
                if cls:
                    name = cls.group(1).split(".")[-1]
                    if name not in classes:
                        raise SourceError(f"@d2l.add_to_class({cls.group(1)}) adds to a class that no page "
                                          f"before it saves", path=each.page, line=each.line,
                                          fix=f"save `class {name}` (#@save) in a page before this one in the toc")
                    blocks[classes[name]] += "\n\n" + "\n".join("    " + line for line in part[1:])
            continue
        blocks.append(code)
    return "\n\n".join(blocks)
