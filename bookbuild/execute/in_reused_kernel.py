"""What a kernel that ran a page's book run runs before it runs the page's reseeded run (kernel_session).

It leaves the kernel as a fresh kernel of the reseeded twin would be before its first cell, but for what the
book's run imported (the seconds a reseeded run saves): the user's names, `Out` and the execution count gone
(IPython's reset; the build's start-up code keeps its hidden names, and its formatter and AST hooks are the
shell's, which a reset keeps); the twin's environment variables (another D2L_SEED); the reseeded run's working
folder; and every generator seeded anew as the twin's kernel_start.py seeds them, Python's `random` now and
each of D2L_SEED_CALLS now or, for a module not imported yet, as it is imported (the book seed's hooks still
waiting for theirs go). A d2l framework module already imported seeds again, as its import did.

Sent as text, run apart from the notebook's names; it imports nothing from the build.
"""
import gc
import os
import sys


def renew(variables: dict, cwd: str, kernel_start: str, d2l_modules: list) -> None:
    from IPython import get_ipython

    shell = get_ipython()
    hidden = dict(shell.user_ns_hidden)
    shell.reset(new_session=True)
    for name, value in hidden.items():
        if name not in shell.user_ns:   # not IPython's own (a reset makes those anew): the start-up code's
            shell.user_ns[name] = shell.user_ns_hidden[name] = value
    gc.collect()   # what the book's run left is freed before the reseeded run allocates its own
    os.environ.update(variables)
    os.chdir(cwd)
    start: dict = {"__name__": "bookbuild_kernel_start"}
    exec(compile(kernel_start, "bookbuild/kernel_start.py", "exec"), start)
    waiting = start["AfterImport"].__name__
    sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder).__name__ != waiting]
    start["seed_from_environment"]()
    seed = os.environ.get("D2L_SEED", "").strip()
    for name in d2l_modules:
        if seed and name in sys.modules and callable(getattr(sys.modules[name], "seed", None)):
            sys.modules[name].seed(int(seed))


def source(**arguments) -> str:
    """The code to send the kernel: this file, run with `arguments` apart from the notebook's names."""
    from pathlib import Path

    text = Path(__file__).read_text(encoding="utf-8")
    return (f"exec(compile({text!r}, 'bookbuild/execute/in_reused_kernel.py', 'exec'), "
            f"{{'__name__': 'bookbuild_in_reused_kernel', 'ARGUMENTS': {arguments!r}}})")


if __name__ == "bookbuild_in_reused_kernel":
    renew(**ARGUMENTS)  # type: ignore[name-defined]  # noqa: F821 - given by `source`
