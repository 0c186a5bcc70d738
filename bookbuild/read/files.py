"""Stage 1, read: every file a page names, confined to the book and checked before any kernel starts.

A page can name files in more ways than its images (`![...](...)`, checked in book.py): directives in
`eval_rst` fences and MyST directive fences take a path argument (`include`, `literalinclude`, `image`,
`figure`) or a `:file:` option (`raw`, `csv-table`, ...), and the `:download:` / `{download}` role
names a file readers take away. Sphinx would read any of them from anywhere on the machine, and
publish it (`raw :file:` inlines it, as HTML; `:download:` copies it). Here each one must name a file
inside the book's folder (links followed: a link out of the book is outside it), relative to the
page's own folder (`/name`: to the book's folder, as Sphinx reads it), and must exist; an image must
be an image. `:url:` (fetched while rendering) is refused: the build reads only the book.

The merge stage stages every file found here beside its page, so Sphinx finds it where the page
says and publishes what the pages use.
"""
from __future__ import annotations

import logging
import posixpath
import re
from collections.abc import Sequence
from pathlib import Path
from xml.parsers import expat

from bookbuild.errors import SourceError, Where
from bookbuild.log import warn
from bookbuild.source import Named

logger = logging.getLogger(__name__)

PATH_ARGUMENT = {"include", "literalinclude", "image", "figure"}    # the directive's argument is a path
# docutils' own directives read `:file:` against the page's folder, and a leading / as the machine's root
DOCUTILS_FILE = {"raw", "csv-table"}
IMAGES = {"image", "figure"}
SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"%PDF-")   # and RIFF....WEBP

RST_DIRECTIVE = re.compile(r"^\s*\.\. +([\w-]+)::\s*(.*?)\s*$")
MYST_DIRECTIVE = re.compile(r"^\s*(`{3,}|~{3,}|:{3,})\{([\w-]+)\}\s*(.*?)\s*$")
FENCE = re.compile(r"^\s*(`{3,}|~{3,}|:{3,})(.*)$")
OPTION = re.compile(r"^\s*:?(file|url):\s*(\S.*?)\s*$")
DOWNLOAD = re.compile(r"(?::download:|\{download\})`([^`]+)`")


def inside(root: Path, path: Path, where: Where, what: str) -> None:
    """A path the source names must stay inside the book's folder (links followed): the build reads nothing
    else."""
    resolved = (Path(root) / path).resolve()
    if Path(path).is_absolute() or not resolved.is_relative_to(Path(root).resolve()):
        raise SourceError(f"{what} resolves to {resolved}, outside the book's folder {root}", **where,
                          fix="name a file inside the book's folder, relative to the page")


def named_files(root: Path, page) -> list[Named]:
    """Every file the page's prose names in a directive or a download role, each checked: inside the book,
    present, and an image where an image is meant. Raises at the first that is not."""
    found = []
    for name, target, line, from_docutils in _mentions(page):
        where: Where = {"path": page.path, "line": line}
        what = f"{name} {target}"
        path = _confined(root, page.path.parent, name, target, where, what, from_machine_root=from_docutils)
        if not (root / path).is_file():
            if name == "raw :file:":   # d2lbook's Sphinx only complains (d2l-tr's index.md names a frontpage.html
                warn(logger, "file-missing", f"{page.path}:{line}: {what}: no such file (looked for {path}); "
                     "the directive is left out")   # it lacks); the merge stage leaves the directive out
                continue
            raise SourceError(f"{what}: no such file (looked for {path})", **where,
                              fix="add the file, or correct its path (relative to the page)")
        if name in IMAGES:
            check_image(root, path, where, what)
        found.append(Named(path, line, name))
        if name == "include":
            found += _included(root, path, where, f"{what}: ", seen={page.path})
    return found


def _confined(root: Path, folder: Path, name: str, target: str, where: Where, what: str,
              from_machine_root: bool) -> Path:
    """The path (relative to the book's folder) of a file a directive or role names, relative to `folder`
    (`/name`: to the book's folder, as Sphinx reads it; `from_machine_root`: docutils' own directives read it
    from the machine's root, so that reading must stay inside the book too). Raises where it would leave the
    book, or where it is a URL to fetch."""
    if name.endswith(":url:"):
        raise SourceError(f"{what}: the build fetches nothing while rendering", **where,
                          fix="put the file in the book's folder and name it with :file:, relative to the page")
    if target.startswith("/") and from_machine_root:
        inside(root, Path(target), where, what)
    relative = target.lstrip("/") if target.startswith("/") else posixpath.join(folder.as_posix(), target)
    inside(root, Path(relative), where, what)
    return Path(posixpath.normpath(relative))


