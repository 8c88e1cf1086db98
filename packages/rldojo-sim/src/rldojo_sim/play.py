"""Reference play for any BaseEnv of a simulated scene: mask-aware random actions and scripted returns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal

import numpy as np
from mlagents_envs.base_env import ActionTuple, BaseEnv, BehaviorSpec, DecisionSteps

from rldojo_sim.scenes import scene_class


def random_actions(spec: BehaviorSpec, decisions: DecisionSteps, rng: np.random.Generator) -> ActionTuple:
    """Uniform actions for ``decisions``; discrete ones drawn among the actions the mask allows."""
    n = len(decisions)
    continuous = rng.uniform(-1, 1, (n, spec.action_spec.continuous_size)).astype(np.float32)
    discrete = np.zeros((n, len(spec.action_spec.discrete_branches)), dtype=np.int32)
    for branch, size in enumerate(spec.action_spec.discrete_branches):
        allowed = (
            ~decisions.action_mask[branch] if decisions.action_mask is not None else np.ones((n, size), bool)
        )
        discrete[:, branch] = (rng.random((n, size)) * allowed).argmax(axis=1)
    return ActionTuple(continuous=continuous, discrete=discrete)


def episode_returns(
    env: BaseEnv, scene: str, policy: Literal["random", "scripted"], steps: int, seed: int = 0
) -> dict[str, list[float]]:
    """Reset ``env`` (of scene ``scene``) and play ``steps`` decisions; the finished episodes' returns.

    ``"scripted"`` plays the scene's scripted policy, ``"random"`` uniform allowed actions.
    """
    scripted = scene_class(scene).scripted_policy()
    rng = np.random.default_rng(seed)
    env.reset()
    running: dict[str, dict[int, float]] = {name: {} for name in env.behavior_specs}
    finished: dict[str, list[float]] = {name: [] for name in env.behavior_specs}
    for _ in range(steps):
        for name, spec in env.behavior_specs.items():
            decisions, terminals = env.get_steps(name)
            for agent, reward in zip(terminals.agent_id.tolist(), terminals.reward.tolist(), strict=True):
                finished[name].append(running[name].pop(agent, 0.0) + reward)
            for agent, reward in zip(decisions.agent_id.tolist(), decisions.reward.tolist(), strict=True):
                running[name][agent] = running[name].get(agent, 0.0) + reward
            actions = (
                random_actions(spec, decisions, rng) if policy == "random" else scripted(name, decisions)
            )
            env.set_actions(name, actions)
        env.step()
    return finished


def game_results(
    env: BaseEnv, players: Mapping[str, Callable[[DecisionSteps], ActionTuple]], team: str, games: int
) -> tuple[int, int, int]:
    """Reset ``env`` and let ``players`` (an act function per behavior id) play until ``games`` episodes of
    behavior ``team`` ended; its wins, draws and losses, by the sign of each episode's final reward plus
    group reward (as self-play rates games)."""
    env.reset()
    outcomes: list[float] = []
    while len(outcomes) < games:
        for name, act in players.items():
            decisions, terminals = env.get_steps(name)
            if name == team:
                outcomes += (terminals.reward + terminals.group_reward).tolist()
            if len(decisions):
                env.set_actions(name, act(decisions))
        env.step()
    final = np.asarray(outcomes[:games])
    return int((final > 0).sum()), int((final == 0).sum()), int((final < 0).sum())
