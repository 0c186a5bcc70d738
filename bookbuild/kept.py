"""Ground floor: what a stage keeps from one build for the next, so that after an edit it does again only what
the edit changed (the read stage's pages, the merge stage's staged pages).

What is kept is keyed by everything it was made from; `code()` is part of every key: the build's own code and
Python's version, so that an edit of bookbuild/ makes everything afresh. A kept file is written whole (whole.py),
and one that cannot be read back (cut short, another Python's, gone) is none: everything is made afresh.
"""
from __future__ import annotations

import functools
import hashlib
import pickle
import sys
from pathlib import Path

from bookbuild.whole import write_whole

BOOKBUILD = Path(__file__).resolve().parent


@functools.cache
def code() -> str:
    """A digest of the build's code (every module of bookbuild/) and of Python's version."""
    digest = hashlib.sha256(sys.version.encode())
    for path in sorted(BOOKBUILD.rglob("*.py")):
        digest.update(path.relative_to(BOOKBUILD).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def load(path: Path | None) -> dict:
    """What was kept in `path` by this code, or {}."""
    if path is None:
        return {}
    try:
        digest, kept = pickle.loads(path.read_bytes())
    except Exception:  # noqa: BLE001 - whatever a file cut short or written by other code unpickles into: none
        return {}
    return kept if digest == code() and isinstance(kept, dict) else {}


def save(path: Path, kept: dict) -> None:
    """Keep `kept` in `path`, whole (an OSError is the caller's to report)."""
    write_whole(path, pickle.dumps((code(), kept), pickle.HIGHEST_PROTOCOL))


def digest(*parts: str | bytes) -> str:
    """A key made of `parts` (text or bytes), each told apart from the next by its length."""
    found = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        found.update(len(data).to_bytes(8, "little") + data)
    return found.hexdigest()
