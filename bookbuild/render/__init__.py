"""Stage 5, render: Sphinx over the staged pages -> the site, or the PDFs.

    site        Sphinx run into a new folder that replaces the last good site (`render`)
    pdf         the PDFs: the same pages through LaTeX, one per framework
The Sphinx extensions, each small (registered in conf.py):
    tabs, page_tools, numbering, previews, figures, interactive, typeset_math, turkish
Other packages' internals they lean on, each behind one door (held by tests/build/test_adapters.py):
    sphinx_adapter, mystnb_adapter, sphinx_tabs_adapter, bibtex_adapter, furo
"""
