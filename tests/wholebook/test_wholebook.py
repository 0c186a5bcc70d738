"""The whole Turkish book as `make html BOOK=../shared/book/d2l-tr EXECUTE=none` and `make pdf` (same
arguments) rendered it (`make test-wholebook` runs both, then these tests; CI runs it after `make test-pdf`).

Everything expected is derived from the corpus and the published edition's tables (../shared/data), not
typed in: every section is a page; no slide mark and no slide-only text is on a page or in a PDF; no
reference is left unresolved; the section numbers are the published ones."""
from __future__ import annotations

import csv
import html
import re
import subprocess
import sys
from pathlib import Path

import pytest
from docutils import nodes

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from books import SHARED, Reader, launch_browser, served  # noqa: E402

from bookbuild import config as book_config  # noqa: E402
from bookbuild.config import Paths  # noqa: E402

CORPUS = SHARED / "book" / "d2l-tr"
CONFIG = book_config.load(CORPUS)
PATHS = Paths.of(CONFIG)
TOC = re.compile(r"^```toc\n(.*?)^```", re.M | re.S)
# A mark as the text would show it: not a call's keyword arguments (`trainer_fn(**hyperparams)`, a docstring's).
SLIDE_MARK = re.compile(r"(?<!\w)[\[(](?:\*\*|~~)|(?:\*\*|~~)[\])]")
SLIDE_ONLY = re.compile(r"\[~~(.*?)~~\]|\(~~(.*?)~~\)", re.S)
UNCLOSED_ROLE = re.compile(r":(?:numref|eqref|ref|cite):`[^`\n]*$", re.M)   # a typo of the source: text there too
REFERENCE = re.compile(r":(numref|ref|eqref):`([^`\n]+)`")
FENCED = re.compile(r"^```.*?^```", re.M | re.S)
RAW_ROLES = re.compile(r":(?:numref|eqref|ref|cite|citet|citep|label|eqlabel|bibliography):`|\{(?:numref|eq|cite:p)\}`")


def toc_pages(page: Path = Path("index.md")) -> list[Path]:
    """Every page the corpus's toc fences reach, from its index (read here with a regular expression)."""
    found = [page]
    for fence in TOC.findall((CORPUS / page).read_text(encoding="utf-8")):
        for entry in fence.splitlines():
            if entry.strip() and not entry.strip().startswith(":"):
                found += toc_pages((page.parent / entry.strip()).with_suffix(".md"))
    return found


