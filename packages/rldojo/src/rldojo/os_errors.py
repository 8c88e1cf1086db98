"""One line for an ``OSError`` the user can cause: which path, what went wrong, what to do."""

from __future__ import annotations

import errno

from rldojo.errors import ConfigError

__all__ = ["describe_os_error"]

EXIT_FAILURE, EXIT_BAD_INPUT = 1, ConfigError.exit_code

_ADVICE: dict[int, tuple[int, str]] = {
    errno.ENOSPC: (EXIT_FAILURE, "the disk is full; free some space (or use --results-dir on another disk), "
                   "then continue with --resume"),
    errno.EDQUOT: (EXIT_FAILURE, "the disk quota is used up; free some space, then continue with --resume"),
    errno.EACCES: (EXIT_BAD_INPUT, "permission denied; choose a path you may write (e.g. --results-dir) "
                   "or change its permissions"),
    errno.EPERM: (EXIT_BAD_INPUT, "operation not permitted; choose another path or change its permissions"),
    errno.EROFS: (EXIT_BAD_INPUT, "the file system is read-only; choose a path on a writable disk"),
    errno.ENOENT: (EXIT_BAD_INPUT, "no such file or folder; check the path"),
    errno.ENOTDIR: (EXIT_BAD_INPUT, "a part of the path is a file, not a folder; check the path"),
    errno.EISDIR: (EXIT_BAD_INPUT, "it is a folder, not a file; give the path of a file"),
    errno.ENAMETOOLONG: (EXIT_BAD_INPUT, "the path is too long; use a shorter name"),
}  # fmt: skip


def describe_os_error(error: OSError) -> tuple[int, str]:
    """Exit code (2 for a bad path given by the user, 1 for a failure) and one line naming the path."""
    code, advice = _ADVICE.get(error.errno or 0, (EXIT_FAILURE, error.strerror or type(error).__name__))
    path = error.filename if error.filename is not None else "a file"
    return code, f"cannot write or read {path}: {advice}"
