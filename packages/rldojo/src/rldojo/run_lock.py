"""An exclusive lock on a run folder for the life of a run, so two trainers never write one run.

The lock is an ``flock`` on ``<results_dir>/.<run_id>.lock`` (beside the run folder, so ``--force`` can
delete the folder while holding it). The kernel drops the lock when its holder dies, even by ``kill -9``,
so a lock left by a dead process is taken over; the file records the holder's process id for messages.
The lock file is removed when the run ends (a results folder made only for it too); a process that locked
a file which was removed meanwhile retries on the new one.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from rldojo.errors import ConfigError

__all__ = ["lock_file_of", "run_lock"]

logger = logging.getLogger(__name__)


def lock_file_of(run_folder: Path) -> Path:
    """The lock file of ``run_folder``: ``.<run_id>.lock`` in the results folder."""
    return run_folder.parent / f".{run_folder.name}.lock"


def _holder(fd: int) -> int | None:
    """The process id recorded in an open lock file, if any."""
    text = os.pread(fd, 64, 0).decode(errors="replace").strip()
    return int(text) if text.isdigit() else None


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _open_locked(path: Path) -> int:
    """Open and ``flock`` the lock file at ``path``; retry when another process replaced it meanwhile."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            who = f"process {holder}" if holder is not None else "another process"
            raise ConfigError(
                f"run '{path.name[1:].removesuffix('.lock')}' in {path.parent} is in use by {who}; "
                "wait for it to end (or stop it), or choose another --run-id"
            ) from None
        try:
            if os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino:
                return fd  # still the file at ``path``: it was not unlinked by a releasing holder
        except FileNotFoundError:
            pass
        os.close(fd)


@contextlib.contextmanager
def run_lock(run_folder: Path) -> Iterator[None]:
    """Hold the lock of ``run_folder`` inside the ``with`` block; ConfigError when another process has it."""
    path = lock_file_of(run_folder)
    results_existed = path.parent.is_dir()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = _open_locked(path)
    try:
        previous = _holder(fd)
        if previous is not None and previous != os.getpid() and not _is_alive(previous):
            logger.info("took over the lock of run '%s' from ended process %d", run_folder.name, previous)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        path.unlink(missing_ok=True)  # before unlocking, so no one locks a file about to vanish
        if not results_existed:
            with contextlib.suppress(OSError):
                path.parent.rmdir()  # only when the launch left it empty
        os.close(fd)  # drops the flock
