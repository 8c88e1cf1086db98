"""Supervision of env workers: ML-Agents' restart budget, and the error raised once it is spent."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from pathlib import Path

from rldojo.errors import RldojoError
from rldojo.settings import EnvironmentSettings

__all__ = ["EnvFailedInProcess", "EnvWorkerFailed", "RestartBudget", "WorkerFailure", "last_lines"]

PLAYER_LOG_LINES = 5


class EnvWorkerFailed(RldojoError):
    """An env worker failed more often than ``max_lifetime_restarts`` / ``restarts_rate_limit_*`` allow."""


class EnvFailedInProcess(RldojoError):
    """An env stepped in the trainer's process (``in_process``) raised: nothing can restart it there."""


class WorkerFailure(Exception):
    """An env worker (or a Ray env runner: ``kind``) did not answer properly; ``cause`` says how. Its
    supervisor restarts it within the :class:`RestartBudget`."""

    def __init__(self, worker_id: int, cause: str, kind: str = "env worker"):
        super().__init__(f"{kind} {worker_id}: {cause}")
        self.worker_id = worker_id
        self.cause = cause


class RestartBudget:
    """Per worker: at most ``max_lifetime_restarts`` restarts in all and ``restarts_rate_limit_n`` within
    any ``restarts_rate_limit_period_s`` seconds (-1: no limit), as in ML-Agents."""

    def __init__(self, settings: EnvironmentSettings):
        self.max_lifetime_restarts = settings.max_lifetime_restarts
        self.rate_limit_n = settings.restarts_rate_limit_n
        self.rate_limit_period_s = settings.restarts_rate_limit_period_s
        self._restarts: defaultdict[int, deque[float]] = defaultdict(deque)
        self._lifetime: defaultdict[int, int] = defaultdict(int)

    def spend(self, worker_id: int, now: float | None = None) -> str | None:
        """Count one restart of ``worker_id``; the reason it is not allowed, or None when it is."""
        now = time.monotonic() if now is None else now
        recent = self._restarts[worker_id]
        while recent and self.rate_limit_period_s != -1 and now - recent[0] > self.rate_limit_period_s:
            recent.popleft()
        if self.max_lifetime_restarts != -1 and self._lifetime[worker_id] >= self.max_lifetime_restarts:
            lifetime = self._lifetime[worker_id]
            return f"{lifetime} restart(s) already, max_lifetime_restarts is {self.max_lifetime_restarts}"
        if self.rate_limit_n != -1 and len(recent) >= self.rate_limit_n:
            return (
                f"{len(recent)} restart(s) in the last {self.rate_limit_period_s} s already, "
                f"restarts_rate_limit_n is {self.rate_limit_n} (restarts_rate_limit_period_s)"
            )
        recent.append(now)
        self._lifetime[worker_id] += 1
        return None


def last_lines(path: Path, count: int = PLAYER_LOG_LINES) -> list[str]:
    """The last ``count`` non-empty lines of the text file at ``path`` (none when it does not exist)."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    return [line for line in lines if line.strip()][-count:]
