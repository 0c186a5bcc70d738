"""Between execute and merge: do the tabs of each group print the same thing?

Each framework's tab of a book computes the same thing in its own library, so
what its cells print should agree: the same lines in the same order, the same
numbers within build.yml's tolerance (`agreement: rtol, atol`). Numbers followed
by a timing unit (`agreement: ignore`, e.g. `0.162 sec/epoch`) are not compared.
Tabs whose printed output has a different shape (other line counts, other
counts of numbers on a line: a tensor's repr differs between libraries) are
"not comparable", not failures. Only groups where at least two frameworks
printed something are compared.
"""
from __future__ import annotations

import re

from bookbuild.merge import runs

NUMBER = re.compile(r"(?<![\w.])[-+−]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.])")


def printed_lines(cells) -> list[str]:
    """What the cells printed (stdout and text results), line by line, blank lines dropped."""
    text = []
    for cell in cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                text.append(output.get("text", ""))
            elif output.get("output_type") in ("execute_result", "display_data") and \
                    not any(k.startswith("image/") for k in output.get("data", {})):
                text.append(output.get("data", {}).get("text/plain", "") + "\n")
    return [line.strip() for line in "".join(text).splitlines() if line.strip()]


def numbers(line: str, ignore: tuple[str, ...]) -> list[float | None]:
    """The line's numbers in order; None for a timing (a number followed by an ignored unit)."""
    found = []
    for match in NUMBER.finditer(line):
        after = line[match.end():].lstrip()
        timing = any(re.match(rf"{re.escape(unit)}(?![\w/])", after) for unit in ignore)
        found.append(None if timing else float(match.group().replace("−", "-")))
    return found


def compare_group(outputs: dict[str, list[str]], settings) -> tuple[str, str]:
    """(status, detail) for one group: {framework: printed lines}."""
    names = list(outputs)
    parsed = {name: [numbers(line, settings.ignore) for line in lines] for name, lines in outputs.items()}
    shapes = {name: [len(n) for n in lines] for name, lines in parsed.items()}
    if len({tuple(s) for s in shapes.values()}) > 1:
        counts = ", ".join(f"{name}: {len(outputs[name])} lines" for name in names)
        return "not comparable", f"the outputs have different shapes ({counts})"
    worst = None
    for line_number, row in enumerate(zip(*(parsed[name] for name in names)), 1):
        for position, values in enumerate(zip(*row)):
            if any(v is None for v in values):
                continue
            spread = max(values) - min(values)
            allowed = settings.atol + settings.rtol * max(abs(v) for v in values)
            if spread > allowed and (worst is None or spread - allowed > worst[0]):
                worst = (spread - allowed, line_number, position, values)
    if worst is None:
        return "agree", f"{sum(map(len, outputs.values()))} lines compared"
    _, line_number, position, values = worst
    found = ", ".join(f"{name} {value:g}" for name, value in zip(names, values))
    return "disagree", (f"printed line {line_number}, number {position + 1}: {found} "
                        f"(allowed: {settings.atol:g} + {settings.rtol:g}×|value|)")


def compare(source, executed: dict, config) -> list[dict]:
    """One entry per compared group of every page: {page, line, frameworks, status, detail}."""
    entries = []
    for page in source.pages:
        if not page.has_code or page.path not in executed:
            continue
        notebooks = executed[page.path]
        for run in runs(page):
            if run.kind != "code":
                continue
            outputs = {name: printed_lines([cell for _, cell in run.cells(notebooks, name)]) for name in notebooks}
            outputs = {name: lines for name, lines in outputs.items() if lines}
            if len(outputs) < 2:
                continue
            status, detail = compare_group(outputs, config.agreement)
            entries.append({"page": page.path.as_posix(), "line": run.line, "frameworks": list(outputs),
                            "status": status, "detail": detail})
    return entries
