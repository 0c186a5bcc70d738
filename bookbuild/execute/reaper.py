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

Standard library only, no import of the build: it runs under whatever Python starts the kernel.
"""
import ctypes
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


def main(command: list[str]) -> int:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    parent = os.getppid()
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
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
