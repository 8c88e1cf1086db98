"""How many env worker processes this machine can hold: bounded by its cores and its free memory."""

from __future__ import annotations

import os

from rldojo.errors import ConfigError

__all__ = ["WORKERS_PER_CORE", "WORKER_MEMORY_BYTES", "check_num_envs", "max_env_workers"]

WORKERS_PER_CORE = 8
"""Env workers mostly wait on their env; more than this many per core only thrash."""
WORKER_MEMORY_BYTES = 256 << 20
"""What one worker process (Python, numpy, mlagents-envs and a small env) needs at least."""


def _available_memory() -> int | None:
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):  # not a POSIX system that reports it
        return None


def max_env_workers() -> int:
    """The most env workers this machine can run now (at least one)."""
    limit = WORKERS_PER_CORE * (os.cpu_count() or 1)
    memory = _available_memory()
    if memory is not None:
        limit = min(limit, memory // WORKER_MEMORY_BYTES)
    return max(1, limit)


def check_num_envs(num_envs: int) -> None:
    """ConfigError when ``num_envs`` workers would exceed :func:`max_env_workers`, before any is started."""
    limit = max_env_workers()
    if num_envs > limit:
        raise ConfigError(
            f"--num-envs {num_envs} is more env workers than this machine can run "
            f"({os.cpu_count()} cores, room for {limit}); use --num-envs {limit} or fewer"
        )
