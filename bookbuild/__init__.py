"""The book build: d2lbook-dialect markdown in, a multi-framework Sphinx site (and PDFs) out.

The stages, one module each, in the order they run:

    environments  venvs + Jupyter kernels from build.yml          (stage 0)
    dialect       read d2lbook markdown into blocks with tabs     (read)
    split         one notebook per framework                      (split)
    execute       run each in its own kernel, cached, in parallel (execute)
    merge         executed notebooks -> one notebook of tab groups (merge)
    tabs          Sphinx extension: tab groups -> sphinx-tabs     (render)
    pdf           LaTeX of one framework -> PDF via xelatex       (render, `make pdf`)

`pipeline` strings them together; `python -m bookbuild` is the command line;
`config` reads build.yml. Sphinx helpers of the render stage: `offline_math`
(MathJax served by the site), `turkish` (docutils labels in Turkish).
"""
