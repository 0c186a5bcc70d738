"""The execute stage's unit of work: one notebook of one page, to run in one framework's kernel."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import nbformat

from bookbuild.config import Framework
from bookbuild.report import NotebookReport
from bookbuild.source import Page, block_index


@dataclasses.dataclass
class Job:
    page: Page
    framework: Framework
    notebook: nbformat.NotebookNode   # filled with outputs in place
    cwd: Path                     # the kernel's working directory (notebooks.working_folder)
    kernel: str                   # the kernel to run it in (the framework's, or its reseeded twin)
    report: NotebookReport

    @property
    def uri(self) -> str:
        return f"{self.page.path.as_posix()}#{self.kernel}"

    def block(self, cell):
        return self.page.blocks[block_index(cell)]

    def line_of(self, cell, line_in_cell: int = 1) -> int:
        block = self.block(cell)
        lines = block.lines or (block.line,)
        return lines[min(max(line_in_cell, 1), len(lines)) - 1]


def code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]
