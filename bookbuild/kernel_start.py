"""The program of every build kernel (environments.write_kernel): seeds, then IPython's kernel.

It runs in the framework's environment, not the build's, so it imports nothing but the standard
library and ipykernel. With D2L_SEED set, every page starts from the same random numbers whether
or not it imports d2l: Python's `random` is seeded once the kernel is up, and each generator named in D2L_SEED_CALLS
(NumPy's, and the framework's own: build.yml's `seed`) as its module is first imported. That is
the same as seeding them here, since no generator can draw before its module is imported, and
start-up stays as fast as before: importing torch or tensorflow here would cost every kernel
seconds, on pages that never use them too.

On the ground floor, beside environments.py (stage 0), not in execute/: it is part of every
kernelspec that `environments.write_kernel` writes (KERNEL_LAUNCH) and of each framework's
fingerprint, made with the environments before any build runs; the execute stage only names
kernels. (execute/reaper.py, by contrast, is the execute stage's own: it runs the kernels the
build starts, whichever kernelspec they come from.)
"""
import importlib.abc
import importlib.util
import os
import random
import sys


class AfterImport(importlib.abc.MetaPathFinder):
    """Calls `then(module)` right after module `name` is first imported, whoever imports it."""

    def __init__(self, name, then):
        self.name, self.then = name, then

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)                    # once; and the real finders find it below
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            execute = spec.loader.exec_module

            def exec_module(module):
                execute(module)
                self.then(module)
            spec.loader.exec_module = exec_module
        return spec


def seed_when_imported(call: str, seed: int) -> None:
    """`call` is `module.path.to.function`, e.g. torch.manual_seed: `function(seed)` once `module` is imported."""
    name, _, attributes = call.partition(".")

    def then(module):
        function = module
        for attribute in attributes.split("."):
            function = getattr(function, attribute)
        function(seed)
    if name in sys.modules:
        then(sys.modules[name])
    else:
        sys.meta_path.insert(0, AfterImport(name, then))


def seed_from_environment() -> None:
    if os.environ.get("D2L_SEED", "").strip():
        seed = int(os.environ["D2L_SEED"])
        random.seed(seed)
        for call in os.environ.get("D2L_SEED_CALLS", "").split():
            seed_when_imported(call, seed)


if __name__ == "__main__":
    del sys.path[0]   # this file's folder: the kernel's code must not import the build's modules
    # ipykernel imports debugpy at start whatever the kernelspec's "debugger" says (a third of a kernel's
    # start-up CPU), and treats a debugpy that cannot be imported as one not installed; the build never debugs.
    sys.modules["debugpy"] = None  # type: ignore[assignment]  # None there is how Python blocks an import
    from ipykernel import kernelapp
    app = kernelapp.IPKernelApp.instance()   # what kernelapp.launch_new_instance() does, seeding in between
    app.initialize()
    seed_from_environment()   # after the kernel's own start, which draws from `random` (IOPub's free port)
    app.start()
