"""Stages 2 and 3, split and execute: one notebook per framework, run in its kernel, cached.

    split       a page -> one notebook per framework
    notebooks   every notebook executed, or taken from the cache (`execute`)
    kernels     nbclient kernels, `jobs` at once, and what a failure means
    cache       jupyter-cache behind the one door the build uses
    shards      CI's split of the work into shares balanced by time
"""
