"""Stage 1, read: the book's d2lbook Markdown -> `book.BookSource`, every source check done
before any kernel starts.

    book        the whole book: the toc, its pages, every check (`read_book`)
    dialect     one page: d2lbook's marks -> blocks, each knowing its tabs; it reads with
      marks       the dialect's patterns, and a page's headings and tables as CommonMark reads them
      slides      slide marks: [**kept**], (~~left out~~), as d2lbook's book (not its slides) has them
      cells       a code cell's marks: #@tab, %%tab, tab.selected branches, #@save, #@hide*
      myst        a prose block -> MyST: labels, roles, images, tables, eval_rst, toc
    sidecars    the files beside a page that are read with it
    kept        the pages (and drawings) the last read kept: only the files that changed are read again
    references  the published edition's labels and the bibliography
"""
