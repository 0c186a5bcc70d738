"""Stages 2 and 3, split and execute: one notebook per framework, run in its kernel, cached.

    split             a page -> one notebook per framework
    notebooks         every notebook executed, or taken from the cache (`execute`, `Executor`)
    jobs              one notebook of one page, for one framework's kernel
    scheduler         the jobs, `jobs` at once, fair across frameworks; interrupts; the kernels' sockets
    kernel_session    one notebook in one fresh kernel (nbclient), cell by cell, timed; or a reseeded run in
                      the kernel its page's book run left (the scheduler parks it)
    in_reused_kernel  what such a kernel runs to be as the reseeded twin's fresh kernel would be
    failures          nbclient's and jupyter_client's exceptions -> the BookError of their kind
    process_cleanup   stopping the kernels an interrupt left running
    jupyter_adapter   nbclient's and jupyter_client's internals, behind one door
    reaper            each kernel's launcher: what its cells start ends with it
    cache             jupyter-cache behind the one door the build uses
    shards            CI's split of the work into shares balanced by time
"""
