"""The book build: d2lbook-dialect markdown in, a multi-framework Sphinx site (and PDFs) out.

One package per stage, in the order they run (`pipeline` only chains them):

    environments  venvs, npm packages and Jupyter kernels from build.yml   (stage 0, `make env`)
    read/         the book's markdown -> pages of blocks with tabs; every source check
    execute/      split into one notebook per framework; run in kernels, cached, JOBS at once
    agreement/    do the tabs of each group compute the same?
    merge/        executed notebooks -> staged pages of tab groups, readers' downloads
    render/       Sphinx over the staged pages -> the site, or the PDFs; its Sphinx extensions
    serve/        `make serve`: the live preview

The ground floor every stage stands on: `config` (build.yml, every setting declared once),
`errors` (one family, each error at its source line), `report` (report.json and the build
lock), `log`, `whole` and `kept` (files written whole; what a stage keeps for the next build);
the values the stages hand on: `source` (the read stage's pages), `executed`
(the execute stage's notebooks), `tab_marks` (the contract between merge and render, and the
merge stage's `Manifest`); what several stages read: `marks` (d2lbook's patterns), `published`
(the published edition's tables, the bibliography), `in_kernel` (what every kernel runs first);
stage 0's `environments` and `kernel_start`. A stage imports the ground floor and its own
package, never another stage (tests/build/test_pipeline.py); `pipeline` chains them, and
`python -m bookbuild` is the command line.
"""
