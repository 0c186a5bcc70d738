"""A printed line's numbers, read where they are.

* Inside the frameworks' reprs: `tf.Tensor(… numpy=…)`, `tensor(…)`, `array(…)`, `<NDArray …>`
  print the same values in other words; only the values are read.
* Words that describe a value are text, not numbers: `shape=(2, 3)`, `dtype=float32`,
  `device='cpu'`, `@cpu(0)`, `ctx=gpu(1)`, `<NDArray 2x3 …>`.
* True and False are values (1 and 0); nan and inf are values, which agree only with themselves.
* Never compared (None): addresses and id() values, which say where an object lies in memory;
  timings in any unit the book prints (a number followed by a unit of `agreement: timing_units`,
  and every number after a throughput unit that no number precedes: "in Gigaflops: 1.2, 3.4").
"""
from __future__ import annotations

import functools
import re

VALUE = re.compile(r"(?<![\w.])(?:(?P<number>[-+−]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+−]?(?:nan|inf))"
                   r"|(?P<truth>True|False))(?![\w.])")
DESCRIPTION = re.compile(r"""(?x)
    \b(?:shape|dtype|device|ctx|requires_grad|grad_fn|name)=
        (?:\([^)]*\)|<[^>]*>|'[^']*'|"[^"]*"|[\w.:]+(?:\(\d*\))?)        # a repr's description of its value
  | <NDArray\s[^>]*>                                                      # MXNet's old NDArray footer
  | @?\b(?:cpu|gpu|cuda)(?:\(\d*\)|:\d+)                                  # a device
  | \bid\([^)]*\):?\s*\S+                                                 # an id() value, labelled so
  | \b0x[0-9a-fA-F]+\b                                                    # an address
""")
ADDRESS_DIGITS = 12   # a bare integer this long is an id() (CPython's ids are addresses, ~1e14)


@functools.lru_cache(maxsize=8)
def _unit_patterns(units: tuple[str, ...]) -> tuple[re.Pattern, re.Pattern | None]:
    """(a unit right after a number, a throughput unit on its own), made once per set of units: a page
    prints thousands of lines."""
    unit = "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True))
    # Only throughput units head a list of numbers ("in Gigaflops: ..."); a lone "s" or "ms" does not.
    rates = "|".join(re.escape(u) for u in units if re.search(r"flops|/", u, re.I))
    return (re.compile(rf"\s*(?:{unit})(?![\w/])"),
            re.compile(rf"(?<![\w/])(?:{rates})(?![\w/])") if rates else None)


def numbers(line: str, units: tuple[str, ...]) -> list[float | None]:
    """The line's values in order; None for one that is never compared (a timing, an address)."""
    line = DESCRIPTION.sub(lambda found: " " * len(found.group()), line)
    after_number, rate = _unit_patterns(tuple(units))
    found: list[float | None] = []
    timing_from = None
    for match in rate.finditer(line) if rate else ():
        if not re.search(r"\d\.?\s*$", line[:match.start()]):
            timing_from = match.end()
            break
    for match in VALUE.finditer(line):
        if match.group("truth"):
            found.append(1.0 if match.group() == "True" else 0.0)
            continue
        text = match.group().replace("−", "-")
        timing = after_number.match(line, match.end()) or (timing_from is not None and match.start() >= timing_from)
        address = re.fullmatch(rf"\d{{{ADDRESS_DIGITS},}}", text)
        found.append(None if timing or address else float(text))
    return found
