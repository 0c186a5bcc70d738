"""The execute stage's last resort: stopping kernels an interrupt left running, and keeping their
shutdown quiet. (What a kernel's cells start ends with the kernel: reaper.py.)"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time

from bookbuild.execute import jupyter_adapter


def wait_ignoring_interrupts(thread: threading.Thread, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while thread.is_alive() and time.monotonic() < deadline:
        try:
            thread.join(0.1)
        except KeyboardInterrupt:
            pass  # already stopping


def stop_kernel(client) -> None:
    """Stop a kernel nbclient has not shut down (its process group: SIGTERM, then SIGKILL), and drop
    nbclient's own exit-time cleanup of it, which would only report the kernel gone."""
    jupyter_adapter.forget_exit_cleanup(client)
    process = jupyter_adapter.kernel_process(client)
    if process is None or process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 3), (signal.SIGKILL, 3)):
        try:
            os.killpg(process.pid, sig)
            process.wait(wait)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def quiet_shutdown_logs() -> None:
    """Kernels stopped mid-cell make nbclient and asyncio log their cleanup: not news to a reader."""
    for name in ("traitlets", "asyncio", "nbclient", "jupyter_client"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
