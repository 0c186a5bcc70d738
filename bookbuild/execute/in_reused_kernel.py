"""What a book run's kernel that its page's reseeded run may reuse runs (kernel_session): `watch` before the book's
run, `renew` before the reseeded run.

`renew` leaves the kernel as a fresh kernel of the reseeded twin would be before its first cell, but for what the
book's run imported (the seconds a reseeded run saves): the user's names, `Out` and the execution count gone
(IPython's reset; the build's start-up code keeps its hidden names, and its formatter and AST hooks are the
shell's, which a reset keeps); the twin's environment variables (another D2L_SEED); the reseeded run's working
folder; every generator seeded anew as the twin's kernel_start.py seeds them, Python's `random` now and each of
D2L_SEED_CALLS now or, for a module not imported yet, as it is imported (the book seed's hooks still waiting for
theirs go); a d2l framework module already imported seeds again, as its import did.

A page's code may also set, for the rest of its kernel's life, what the tab check reads in the reseeded run:
printed numbers (NumPy's and PyTorch's print options) and figures (matplotlib's settings and backend, IPython's
figure formats). `watch` keeps each as the book's cell that first imported its module left it (a fresh kernel's
run of that cell leaves it so too), and `renew` puts it back: a later cell's `switch_backend('agg')` or
`set_printoptions(2)` does not reach the reseeded run.

Sent as text, run apart from the notebook's names; it imports nothing from the build.
"""
import gc
import os
import sys

KEPT = "d2l_first_settings"   # the shell's attribute: {setting: its value after the cell that imported its module}


def _figure_printers(shell):
    """{mime type: IPython's printer of matplotlib figures in it, or None}."""
    from matplotlib.figure import Figure

    printers = {}
    for mime, formatter in shell.display_formatter.formatters.items():
        try:
            printers[mime] = formatter.lookup_by_type(Figure)
        except KeyError:
            printers[mime] = None
    return printers


def _set_figure_printers(shell, printers) -> None:
    from matplotlib.figure import Figure

    for mime, printer in printers.items():
        formatter = shell.display_formatter.formatters[mime]
        if printer is None:
            formatter.pop(Figure, None)
        else:
            formatter.for_type(Figure, printer)


def _set_backend(shell, pyplot, backend: str) -> None:
    """What IPython does when pyplot is first imported with `backend` (matplotlib_inline.backend_inline)."""
    pyplot.close("all")
    if pyplot.get_backend() == backend:
        return
    pyplot.switch_backend(backend)
    if backend in ("inline", "module://matplotlib_inline.backend_inline"):
        from IPython.core.pylabtools import activate_matplotlib
        from matplotlib_inline.backend_inline import configure_inline_support

        activate_matplotlib(backend)
        configure_inline_support(shell, backend)


# {setting: (the module whose import makes it, read(shell, module), write(shell, module, value))}
SETTINGS = {
    "numpy print options": ("numpy", lambda shell, m: m.get_printoptions(),
                            lambda shell, m, value: m.set_printoptions(**value)),
    "torch print options": ("torch", lambda shell, m: dict(vars(m._tensor_str.PRINT_OPTS)),
                            lambda shell, m, value: m.set_printoptions(**value)),
    "matplotlib settings": ("matplotlib", lambda shell, m: m.rcParams.copy(),
                            lambda shell, m, value: m.rcParams.update(
                                {k: v for k, v in value.items() if k != "backend"})),
    "matplotlib backend": ("matplotlib.pyplot", lambda shell, m: m.get_backend(), _set_backend),
    "figure formats": ("matplotlib.pyplot", lambda shell, m: _figure_printers(shell),
                       lambda shell, m, value: _set_figure_printers(shell, value)),
}


def _record(*result) -> None:
    from IPython import get_ipython

    shell = get_ipython()
    kept = shell.__dict__.setdefault(KEPT, {})
    for name, (module, read, _write) in SETTINGS.items():
        if name not in kept and module in sys.modules:
            try:
                kept[name] = read(shell, sys.modules[module])
            except Exception:  # noqa: BLE001 - another version keeps it elsewhere: `renew` leaves it as it is
                kept[name] = None


def watch() -> None:
    """Keep each setting as the cell that imported its module leaves it (after each cell the page runs)."""
    from IPython import get_ipython

    get_ipython().events.register("post_run_cell", _record)


def renew(variables: dict, cwd: str, kernel_start: str, d2l_modules: list) -> None:
    from IPython import get_ipython

    shell = get_ipython()
    for callback in [c for c in shell.events.callbacks["post_run_cell"] if getattr(c, "__module__", "") == __name__]:
        shell.events.unregister("post_run_cell", callback)   # `watch`'s
    hidden = dict(shell.user_ns_hidden)
    shell.reset(new_session=True)
    for name, value in hidden.items():
        if name not in shell.user_ns:   # not IPython's own (a reset makes those anew): the start-up code's
            shell.user_ns[name] = shell.user_ns_hidden[name] = value
    gc.collect()   # what the book's run left is freed before the reseeded run allocates its own
    for name, value in shell.__dict__.get(KEPT, {}).items():
        if value is not None:
            module, _, write = SETTINGS[name]
            write(shell, sys.modules[module], value)
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


def source(call: str, **arguments) -> str:
    """The code to send the kernel: this file, run apart from the notebook's names, calling `call(**arguments)`."""
    from pathlib import Path

    text = Path(__file__).read_text(encoding="utf-8")
    return (f"exec(compile({text!r}, 'bookbuild/execute/in_reused_kernel.py', 'exec'), "
            f"{{'__name__': 'bookbuild_in_reused_kernel', 'CALL': {(call, arguments)!r}}})")


if __name__ == "bookbuild_in_reused_kernel":
    globals()[CALL[0]](**CALL[1])  # type: ignore[name-defined]  # noqa: F821 - given by `source`
