"""The Unity-side runtime shared by every scene and by both ways of running one.

The ``Academy`` owns a scene and does what Unity's Academy and Agent classes do around a scene's
own logic: it gives every episode a new agent id, interrupts episodes at ``max_steps``, reports a
finished episode's final observation as a terminal AgentInfo next to the first decision of the
area's next episode, and serves the side channels. Its output, a ``Frame``, is what a Unity player
would put in one ``UnityRLOutputProto``; the in-process env reads it directly and the player encodes
it with ``rldojo_sim.wire``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from mlagents_envs.base_env import ActionTuple, BehaviorSpec

from rldojo_sim.drawing import mosaic
from rldojo_sim.parameters import EnvironmentParameters
from rldojo_sim.scenes import scene_class, scene_options
from rldojo_sim.scenes.base import Outcome
from rldojo_sim.side_channels import UnitySideChannels


@dataclass
class AgentBatch:
    """The AgentInfos of one behavior in one message: terminal rows first, then one decision per area."""

    obs: list[np.ndarray]
    reward: np.ndarray
    done: np.ndarray
    interrupted: np.ndarray
    agent_id: np.ndarray
    action_mask: np.ndarray | None
    """bool [rows, sum(branches)], true = disabled; None when the scene masks nothing."""
    group_id: np.ndarray
    group_reward: np.ndarray

    @property
    def num_terminal(self) -> int:
        return int(self.done.sum())


@dataclass
class Frame:
    """Everything one environment message carries."""

    batches: dict[str, AgentBatch]
    side_channel: bytes
    ended: np.ndarray
    """bool [num_areas]: the area's episode ended on this step (its terminal rows are in area order)."""
    interrupted: np.ndarray
    """bool [num_areas]: ... at its step limit rather than in a terminal state."""


class Academy:
    """Runs one scene: ``reset()`` and ``step(actions)`` each return the next ``Frame``."""

    def __init__(self, scene_name: str, seed: int = 0, **options: Any) -> None:
        scene = scene_class(scene_name)
        self.parameters = EnvironmentParameters()
        self.side_channels = UnitySideChannels(self.parameters)
        self.scene = scene(scene_options(scene, **options), np.random.default_rng(seed), self.parameters)
        areas = self.scene.num_areas
        self._episode_steps = np.zeros(areas, dtype=np.int64)
        self._episode_ids = {name: np.zeros(areas, dtype=np.int32) for name in self.behavior_specs}
        self._next_episode_id = 0
        self._group_ids = {name: self.scene.group_ids(name) for name in self.behavior_specs}
        self._no_flags = _read_only(np.zeros(areas, dtype=bool))  # done / interrupted of decision rows
        self._no_group_reward = _read_only(np.zeros(areas, dtype=np.float32))

    @property
    def behavior_specs(self) -> dict[str, BehaviorSpec]:
        return self.scene.behavior_specs

    def receive(self, side_channel: bytes) -> None:
        """Apply the side-channel bytes Python sent with a command (before the command runs)."""
        self.side_channels.receive(side_channel)

    def reset(self) -> Frame:
        """Begin a new episode everywhere (Unity's forced full reset)."""
        everywhere = np.ones(self.scene.num_areas, dtype=bool)
        self._begin_episodes(everywhere)
        zero = np.zeros(self.scene.num_areas, dtype=np.float32)
        outcome = Outcome({name: zero for name in self.behavior_specs}, ~everywhere)
        return self._frame(outcome, ended=~everywhere, interrupted=~everywhere, final={})

    def step(self, actions: Mapping[str, ActionTuple]) -> Frame:
        """Apply one action row per area and behavior (in area order) and advance one decision."""
        outcome = self.scene.act(actions)
        self._episode_steps += 1
        max_steps = self.scene.options.max_steps
        interrupted = ~outcome.terminated & (max_steps > 0) & (self._episode_steps >= max_steps)
        if outcome.interrupted is not None:
            interrupted |= ~outcome.terminated & outcome.interrupted
        ended = outcome.terminated | interrupted
        final: dict[str, tuple[list[np.ndarray], np.ndarray]] = {}
        if ended.any():
            for stat in self.scene.episode_stats(ended):
                self.side_channels.send_stat(stat.key, stat.value, stat.aggregation)
            final = {
                name: ([o[ended] for o in obs], self._episode_ids[name][ended])
                for name, obs in self.scene.observe().items()
            }
            self._begin_episodes(ended)
        return self._frame(outcome, ended, interrupted, final)

    def render(self) -> np.ndarray:
        """A top-down picture of every area side by side, ``uint8 [H, W, 3]``."""
        return mosaic([self.scene.draw(area) for area in range(self.scene.options.num_areas)])

    def _begin_episodes(self, areas: np.ndarray) -> None:
        self.scene.reset_areas(areas)
        self._episode_steps[areas] = 0
        for ids in self._episode_ids.values():
            count = int(areas.sum())
            ids[areas] = np.arange(self._next_episode_id, self._next_episode_id + count, dtype=np.int32)
            self._next_episode_id += count

    def _frame(
        self,
        outcome: Outcome,
        ended: np.ndarray,
        interrupted: np.ndarray,
        final: dict[str, tuple[list[np.ndarray], np.ndarray]],
    ) -> Frame:
        observations = self.scene.observe()
        masks = self.scene.action_masks()
        batches = {}
        for name in self.behavior_specs:
            reward = outcome.rewards[name]
            group_reward = outcome.group_rewards[name] if outcome.group_rewards else self._no_group_reward
            group_id = self._group_ids[name]
            decisions = AgentBatch(
                obs=observations[name],
                reward=np.where(ended, np.float32(0), reward) if final else reward,
                done=self._no_flags,
                interrupted=self._no_flags,
                agent_id=self._episode_ids[name].copy(),
                action_mask=masks.get(name),
                group_id=group_id,
                group_reward=np.where(ended, np.float32(0), group_reward) if final else group_reward,
            )
            if name in final:
                final_obs, final_ids = final[name]
                terminals = AgentBatch(
                    obs=final_obs,
                    reward=reward[ended],
                    done=np.ones(len(final_ids), dtype=bool),
                    interrupted=interrupted[ended],
                    agent_id=final_ids,
                    action_mask=None
                    if decisions.action_mask is None
                    else np.zeros_like(decisions.action_mask[ended]),
                    group_id=group_id[ended],
                    group_reward=group_reward[ended],
                )
                decisions = _concatenate(terminals, decisions)
            batches[name] = decisions
        return Frame(batches, self.side_channels.outgoing(), ended, interrupted)


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _concatenate(first: AgentBatch, second: AgentBatch) -> AgentBatch:
    def join(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
        return None if a is None or b is None else np.concatenate([a, b])

    return AgentBatch(
        obs=[np.concatenate([a, b]) for a, b in zip(first.obs, second.obs, strict=True)],
        reward=np.concatenate([first.reward, second.reward]),
        done=np.concatenate([first.done, second.done]),
        interrupted=np.concatenate([first.interrupted, second.interrupted]),
        agent_id=np.concatenate([first.agent_id, second.agent_id]),
        action_mask=join(first.action_mask, second.action_mask),
        group_id=np.concatenate([first.group_id, second.group_id]),
        group_reward=np.concatenate([first.group_reward, second.group_reward]),
    )
