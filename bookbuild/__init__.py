"""The book build: d2lbook-dialect markdown in, a multi-framework Sphinx site out.

The stages, one module each, in the order they run:

    environments  venvs + Jupyter kernels from build.yml          (stage 0)
    dialect       read d2lbook markdown into blocks with tabs     (read)
    split         one notebook per framework                      (split)
    execute       run each in its own kernel, cached, in parallel (execute)
    merge         executed notebooks -> one notebook of tab groups (merge)
    tabs          Sphinx extension: tab groups -> sphinx-tabs     (render)

`pipeline` strings them together; `python -m bookbuild` is the command line.
"""
