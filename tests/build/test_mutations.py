"""The mutation suite on a fixture page in the chapter's style (tests/mutations.py): each realistic bug,
planted in one tab, makes the group that shows it disagree; the page as it is raises no disagreement.
The real chapter's suite is `scripts/benchmark.py --only agreement` (real kernels: minutes)."""
from __future__ import annotations

import pytest
from mutations import FIXTURE_MUTATIONS, FIXTURE_PAGE, group_line, plant

from bookbuild import errors
from bookbuild.read.book import read_book

FRAMEWORKS = ["mxnet", "pytorch", "tensorflow"]


@pytest.fixture(scope="session")
def optimizers(tmp_path_factory, fixture_kernels):
    """The fixture page built (check: executed and compared) once: its agreement entries."""
    from books import INDEX, REFERENCES, Book, made_once

    def build(folder):
        Book(folder, {"index.md": INDEX, "kaynakca.md": REFERENCES, "ch/page.md": FIXTURE_PAGE}).build("check")

    return Book(made_once(tmp_path_factory, "mutations", build))


def checked(book) -> list[dict]:
    """The agreement entries of `make check` (which fails on a disagreement, after writing its report)."""
    try:
        book.build("check")
    except errors.DisagreementError:
        pass
    except errors.BookErrors as failure:
        assert all(isinstance(e, errors.DisagreementError) for e in failure.errors), failure
    return book.report()["agreement"]


def test_the_page_as_it_is_raises_no_false_alarm(optimizers):
    entries = optimizers.report()["agreement"]
    groups = FIXTURE_PAGE.count("#@tab all") - 1 + 3        # the set-up is one group; each optimizer and the loss one
    assert len(entries) >= 4 and not [e for e in entries if e["status"] == "disagree"], entries
    assert sum(e["status"] == "agree" for e in entries) >= groups - 1


@pytest.mark.parametrize("mutation", FIXTURE_MUTATIONS, ids=[m.kind for m in FIXTURE_MUTATIONS])
def test_a_planted_bug_disagrees_at_its_group(mutation, optimizers, tmp_path):
    book = optimizers.copy(tmp_path / "book")
    planted = plant(FIXTURE_PAGE, mutation, FRAMEWORKS)
    book.write("ch/page.md", planted)
    entries = {e["line"]: e for e in checked(book)}
    page = next(p for p in read_book(book.config).pages if p.path.as_posix() == mutation.page)
    entry = entries[group_line(page, mutation.caught_at)]
    assert entry["status"] == "disagree", entry
    assert not [e for e in entries.values() if e["status"] == "disagree" and e["line"] < entry["line"]]


def test_a_mutation_that_does_not_fit_its_page_is_an_error():
    with pytest.raises(ValueError, match="not once in one"):
        plant(FIXTURE_PAGE, FIXTURE_MUTATIONS[0].__class__("x", "ch/page.md", "pytorch", "no such code", "", "x"),
              FRAMEWORKS)
