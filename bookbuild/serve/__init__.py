"""`make serve`: the live preview.

    preview     watch the sources, rebuild, serve and reload
"""
