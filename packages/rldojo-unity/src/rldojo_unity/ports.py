"""Port leasing: each environment gets a free loopback port, and two runs on one host never collide.

mlagents-envs uses ``base_port + worker_id`` and fails when that port is taken. A lease here is a
port that is free to bind on 127.0.0.1 *and* held by an exclusive ``flock`` on a lock file in a
per-user folder (mode 0700, lock files opened without following symlinks), so concurrent rldojo
processes coordinate without a race between "check" and "bind"; other users' ports fail the bind test.
The lock is released when the lease is released or the process dies.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
import stat
import tempfile
from pathlib import Path

from mlagents_envs.exception import UnityWorkerInUseException

from rldojo_unity.errors import ConfigError

__all__ = ["DEFAULT_BASE_PORT", "PortInUseError", "PortLease", "lease_port"]

DEFAULT_BASE_PORT = 5005
PORT_SEARCH_SPAN = 2000
LOCK_DIR_ENV = "RLDOJO_PORT_LOCK_DIR"


class PortInUseError(ConfigError, UnityWorkerInUseException):
    """The requested port is taken (by another rldojo run or any other program).

    A :class:`~rldojo_unity.errors.ConfigError` (exit 2: pick another ``--base-port``), and still
    mlagents' ``UnityWorkerInUseException`` for code that catches that.
    """

    def __init__(self, port: int) -> None:
        Exception.__init__(
            self,
            f"port {port} is already in use on this host; pass another --base-port, "
            "or leave --base-port unset so rldojo leases a free port itself",
        )
        self.port = port


def _lock_dir() -> Path:
    """This user's lock folder: ``$RLDOJO_PORT_LOCK_DIR`` or ``<tmp>/rldojo-ports-<uid>``, mode 0700.

    A folder that is a symlink, belongs to another user or is writable by others is refused: lock files
    in it could be planted or swapped by someone else.
    """
    default = Path(tempfile.gettempdir()) / f"rldojo-ports-{os.getuid()}"
    directory = Path(os.environ.get(LOCK_DIR_ENV) or default)
    with contextlib.suppress(FileExistsError):
        directory.mkdir(mode=0o700, parents=True)
    info = os.lstat(directory)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
        raise PermissionError(
            errno.EPERM,
            "the port-lock folder must be a folder of this user that others cannot write; remove it "
            f"or set {LOCK_DIR_ENV}",
            str(directory),
        )
    return directory


def _is_bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class PortLease:
    """An exclusively held port; release it (or use ``with``) when its server has closed."""

    def __init__(self, port: int, lock_fd: int) -> None:
        self.port = port
        self._lock_fd: int | None = lock_fd

    def release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor drops the flock
            self._lock_fd = None

    @property
    def held(self) -> bool:
        return self._lock_fd is not None

    def __enter__(self) -> PortLease:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"PortLease(port={self.port}, held={self.held})"


def _try_lease(port: int) -> PortLease | None:
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(_lock_dir() / f"{port}.lock", flags, 0o600)
    except OSError as error:
        if error.errno == errno.ELOOP:  # a symlink planted in place of the lock file: never followed
            return None
        raise
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    if not _is_bindable(port):
        os.close(fd)
        return None
    return PortLease(port, fd)


def lease_port(port: int | None = None, *, start: int = DEFAULT_BASE_PORT) -> PortLease:
    """Lease ``port`` exactly (raising :class:`PortInUseError` if taken), or the first free port >= start."""
    if port is not None:
        lease = _try_lease(port)
        if lease is None:
            raise PortInUseError(port)
        return lease
    for candidate in range(start, min(start + PORT_SEARCH_SPAN, 65536)):
        lease = _try_lease(candidate)
        if lease is not None:
            return lease
    raise PortInUseError(start)