def _included(root: Path, path: Path, where: Where, via: str, seen: set[Path]) -> list[Named]:
    """The files a file that an `include` inserts names in its own directives (a `raw :file:` there
    publishes as one in the page would), relative to its own folder as docutils reads them; each is
    reported at the page's line of the `include`."""
    if path in seen:
        return []
    try:
        lines = (root / path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []       # not text: Sphinx inserts nothing it could name a file with
    found = []
    for name, target, _, _ in _mentions_in(lines, [where["line"] or 0] * len(lines), markup=True):
        what = f"{via}{name} {target}"
        named = _confined(root, path.parent, name, target, where, what, from_machine_root=True)
        if (root / named).is_file():
            found.append(Named(named, where["line"] or 0, name))
            if name == "include":
                found += _included(root, named, where, f"{what}: ", seen | {path})
    return found


def check_image(root: Path, path: Path, where: Where, what: str, svg_root=None) -> None:
    """An image must be one: a PNG, JPEG, GIF, WebP or PDF by its first bytes, or an SVG drawing (a text file
    named x.png would be a broken figure on the page, and fail the PDF far from its line). `svg_root`: what
    reads the root element of an SVG file's bytes (default `root_element`; the read stage's Kept remembers)."""
    file = Path(root) / path
    if path.suffix.lower() == ".svg":
        try:
            tag = (svg_root or root_element)(file.read_bytes())
        except (expat.ExpatError, OSError, UnicodeDecodeError) as err:
            tag = f"not XML ({err})"
        if tag.rsplit("}", 1)[-1] != "svg":
            raise SourceError(f"{what} is not an SVG drawing: {tag}", **where, fix="put the drawing itself there")
        return
    with open(file, "rb") as data:
        head = data.read(16)
    if not any(head.startswith(signature) for signature in SIGNATURES) and head[8:12] != b"WEBP":
        raise SourceError(f"{what} is not an image: its first bytes are {head[:8]!r}", **where,
                          fix="put the image itself there (PNG, JPEG, GIF, WebP, PDF or SVG)")


def root_element(data: bytes) -> str:
    """The name of the root element of an XML file's bytes, well-formed throughout. Expat's, without the tree
    ElementTree builds (most of the read stage's time for a book of large SVG drawings)."""
    parser, names = expat.ParserCreate(namespace_separator="}"), []

    def first(name, attributes) -> None:
        names.append(name)
        parser.StartElementHandler = None   # (a call for each element costs more than the parse)

    parser.StartElementHandler = first
    parser.Parse(data, True)   # (ParseFile reads in small pieces: slower than ElementTree)
    return names[0]


def _mentions(page):
    """(directive or role, the path it names, the line, whether docutils reads it) in the page's prose,
    outside code fences."""
    for block in (b for b in page.blocks if b.kind == "markdown"):
        lines = block.source.splitlines()
        yield from _mentions_in(lines, range(block.line, block.line + len(lines)), markup=False)


def _mentions_in(lines: list[str], numbers: Sequence[int], markup: bool):
    """`_mentions` of some lines (each reported at its number in `numbers`): Markdown, or (`markup`) text
    that is all markup, as a file an `include` inserts is (reStructuredText in an eval_rst fence, MyST in
    a MyST one)."""
    fences: list[tuple[str, bool]] = [("`" * 99, True)] if markup else []   # (marker, holds markup, not code)
    directive = None                             # the directive whose options may follow
    for number, line in zip(numbers, lines, strict=True):
        if fences and _closes(fences[-1][0], line):
            fences.pop()
            directive = None
            continue
        if fences and not fences[-1][1]:
            continue                              # code: not read by Sphinx as markup
        myst, fence = MYST_DIRECTIVE.match(line), FENCE.match(line)
        rst = RST_DIRECTIVE.match(line) if fences else None
        if myst:
            fences.append((myst.group(1), True))
            directive = myst.group(2)
            if directive in PATH_ARGUMENT and myst.group(3):
                yield directive, myst.group(3), number, False
            continue
        if fence and fence.group(2).strip() != "eval_rst":
            fences.append((fence.group(1), False))
            continue
        if fence:
            fences.append((fence.group(1), True))
            continue
        if rst:
            directive = rst.group(1)
            if directive in PATH_ARGUMENT and rst.group(2) and not rst.group(2).startswith("<"):
                yield directive, rst.group(2), number, False   # Sphinx's own: / is the book's folder
            continue
        option = OPTION.match(line)
        if directive and option:
            yield f"{directive} :{option.group(1)}:", option.group(2), number, directive in DOCUTILS_FILE
            continue
        if not line.strip() or not line.startswith((" ", "\t", ":")):
            directive = None
        for target in DOWNLOAD.findall(line):
            titled = re.search(r"<([^<>]+)>\s*$", target)     # `title <path>`
            target = titled.group(1) if titled else target
            if "://" not in target:
                yield "download", target.strip(), number, False


def _closes(marker: str, line: str) -> bool:
    return re.match(rf"^\s*{re.escape(marker[0])}{{{len(marker)},}}\s*$", line) is not None
