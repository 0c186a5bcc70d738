"""Stage 5, render: Sphinx over the staged pages -> the site, or the PDFs.

    site        Sphinx run into a new folder that replaces the last good site (`render`)
    pdf         the PDFs: the same pages through LaTeX, one per framework
The Sphinx extensions, each small (registered in conf.py):
    tabs, page_tools, numbering, previews, figures, interactive, typeset_math, turkish
"""
