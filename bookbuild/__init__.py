"""The book build: d2lbook-dialect markdown in, a multi-framework Sphinx site (and PDFs) out.

The stages, one module each, in the order they run (`pipeline` only chains them):

    environments  venvs, npm packages and Jupyter kernels from build.yml   (stage 0, `make env`)
    dialect, read read the book: d2lbook markdown into blocks with tabs,   (read)
                  and every source check before any kernel starts
    split         one notebook per framework                               (split)
    execute       run them in their kernels, cached, JOBS at once          (execute)
    agreement     do the tabs of each group print the same?                (agree)
    merge         executed notebooks -> one notebook of tab groups, staged (merge)
    render        Sphinx over the staged pages -> the site; pdf: the PDFs  (render)

Sphinx extensions of the render stage, each small: `tabs` (tab groups -> sphinx-tabs),
`page_tools` (framework chooser, downloads, PDFs, readers' notebooks), `references`
(the published edition's labels, Turkish citations), `figures` (alt text, sizes),
`typeset_math` (numbered equations, math typeset at build time), `interactive`
(figures computed in the browser, placed from a file beside a page), `turkish`
(docutils labels, search, the browser's catalog). `tab_marks` is the contract between
merge and render.

Around them: `config` (build.yml, every setting declared once), `errors` (one family,
each error at its source line), `report` (report.json), `serve` (`make serve`), and
`python -m bookbuild`, the command line.
"""
