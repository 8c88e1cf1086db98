"""Self-play (ML-Agents' ghost trainer, ``self_play:``): the learning team plays past snapshots of the policy.

Teams come from ``?team=N`` in behavior ids. One team learns at a time: its agents act with their trainers'
policies and their trajectories train them. Every other team acts with a *ghost*, a copy of its behavior's
policy loaded with a snapshot, and its trajectories are dropped. For each behavior with ``self_play``:

- every ``save_steps`` learning steps the policy's weights join a window of the last ``window`` snapshots;
- every ``swap_steps`` ghost steps (steps of dropped trajectories) its ghosts load another opponent: the
  latest policy with probability ``play_against_latest_model_ratio``, else a snapshot of the window;
- every ``team_change`` learning steps the next team learns (and every ghost swaps).

ELO: the learning policy and each snapshot have a rating (``initial_elo`` at first; a snapshot keeps the
rating its policy had). Each game the learning team ends is a win, draw or loss by the sign of its final
reward plus group reward; the learner's rating moves by ``result - expected`` and the opponent's by the
opposite, as in ML-Agents. It is reported as ``Self-play/ELO`` and kept in checkpoints with the window.
Wrapping happens around the policies and trajectories of any :class:`~rldojo.trainers.RLTrainer`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from mlagents_envs.base_env import BehaviorSpec, TerminalSteps

from rldojo.policy import Policy
from rldojo.settings import SelfPlaySettings
from rldojo.settings.run import behavior_name_of
from rldojo.trainers import RLTrainer
from rldojo.trajectory import Trajectory

__all__ = ["SelfPlay", "SnapshotWindow", "elo_change", "game_result", "team_of"]

Weights = dict[str, torch.Tensor]
LATEST = -1
"""The opponent index that stands for the latest policy rather than a snapshot of the window."""

_TEAM = re.compile(r"\?team=(\d+)")


def team_of(behavior_id: str) -> int:
    """The team of ``behavior_id`` (``Name?team=N``; 0 without ``?team=``)."""
    match = _TEAM.search(behavior_id)
    return int(match.group(1)) if match else 0


def game_result(final_reward: float) -> float:
    """1 for a win (final reward > 0), 0.5 for a draw (0), 0 for a loss (< 0)."""
    return 1.0 if final_reward > 0 else 0.0 if final_reward < 0 else 0.5


def elo_change(rating: float, opponent_rating: float, result: float) -> float:
    """How far a game with ``result`` (1 win, 0.5 draw, 0 loss) moves ``rating`` (no K factor)."""
    expected = 1.0 / (1.0 + 10.0 ** ((opponent_rating - rating) / 400.0))
    return result - expected


def _weights(policy: Policy[Any]) -> Weights:
    return {key: value.detach().clone() for key, value in policy.actor.state_dict().items()}


@dataclass
class SnapshotWindow:
    """The snapshots of one behavior's policy, their ratings and the self-play counters of that behavior."""

    settings: SelfPlaySettings
    current_elo: float
    snapshots: list[Weights] = field(default_factory=list)
    elos: list[float] = field(default_factory=list)
    next_slot: int = 0
    opponent: int = LATEST  # the window index the ghosts play now, or LATEST
    last_save: int = 0  # trainer steps
    last_team_change: int = 0  # trainer steps
    ghost_steps: int = 0
    last_swap: int = 0  # ghost steps

    def save(self, weights: Weights, step: int) -> None:
        """Add ``weights`` rated at the current ELO, replacing the oldest once the window is full."""
        if self.next_slot < len(self.snapshots):
            self.snapshots[self.next_slot], self.elos[self.next_slot] = weights, self.current_elo
        else:
            self.snapshots.append(weights)
            self.elos.append(self.current_elo)
        self.next_slot = (self.next_slot + 1) % self.settings.window
        self.last_save = step

    def choose_opponent(self) -> None:
        """Latest policy with probability ``play_against_latest_model_ratio``, else a random snapshot."""
        if np.random.uniform() < 1.0 - self.settings.play_against_latest_model_ratio:
            self.opponent = int(np.random.randint(len(self.snapshots)))
        else:
            self.opponent = LATEST
        self.last_swap = self.ghost_steps

    @property
    def opponent_elo(self) -> float:
        return self.current_elo if self.opponent == LATEST else self.elos[self.opponent]

    def change_opponent_elo(self, change: float) -> None:
        if self.opponent == LATEST:
            self.current_elo += change
        else:
            self.elos[self.opponent] += change

    def state(self, learning_team: int) -> dict[str, Any]:
        """What a checkpoint keeps (tensors and primitives only)."""
        return {
            "learning_team": learning_team,
            "current_elo": self.current_elo,
            "snapshots": self.snapshots,
            "elos": self.elos,
            "counters": [
                self.next_slot,
                self.opponent,
                self.last_save,
                self.last_team_change,
                self.ghost_steps,
                self.last_swap,
            ],
        }

    def load(self, state: dict[str, Any]) -> None:
        self.current_elo = float(state["current_elo"])
        self.snapshots = list(state["snapshots"])[: self.settings.window]
        self.elos = [float(elo) for elo in state["elos"]][: self.settings.window]
        counters = [int(value) for value in state["counters"]]
        (self.next_slot, self.opponent, self.last_save, self.last_team_change) = counters[:4]
        self.ghost_steps, self.last_swap = counters[4:]
        self.next_slot %= self.settings.window
        if self.opponent >= len(self.snapshots):  # the window was made smaller
            self.opponent = LATEST


