"""Ground floor: a file written whole or not at all. Readers of the file (a build running beside this one,
Sphinx, a browser, the next build after an interruption) find the last good content or the new one, never
half of it: the content goes to `<name>.part` beside it, then one rename puts it in place."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path


def write_whole(path: Path, content: str | bytes) -> None:
    """`content` (text as UTF-8) into `path`; on an OSError nothing is left behind and the error is raised."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    temporary = path.with_name(path.name + ".part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):   # not ours to remove if it is a folder: the caller's message names it
            temporary.unlink(missing_ok=True)
        raise