def text_of(page_html: str) -> str:
    """What a reader reads on a page: its article, without tags, scripts and the typeset math's SVG."""
    article = re.search(r"<article[^>]*>(.*)</article>", page_html, re.S)
    # Code (`list??` asks IPython for help), API signatures (`**kwargs`) are not prose.
    body = re.sub(r"<(script|style|svg|mjx-assistive-mml|pre|dt|code)\b.*?</\1>", " ",
                  article.group(1) if article else page_html, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def slide_only_texts() -> dict[Path, list[str]]:
    """The corpus's slide-only texts (`[~~…~~]`, `(~~…~~)`) long enough to be recognised, by page."""
    found = {}
    for page in toc_pages():
        texts = [" ".join((a or b).split()) for a, b in SLIDE_ONLY.findall((CORPUS / page).read_text(encoding="utf-8"))]
        found[page] = [t for t in texts if len(t) >= 30 and not re.search(r"[`$\\*:]", t)]   # not a common phrase
    return found


def code_that_reads_as(pattern: re.Pattern) -> set[str]:
    """Inline code of the corpus that, with the word before it, reads as `pattern` in a PDF's text, which has no
    backticks (ndarray.md's "ve `**`)" reads "ve **)", lookup-api.md's "ve `??`" reads "ve ??")."""
    found = set()
    for page in toc_pages():
        prose = FENCED.sub(" ", (CORPUS / page).read_text(encoding="utf-8"))
        for code in re.finditer(r"`([^`\n]+)`", prose):
            before = re.search(r"(?:\S+\s+)?\S*$", prose[:code.start()]).group()
            written = " ".join((before + code.group() + re.match(r"\S*", prose[code.end():]).group()).split())
            read = written.replace("`", "")
            if pattern.search(code.group(1)) or pattern.search(read) and not pattern.search(written):
                found.add(read)
    return found


def without(texts: set[str], text: str) -> str:
    return re.sub("|".join(map(re.escape, texts)), " ", text) if texts else text


@pytest.fixture(scope="module")
def site() -> dict[Path, str]:
    folder = PATHS.site("html")
    if not (folder / "index.html").is_file():
        pytest.fail(f"no site in {folder}: run `make test-wholebook` (or `make html BOOK={CORPUS} EXECUTE=none`)",
                    pytrace=False)
    return {page: (folder / page).with_suffix(".html").read_text(encoding="utf-8")
            for page in toc_pages() if (folder / page).with_suffix(".html").is_file()}


def test_every_section_is_a_page(site):
    missing = [page for page in toc_pages() if page not in site]
    assert not missing and len(site) == len(toc_pages())


def test_no_slide_mark_no_slide_only_text_no_unresolved_reference_on_any_page(site):
    slide_only = slide_only_texts()
    assert sum(map(len, slide_only.values())) > 0   # the corpus has some: the check can fail
    problems = []
    for page, page_html in site.items():
        text = text_of(page_html)
        problems += [f"{page}: slide mark {mark}" for mark in SLIDE_MARK.findall(text)]
        problems += [f"{page}: slide-only text {t!r}" for t in slide_only.get(page, []) if t in text]
        problems += [f"{page}: unresolved reference ??" for _ in re.findall(r"\?\?", text)]
        unclosed = len(UNCLOSED_ROLE.findall((CORPUS / page).read_text(encoding="utf-8")))
        if len(RAW_ROLES.findall(text)) > unclosed:
            problems += [f"{page}: raw role {m}" for m in RAW_ROLES.findall(text)]
    assert not problems, "\n".join(problems[:40])


def test_every_page_runs_its_scripts_and_fits_a_phone(site):
    """Every page in Chromium at a phone's width: no script error, no failed request, nothing wider than the
    screen (a wide code box or formula scrolls inside its own box). A page whose tabs are all text tabs once
    stopped its scripts here."""
    from playwright.sync_api import sync_playwright

    problems = []
    with served(PATHS.site("html")) as url, sync_playwright() as playwright:
        browser = launch_browser(playwright)
        one = Reader(browser, "phone")
        for page in site:
            shown = one.open(f"{url}/{page.with_suffix('.html').as_posix()}")
            wider = shown.evaluate("document.documentElement.scrollWidth - innerWidth")
            problems += [f"{page}: {error}" for error in one.errors] + ([f"{page}: {wider} px too wide"] * (wider > 0))
            one.errors.clear()
        browser.close()
    assert not problems, "\n".join(problems[:40])


def references_in(page: Path) -> list[tuple[str, str]]:
    """The (role, label) of each reference a page's prose makes: not in its code, not in its slide-only text."""
    text = SLIDE_ONLY.sub(" ", FENCED.sub(" ", (CORPUS / page).read_text(encoding="utf-8")))
    return [(role, label.strip()) for role, label in REFERENCE.findall(text)]


def test_every_reference_links_to_what_it_names(site):
    """Each :numref:, :ref: and :eqref: of a page's source is a link to its label's anchor, on this site or the
    published one (an equation label an earlier page defined too is this page's, renamed for it)."""
    missing, checked = [], 0
    for page, page_html in site.items():
        for role, label in references_in(page):
            prefix = "equation-" if role == "eqref" else ""
            renamed = f"{label}--{page.with_suffix('').as_posix().replace('/', '--')}"
            anchors = "|".join(re.escape(prefix + nodes.make_id(name)) for name in (label, renamed))
            checked += 1
            if not re.search(rf'<a [^>]*href="[^"]*#(?:{anchors})"', page_html):
                missing.append(f"{page}: :{role}:`{label}` links nowhere")
    assert checked > 500 and not missing, "\n".join(missing[:40])


def published(table: str) -> list[dict]:
    with open(SHARED / "data" / table, encoding="utf-8") as rows:
        return list(csv.DictReader((row for row in rows if not row.startswith("#")), delimiter="\t"))


def test_section_numbers_are_the_published_ones(site):
    """Each page's title, and each labelled section's heading, carries the number the published edition gives
    it (d2l-tr-pages.tsv, d2l-tr-labels.tsv)."""
    wrong, checked = [], 0
    for row in published("d2l-tr-pages.tsv"):
        page = Path(row["page"]).with_suffix(".md")
        title = re.search(r"<h1[^>]*>(.*?)</h1>", site.get(page, ""), re.S)
        number = re.search(r'<span class="section-number">([\d.]+?)\.?\s*</span>', title.group(1)) if title else None
        shown = number.group(1) if number else ""
        checked += 1
        if shown != row["number"]:
            wrong.append(f"{page}: {shown or 'no number'}, published {row['number'] or 'no number'}")
    for row in (r for r in published("d2l-tr-labels.tsv") if r["kind"] == "section" and r["number"]):
        page_html = site.get(Path(row["page"]).with_suffix(".md"), "")
        label_id = re.escape(nodes.make_id(row["label"]))
        anchor = re.search(rf'id="{label_id}".*?<span class="section-number">([\d.]+?)\.?\s*</span>', page_html, re.S)
        checked += 1
        if not anchor or anchor.group(1) != row["number"]:
            wrong.append(f"{row['label']}: {anchor.group(1) if anchor else 'not found'}, published {row['number']}")
    assert checked > 300 and not wrong, "\n".join(wrong[:40])


def test_the_pdfs_have_no_slide_mark_and_no_unresolved_reference():
    pdfs = {fw.name: PATHS.pdf / f"{CONFIG.book.short_name}-{fw.name}.pdf" for fw in CONFIG.frameworks}
    missing = [str(p) for p in pdfs.values() if not p.is_file()]
    if missing:
        pytest.fail(f"no {', '.join(missing)}: run `make test-wholebook`", pytrace=False)
    slide_only = [t for texts in slide_only_texts().values() for t in texts]
    unclosed = sum(len(UNCLOSED_ROLE.findall((CORPUS / page).read_text(encoding="utf-8"))) for page in toc_pages())
    for name, pdf in pdfs.items():
        text = " ".join(subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                                       check=True).stdout.split())
        assert len(text) > 1_000_000, name   # the whole book
        assert SLIDE_MARK.findall(without(code_that_reads_as(SLIDE_MARK), text)) == [], name
        assert [t for t in slide_only if t in text] == [], name
        unresolved = re.compile(r"\?\?")
        assert unresolved.findall(without(code_that_reads_as(unresolved), text)) == [], name
        # A role its source leaves unclosed (a typo: rnn-scratch.md, naive-bayes.md) is text in the book too.
        assert len(RAW_ROLES.findall(text)) <= unclosed, (name, RAW_ROLES.findall(text))


def test_latex_resolves_every_reference_and_defines_every_label_once():
    """The last LaTeX run of each PDF: no reference or citation left undefined, no label written twice (a
    section's `(label)=` target is its own label, not a second one beside it)."""
    logs = {fw.name: PATHS.out / "latex" / fw.name / f"{CONFIG.book.short_name}-{fw.name}.log"
            for fw in CONFIG.frameworks}
    missing = [str(p) for p in logs.values() if not p.is_file()]
    if missing:
        pytest.fail(f"no {', '.join(missing)}: run `make test-wholebook`", pytrace=False)
    for name, log in logs.items():
        problems = re.findall(r"^LaTeX Warning: (?:Reference|Citation|Label) .*(?:undefined|multiply defined).*$",
                              log.read_text(errors="replace"), re.M)
        assert problems == [], (name, problems[:10])
