"""Stage 6b, PDF: the rendered LaTeX of one framework -> a PDF, with xelatex via latexmk.

The pipeline renders the same staged pages as for the HTML (nothing is executed
again) with Sphinx's LaTeX builder and ``d2l_tab`` set, so each PDF holds one
framework's code and outputs only. The TeX toolchain comes from Debian packages.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

# Program -> Debian package that provides it (fonts are checked by file).
TOOLS = {"xelatex": "texlive-xetex", "latexmk": "latexmk", "rsvg-convert": "librsvg2-bin",
         "pdftotext": "poppler-utils"}  # poppler: the PDF tests read the text layer with it
FONTS = {"/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf": "fonts-dejavu"}
EXTRA_PACKAGES = ["texlive-lang-european", "texlive-fonts-recommended"]  # Turkish hyphenation, fonts
PACKAGES = sorted({*TOOLS.values(), *FONTS.values(), *EXTRA_PACKAGES})
APT_COMMAND = "apt-get install -y --no-install-recommends " + " ".join(PACKAGES)


class ToolchainError(Exception):
    """The TeX toolchain is missing; the message gives the command that installs it."""


def check_toolchain() -> None:
    missing = [package for tool, package in TOOLS.items() if not shutil.which(tool)]
    missing += [package for font, package in FONTS.items() if not Path(font).is_file()]
    if missing:
        raise ToolchainError(f"the PDF needs {', '.join(sorted(set(missing)))}: run `sudo {APT_COMMAND}` "
                             "(make pdf does it when run as root)")


def compile_pdf(latex_dir: Path, tex_name: str, target: Path) -> Path:
    """latexmk -pdfxe in `latex_dir`; the PDF is copied to `target`. Errors quote the log's end."""
    log = latex_dir / "latexmk.log"
    with open(log, "w") as out:
        done = subprocess.run(["latexmk", "-pdfxe", "-interaction=nonstopmode", "-halt-on-error", tex_name],
                              cwd=latex_dir, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode:
        tail = "".join(log.read_text(errors="replace").splitlines(True)[-25:])
        raise RuntimeError(f"xelatex failed on {latex_dir / tex_name} (log: {log}):\n{tail}")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(latex_dir / Path(tex_name).with_suffix(".pdf"), target)
    return target
