"""Hyperparameter schedules over ``max_steps`` (ML-Agents' ``DecayedValue``)."""

from __future__ import annotations

from dataclasses import dataclass

from rldojo.settings import ScheduleType

__all__ = ["DecayedValue"]


@dataclass(frozen=True)
class DecayedValue:
    """CONSTANT: ``initial``. LINEAR: falls from ``initial`` to ``minimum`` at ``max_step``, then stays.

    ``minimum`` is a floor, never a target to rise to: an ``initial`` below it stays constant, so ``beta: 0``
    keeps the entropy bonus off. (ML-Agents' linear schedule rises from such a value to the floor, e.g. beta
    from 0 to 1e-5 at ``max_steps``.)
    """

    schedule: ScheduleType
    initial: float
    minimum: float
    max_step: int

    def __call__(self, step: int) -> float:
        if self.schedule == ScheduleType.CONSTANT or self.max_step <= 0:
            return self.initial
        progress = min(step, self.max_step) / self.max_step
        floor = min(self.minimum, self.initial)
        return (self.initial - floor) * (1.0 - progress) + floor