class SelfPlay:
    """The self-play of one run: which team learns, each behavior's snapshot window and the ghosts' policies.

    The controller asks it which policy acts for a behavior id (:meth:`policy`, :meth:`learns`), whether a
    trajectory trains
    (:meth:`trains_on`), tells it how games ended (:meth:`record_games`) and lets it save, swap and change
    teams after each trainer advanced (:meth:`advance`). Behaviors without ``self_play`` pass through.
    """

    def __init__(self) -> None:
        self.teams: list[int] = []  # the learning team first, then the others in the order they learn next
        self.windows: dict[str, SnapshotWindow] = {}
        self.trainers: dict[str, RLTrainer[Any, Any]] = {}
        self.ghosts: dict[str, Policy[Any]] = {}  # behavior id -> the policy its agents act with off-turn
        self._resumed_learning_team: int | None = None

    @property
    def learning_team(self) -> int:
        return self.teams[0]

    def add(
        self,
        behavior_id: str,
        trainer: RLTrainer[Any, Any],
        spec: BehaviorSpec,
        saved_state: dict[str, Any] | None = None,
    ) -> None:
        """Join ``behavior_id`` (whose trainer has ``self_play``) to the game; ``saved_state`` is what its
        checkpoint kept when resuming (its window is restored from it)."""
        settings = trainer.trainer_settings.self_play
        assert settings is not None and trainer.policy is not None
        name = trainer.behavior_name
        if name not in self.windows:
            window = SnapshotWindow(settings, settings.initial_elo)
            if saved_state is None:
                window.save(_weights(trainer.policy), trainer.get_step)
            else:
                window.load(saved_state)
                self._resumed_learning_team = int(saved_state["learning_team"])
            window.last_team_change = min(window.last_team_change, trainer.get_step)
            self.windows[name], self.trainers[name] = window, trainer
        team = team_of(behavior_id)
        if team not in self.teams:
            self.teams.append(team)
        if self._resumed_learning_team in self.teams:
            while self.learning_team != self._resumed_learning_team:
                self.teams.append(self.teams.pop(0))
        ghost = trainer.create_policy(behavior_id, spec)
        ghost.actor.requires_grad_(False)
        self.ghosts[behavior_id] = ghost
        self._load_opponent(name, behavior_id)

    def _behavior_name(self, behavior_id: str) -> str | None:
        name = behavior_name_of(behavior_id)
        return name if name in self.windows else None

    def learns(self, behavior_id: str) -> bool:
        """Whether ``behavior_id``'s agents act with their trainer's policy now (not with a ghost)."""
        return behavior_id not in self.ghosts or team_of(behavior_id) == self.learning_team

    def policy(self, behavior_id: str, trainer: RLTrainer[Any, Any]) -> Policy[Any]:
        """The policy ``behavior_id``'s agents act with: ``trainer``'s own while their team learns, else
        the ghost."""
        if not self.learns(behavior_id):
            return self.ghosts[behavior_id]
        policy: Policy[Any] = trainer.get_policy(behavior_id)
        return policy

    def trains_on(self, trajectory: Trajectory) -> bool:
        """Whether ``trajectory`` goes to its trainer: not when a ghost played it (its steps are counted)."""
        name = self._behavior_name(trajectory.behavior_id)
        if name is None or team_of(trajectory.behavior_id) == self.learning_team:
            return True
        self.windows[name].ghost_steps += len(trajectory)
        return False

    def record_games(self, behavior_id: str, terminal_steps: TerminalSteps) -> None:
        """Rate every game of the learning team that ended in ``terminal_steps``; report the ELO."""
        name = self._behavior_name(behavior_id)
        if name is None or team_of(behavior_id) != self.learning_team or len(terminal_steps) == 0:
            return
        learner = self.windows[name]
        opponents = {
            other for ghost_id in self.ghosts if (other := self._behavior_name(ghost_id)) is not None
            and team_of(ghost_id) != self.learning_team
        }  # fmt: skip
        if not opponents:
            return
        for reward in terminal_steps.reward + terminal_steps.group_reward:
            opponent_elo = float(np.mean([self.windows[other].opponent_elo for other in opponents]))
            change = elo_change(learner.current_elo, opponent_elo, game_result(float(reward)))
            for other in opponents:
                self.windows[other].change_opponent_elo(-change)
            learner.current_elo += change
            self.trainers[name].stats_reporter.add_stat("Self-play/ELO", learner.current_elo)

    def advance(self, name: str) -> None:
        """After trainer ``name`` advanced: save a snapshot, change the learning team or swap the ghosts'
        opponent when due."""
        window = self.windows.get(name)
        if window is None:
            return
        trainer = self.trainers[name]
        assert trainer.policy is not None
        step = trainer.get_step
        if step - window.last_save >= window.settings.save_steps:
            window.save(_weights(trainer.policy), step)
        learns = any(self._behavior_name(b) == name and team_of(b) == self.learning_team for b in self.ghosts)
        due = step - window.last_team_change >= window.settings.team_change
        turn_over = due or step >= trainer.get_max_steps
        if learns and turn_over and self._next_learning_team() is not None:
            self._change_team()
        elif window.ghost_steps - window.last_swap >= window.settings.swap_steps:
            window.choose_opponent()
            self._load_opponents(name)

    def _team_finished(self, team: int) -> bool:
        """Whether every trainer of ``team`` reached its ``max_steps``."""
        names = {self._behavior_name(b) for b in self.ghosts if team_of(b) == team}
        trainers = [self.trainers[name] for name in names if name is not None]
        return all(trainer.get_step >= trainer.get_max_steps for trainer in trainers)

    def _next_learning_team(self) -> int | None:
        """The next team with steps left to learn (a team that reached ``max_steps`` hands its turn on, so
        a run whose ``max_steps`` is below ``team_change`` still ends); None when there is none."""
        return next((team for team in self.teams[1:] if not self._team_finished(team)), None)

    def _change_team(self) -> None:
        """The next team with steps left learns; every behavior's ghosts choose a new opponent."""
        next_team = self._next_learning_team()
        while self.learning_team != next_team:
            self.teams.append(self.teams.pop(0))
        for name, window in self.windows.items():
            window.last_team_change = self.trainers[name].get_step
            window.choose_opponent()
            self._load_opponents(name)

    def _load_opponents(self, name: str) -> None:
        for behavior_id in self.ghosts:
            if self._behavior_name(behavior_id) == name:
                self._load_opponent(name, behavior_id)

    def _load_opponent(self, name: str, behavior_id: str) -> None:
        window, trainer = self.windows[name], self.trainers[name]
        assert trainer.policy is not None
        weights = _weights(trainer.policy) if window.opponent == LATEST else window.snapshots[window.opponent]
        self.ghosts[behavior_id].actor.load_state_dict(weights)

    def state(self, name: str) -> dict[str, Any] | None:
        """What the checkpoint of behavior ``name`` keeps of self-play (None without ``self_play``)."""
        window = self.windows.get(name)
        return None if window is None else window.state(self.learning_team)
