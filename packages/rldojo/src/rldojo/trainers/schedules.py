"""Hyperparameter schedules over ``max_steps`` (ML-Agents' ``DecayedValue``)."""

from __future__ import annotations

from dataclasses import dataclass

from rldojo.settings import ScheduleType

__all__ = ["DecayedValue"]


@dataclass(frozen=True)
class DecayedValue:
    """CONSTANT: ``initial``. LINEAR: falls from ``initial`` to ``minimum`` at ``max_step``, then stays."""

    schedule: ScheduleType
    initial: float
    minimum: float
    max_step: int

    def __call__(self, step: int) -> float:
        if self.schedule == ScheduleType.CONSTANT or self.max_step <= 0:
            return self.initial
        progress = min(step, self.max_step) / self.max_step
        return (self.initial - self.minimum) * (1.0 - progress) + self.minimum
