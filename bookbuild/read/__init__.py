"""Stage 1, read: the book's d2lbook Markdown -> `book.BookSource`, every source check done
before any kernel starts.

    book        the whole book: the toc, its pages, every check (`read_book`)
    dialect     one page: d2lbook's marks -> blocks, each knowing its tabs
    sidecars    the files beside a page that are read with it
    references  the published edition's labels and the bibliography
"""
