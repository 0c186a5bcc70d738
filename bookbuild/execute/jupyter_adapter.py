"""nbclient's and jupyter_client's internals that the execute stage leans on, behind one door.

Each is something those packages do not document as their interface; tests/build/test_adapters.py holds
each to its contract, so an upgrade that changes one fails there, by name, rather than as a kernel that
leaks or a build that hangs.

* `NotebookClient._cleanup_kernel` (nbclient/client.py): nbclient registers it with `atexit` when it starts
  a kernel. Once the build has shut that kernel down (or stopped it itself), it has nothing left to do but
  fail on a kernel manager that is gone, at the interpreter's exit: `forget_exit_cleanup`.
* `NotebookClient._async_cleanup_kernel` (nbclient/client.py): how nbclient shuts its kernel down and
  removes what it leaves (the manager's resources, the channels), which `async_execute` runs unless told to
  keep the kernel. The build keeps kernels for a page's reseeded run and shuts them down later with
  nbclient's own clean-up: `shut_down`.
* `KernelManager.provisioner.process` (jupyter_client/provisioning/local_provisioner.py): the kernel's
  `Popen`, read as the kernel starts (the provisioner drops it once the kernel has ended): the only
  handle on its process group when a shutdown did not end it, and the only sign that a kernel that never
  answered has ended: `kernel_process`.
* The ipc transport's socket paths: with `transport = "ipc"`, jupyter_client names each of a kernel's five
  sockets `<ip>-<port>` (jupyter_client/connect.py, `write_connection_file` and `cleanup_ipc_files`), so
  `ip` is a path prefix: `kernel_manager` puts it in the build's socket folder (`socket_prefix`), and the
  kernel's connection file (the trait `connection_file`) beside them.
* A kernel that ends before it answers: jupyter_client says so only in a RuntimeError's text ("Kernel
  died before replying to kernel_info"); `start_failure` asks the kernel's process instead.
* `KernelManager.format_kernel_cmd` (jupyter_client/manager.py), overridden to put the reaper in front of
  the kernel's command, and the traits `kernel_spec_manager`, `transport` and `ip`, given other defaults.
"""
from __future__ import annotations

import atexit
import functools
import os
import subprocess
import sys
from pathlib import Path

REAPER = Path(__file__).with_name("reaper.py")   # runs each kernel, and ends what its cells started with it
# AF_UNIX socket paths hold at most 107 bytes (Linux's sun_path, less its final NUL)
SOCKET_PATH_BYTES = 107
# a kernel's own prefix in the socket folder, and what jupyter_client appends to it ("-<port>")
SOCKET_SUFFIX_BYTES = len("/k00000000-65535")


class KernelExecutableMissing(Exception):
    """The kernelspec's command names a program that is not there (its environment was removed)."""

    def __init__(self, executable: str):
        super().__init__(executable)
        self.executable = executable


class KernelEndedAtStart(Exception):
    """The kernel's process ended before it answered."""


def socket_prefix(socket_dir: Path, number: int) -> str:
    """The `ip` of the `number`-th kernel of a build: jupyter_client appends each socket's port to it."""
    return os.path.join(socket_dir, f"k{number}")


@functools.cache
def kernel_manager(kernel_dirs: tuple[str, ...], socket_dir: str):
    """jupyter_client's kernel manager, finding kernels in `kernel_dirs` only (the build's own kernels,
    never the user's, and without changing JUPYTER_PATH for the whole process), talking over Unix sockets
    in `socket_dir`, running each kernel under the reaper."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    count = iter(range(1, 1 << 31))

    class BookKernelManager(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _kernel_spec_manager_default(self):
            return KernelSpecManager(kernel_dirs=list(kernel_dirs), parent=self)

        @default("transport")
        def _transport_default(self):
            # Unix sockets, not TCP ports: kernels started side by side by several builds (tests, CI)
            # cannot race for a port, and nothing listens on the network.
            return "ipc"

        launched: subprocess.Popen | None = None

        async def start_kernel(self, **kwargs):
            await super().start_kernel(**kwargs)
            self.launched = getattr(self.provisioner, "process", None)

        def format_kernel_cmd(self, extra_arguments=None):
            command = super().format_kernel_cmd(extra_arguments)
            if not os.path.isfile(command[0]) or not os.access(command[0], os.X_OK):
                raise KernelExecutableMissing(command[0])
            # Under the build's Python: the reaper is plain standard library.
            return [sys.executable, str(REAPER), *command]

        @default("ip")
        def _ip_default(self):
            # The sockets' path, absolute: the kernel runs in the page's folder, the build elsewhere.
            return socket_prefix(Path(socket_dir), next(count))

        @default("connection_file")
        def _connection_file_default(self):
            # Beside its sockets, not in the user's Jupyter runtime folder: the build removes both.
            return f"{self.ip}.json"

    return BookKernelManager


def forget_exit_cleanup(client) -> None:
    """Drop nbclient's exit-time cleanup of `client`'s kernel: the build shut it down, or stopped it."""
    atexit.unregister(client._cleanup_kernel)


async def shut_down(client) -> None:
    """Shut the kernel of `client` (a `notebook_client`) down, if it started one or was given one, as nbclient
    shuts its own down (gracefully: the trait `shutdown_kernel`), its channels stopped if it still has them."""
    if client.km is not None:
        await client._async_cleanup_kernel()


def notebook_client(nb, kernel_dirs: tuple[str, ...], socket_dir: Path, km=None, **options):
    """nbclient's NotebookClient for `nb`, with a kernel manager of `kernel_manager`, which it makes (or `km`, a
    running kernel's, which it uses), and which it keeps for `kernel_process` after it has dropped it."""
    from nbclient import NotebookClient

    class BookNotebookClient(NotebookClient):
        manager = km

        def create_kernel_manager(self):
            self.manager = super().create_kernel_manager()
            return self.manager

    return BookNotebookClient(nb, km=km, kernel_manager_class=kernel_manager(kernel_dirs, str(socket_dir)),
                              **options)


def kernel_process(client) -> subprocess.Popen | None:
    """The process the kernel manager of a `notebook_client` started (the reaper, leading the kernel's process
    group), or None if it started none."""
    return getattr(getattr(client, "manager", None), "launched", None)


def start_failure(err: Exception, client) -> Exception:
    """What `err`, raised before the kernel of `client` (a `notebook_client`) answered, is: a KernelEndedAtStart
    if it is jupyter_client's RuntimeError and the kernel's process has ended; else `err` itself."""
    process = kernel_process(client)
    if isinstance(err, RuntimeError) and process is not None and process.poll() is not None:
        return KernelEndedAtStart(f"{err} (exit code {process.returncode})")
    return err
