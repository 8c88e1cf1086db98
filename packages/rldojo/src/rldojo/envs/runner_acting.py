"""Env runners that act themselves (``ray.acting: runner``): each holds a CPU copy of every behavior's policy,
steps its env and sends trajectory pieces; the learner sends new policies after its updates.

This module is the learner's side of that contract (rldojo-ray implements it); it imports no torch.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlagents_envs.base_env import ActionTuple

from rldojo.envs.manager import EnvManager

if TYPE_CHECKING:
    from rldojo.policy import Policy
    from rldojo.stats import StatsSummary
    from rldojo.trajectory import Trajectory

__all__ = ["ActedPiece", "ActingPolicy", "RunnerActingManager", "RunnerReport"]


@dataclass
class ActingPolicy:
    """A behavior's policy as the runners act with it: ``version`` counts the learner's updates."""

    version: int
    policy: Policy[Any]
    time_horizon: int


@dataclass
class ActedPiece:
    """A trajectory piece acted by a runner, with the oldest policy version any of its steps was acted by."""

    behavior_id: str
    policy_version: int
    trajectory: Trajectory


@dataclass
class RunnerReport:
    """What one runner sends after acting ``time_horizon`` env steps: its pieces, and the stats its agent
    processing and env recorded (by category, the behavior name)."""

    runner: int
    pieces: list[ActedPiece] = field(default_factory=list)
    stats: dict[str, dict[str, StatsSummary]] = field(default_factory=dict)


class RunnerActingManager(EnvManager):
    """Env runners that act with the policies :meth:`publish` sent last. :meth:`reset` (the first time, or
    for a curriculum) resets every runner's env and reports its behaviors; the learner sends no actions."""

    @abc.abstractmethod
    def publish(self, policies: Mapping[str, ActingPolicy]) -> None:
        """The policies (by behavior id) that runners act with from their next piece on."""

    @abc.abstractmethod
    def collect(self, wait_for_all: bool) -> list[RunnerReport]:
        """Set every idle runner acting, then wait for the pieces of one runner (or of every runner, each
        of them acting with the latest policies: synchronous); a runner that fails is replaced and its piece
        in flight is lost."""

    def start_step(self, actions: Mapping[int, Mapping[str, ActionTuple]]) -> None:
        raise TypeError("env runners that act themselves take no actions from the learner")

    def finish_step(self) -> list[Any]:
        raise TypeError("env runners that act themselves take no actions from the learner")
