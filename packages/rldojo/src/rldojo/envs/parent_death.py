"""Env workers that end with their trainer: the parent-death signal of Linux (``prctl``), via ctypes.

A worker's parent is the ``forkserver`` process, which exits as soon as the trainer is gone (even after
``kill -9``); the kernel then sends the worker SIGTERM, which ends it through its ``finally`` blocks, so
its env (and a launched player) is closed too. Elsewhere this is a no-op.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from types import FrameType

__all__ = ["end_with_parent"]

PR_SET_PDEATHSIG = 1


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def end_with_parent() -> None:
    """Ask the kernel for SIGTERM when this process's parent dies, and exit cleanly on SIGTERM."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        raise SystemExit(128 + signal.SIGTERM)
