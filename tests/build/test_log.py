"""The build's messages: levels from the command line, and kinds of warning that build.yml silences or
makes fatal (as Sphinx's suppress_warnings and -W)."""
import pytest

LONG_OUTPUT = "# Sayfa\n\n```{.python .input}\n#@tab all\nprint('x' * 5000)\n```\n"
CELL_LINE = 5


@pytest.fixture
def book(make_book):
    return make_book(LONG_OUTPUT)


def with_limits(book, warnings: str = "") -> None:
    book.write("build.yml", (book.root / "build.yml").read_text() + "limits:\n  output_bytes: 1000\n" + warnings)


def test_a_warning_says_its_kind_at_its_line(book):
    with_limits(book)
    done = book.main("html")
    assert done.returncode == 0, done.stderr
    assert f"warning: [mxnet] ch/page.md:{CELL_LINE}: 4001 bytes of output cut" in done.stdout
    assert "[output-cut]" in done.stdout


def test_a_silenced_kind_is_not_shown(book):
    with_limits(book, "warnings:\n  silence: [output-cut]\n")
    done = book.main("html")
    assert done.returncode == 0, done.stderr
    assert "output cut" not in done.stdout


def test_a_fatal_kind_fails_the_build_after_it_is_done(book):
    with_limits(book, "warnings:\n  fatal: [output-cut]\n")
    done = book.main("html")
    assert done.returncode == 2
    assert "bytes of output cut" in done.stderr and "warnings.fatal" in done.stderr
    assert (book.paths.site("html") / "ch" / "page.html").is_file()   # the build did all it could


def test_an_unknown_kind_is_named_with_the_known_ones(book):
    book.write("build.yml", (book.root / "build.yml").read_text() + "warnings:\n  fatal: [output-cutt]\n")
    done = book.main("html")
    assert done.returncode == 2
    assert "warnings.fatal: unknown kind 'output-cutt'" in done.stderr and "output-cut" in done.stderr


def test_quiet_shows_warnings_and_errors_only(book):
    with_limits(book)
    done = book.main("-q", "html")
    assert done.returncode == 0, done.stderr
    assert "output cut" in done.stdout and "[render]" not in done.stdout and "Build report" not in done.stdout
