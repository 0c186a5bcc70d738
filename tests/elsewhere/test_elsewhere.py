"""A reader's downloaded notebook runs elsewhere: in a fresh Python 3.11 environment that has only
Jupyter's machinery, its first cell installs the framework at the book's pinned versions from the
package index and d2l from the wheel it carries, with no site served anywhere (the book built by a
plain `make html`); then every cell runs.

Slow (it installs a framework): CI runs it after `make test` (`make test-elsewhere`)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from books import copy_book  # noqa: E402

from bookbuild.config import ROOT, Paths  # noqa: E402
from bookbuild.merge import downloads  # noqa: E402

JUPYTER = ["nbclient==0.11.0", "ipykernel==7.4.0"]   # what runs a notebook, as a reader's Jupyter does
FRAMEWORK = "pytorch"   # the one whose wheel the package index gives without a download of gigabytes


def test_a_downloaded_notebook_runs_in_a_fresh_environment(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    copy_book(book)
    if Paths.under(ROOT).cache.is_dir():   # what the checkout executed already need not run again
        shutil.copytree(Paths.under(ROOT).cache, Paths.under(book).cache)
    done = subprocess.run([sys.executable, "-m", "bookbuild", "--config", str(book / "build.yml"), "html"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    page = next(p for p in json.loads((book / "_build" / "report.json").read_text())["notebooks"])["page"]
    relative = downloads.download_path(Path(page), FRAMEWORK).as_posix()

    fresh = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", str(fresh)], check=True)
    subprocess.run([fresh / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    *JUPYTER], check=True)
    notebook = tmp_path / "downloaded.ipynb"       # as a reader saves it: nothing serves the site
    shutil.copy(book / "_build" / "html" / relative, notebook)
    run = subprocess.run([fresh / "bin" / "python", "-c", (
        "import sys, nbformat, nbclient\n"
        "nb = nbformat.read(sys.argv[1], 4)\n"
        "nbclient.NotebookClient(nb, kernel_name='python3', timeout=1200).execute()\n"
        "nbformat.write(nb, sys.argv[1])\n"), notebook], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    ran = json.loads(notebook.read_text())
    code = [c for c in ran["cells"] if c["cell_type"] == "code"]
    assert downloads.INSTALL_TAG in code[0]["metadata"]["tags"]
    assert all(o["output_type"] != "error" for c in code for o in c.get("outputs", []))
    site = json.loads((book / "_build" / "html" / relative).read_text())
    figures = [sum("image/svg+xml" in o.get("data", {}) or "image/png" in o.get("data", {})
                   for o in c.get("outputs", []))
               for c in [c for c in site["cells"] if c["cell_type"] == "code"][1:]]
    assert [sum("image/svg+xml" in o.get("data", {}) or "image/png" in o.get("data", {})
                for o in c.get("outputs", [])) for c in code[1:]] == figures      # every figure drawn again
