"""The error family: only BookErrors are a user's to fix; anything else collected is a bug, raised as it is."""
import pytest

from bookbuild.errors import BookError, BookErrors, DataError, SourceError, raise_all


def test_several_book_errors_are_reported_together():
    with pytest.raises(BookErrors) as raised:
        raise_all([SourceError("a", path="p.md", line=1), DataError("b")])
    assert [e.message for e in raised.value.errors] == ["a", "b"]


def test_an_error_of_another_type_is_a_bug_not_a_user_error():
    bug = KeyError("framework")
    with pytest.raises(KeyError) as raised:
        raise_all([SourceError("a", path="p.md", line=1), bug])
    assert raised.value is bug and not isinstance(raised.value, BookError)
