"""The stages hand typed values on (pipeline.py): what a build publishes follows from what it was handed,
never from what an earlier, different command left in _build/."""
from __future__ import annotations

import re

PAGE = """# Sayfa

Metin.

```{.python .input}
#@tab all
print(6 * 7)
```
"""

PDF_LINK = re.compile(r'href="[^"]*_pdf/[^"]+\.pdf"')


def test_a_pdf_is_linked_only_by_a_site_of_the_pages_it_was_built_from(make_book):
    book = make_book(PAGE)
    book.build("pdf")
    built = sorted(book.paths.pdf.glob("*.pdf"))
    assert len(built) == len(book.config.frameworks)
    assert len(set(PDF_LINK.findall(book.html("ch/page")))) == len(built)
    book.build()                                               # the same pages: the PDFs are theirs
    assert len(set(PDF_LINK.findall(book.html("ch/page")))) == len(built)
    book.write("ch/page.md", PAGE.replace("Metin.", "Başka bir metin."))
    book.build()                                               # other pages: the PDFs are not theirs
    assert not PDF_LINK.findall(book.html("ch/page")) and not PDF_LINK.findall(book.html("index"))
    assert not (book.paths.site("html") / "_pdf").exists()
    assert all(pdf.is_file() for pdf in built)                 # left where they were, for a `make pdf` to replace
