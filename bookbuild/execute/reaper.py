"""The execute stage's kernel launcher: `python reaper.py <kernel command ...>` runs the kernel as its child,
and when the kernel ends, ends every process the kernel's cells started.

It is the kernel's "child subreaper" (Linux prctl): a process a cell starts, and any process that one starts,
however it detaches (a new session, a double fork, an environment of its own), is reparented to this
launcher when its parent exits, never to init. So "the kernel's processes" are exactly this launcher's
descendants, found by their parents (/proc), whatever they carry. When the kernel exits (shut down by
the build, or killed), they are stopped (SIGTERM, then SIGKILL), and the launcher exits with the kernel's
code. If the build itself dies, the launcher stops the kernel and them.

Signals jupyter_client sends to the kernel's process group reach this launcher too: an interrupt (SIGINT)
is the kernel's alone; on SIGTERM it waits for the kernel, which got it as well.

What a killed kernel leaves on disk goes too: its Unix sockets (the ipc transport's `<ip>-<port>` files its
connection file names) and the connection file itself; and, when the build is gone, the build's socket
folder, once empty (while the build runs, it removes that folder itself).

Standard library only, no import of the build: it runs under whatever Python starts the kernel.
"""
import ctypes
import json
import os
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
GRACE_SECONDS = 2


def descendants() -> list[int]:
    """Every process whose chain of parents leads to this one."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if fields[0] != "Z":
                children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [os.getpid()]
    while todo:
        for pid in children.get(todo.pop(), []):
            found.append(pid)
            todo.append(pid)
    return found


def reap() -> None:
    """Collect the exit of every child that ended (orphans reparented here included)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def stop_all() -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        found = descendants()
        for pid in found:
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + GRACE_SECONDS
        while found and time.monotonic() < deadline:
            reap()
            found = descendants()
            time.sleep(0.05)
        if not found:
            break
    reap()


CHANNELS = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")


def kernel_files(command: list[str]) -> list[str]:
    """The connection file a kernel command names (`-f <file>`) and, for the ipc transport, the sockets it
    lists: what a kernel leaves on disk."""
    try:
        path = command[command.index("-f") + 1]
        with open(path, encoding="utf-8") as file:
            info = json.load(file)
    except (ValueError, IndexError, OSError):
        return []
    sockets = [f"{info['ip']}-{info[name]}" for name in CHANNELS if name in info] \
        if info.get("transport") == "ipc" else []
    return [path, *sockets]


def remove(files: list[str], folder_too: bool) -> None:
    for path in files:
        try:
            os.remove(path)
        except OSError:
            pass   # removed already, by the build's own shutdown
    if folder_too and files:
        try:
            os.rmdir(os.path.dirname(files[0]))
        except OSError:
            pass   # another kernel's files are still there, or it is gone


def main(command: list[str]) -> int:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    parent = os.getppid()
    files = kernel_files(command)
    # Handlers, not SIG_IGN: the kernel, exec'd below, starts with the default dispositions.
    signal.signal(signal.SIGINT, lambda *_: None)      # the kernel's interrupt, not ours
    signal.signal(signal.SIGTERM, lambda *_: None)     # the kernel got it too: wait for it to end
    kernel = subprocess.Popen(command)
    while True:
        try:
            code = kernel.wait(0.5)
            break
        except subprocess.TimeoutExpired:
            if os.getppid() != parent:                 # the build is gone: so goes its kernel
                kernel.terminate()
    stop_all()
    remove(files, folder_too=os.getppid() != parent)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
