"""Recording a scene's scripted policy as ML-Agents demonstrations (``rldojo-sim record``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from mlagents_envs.base_env import ActionTuple

from rldojo_sim.environment import make_env
from rldojo_sim.errors import SceneOptionError
from rldojo_sim.scenes import scene_class
from rldojo_unity.demonstrations import DemonstrationMeta, DemonstrationWriter

Record = tuple[list[np.ndarray], float, ActionTuple]


def record_demonstration(
    scene: str,
    episodes: int,
    out: str | Path,
    *,
    behavior: str | None = None,
    seed: int = 0,
    name: str | None = None,
    **options: Any,
) -> DemonstrationMeta:
    """Play ``scene``'s scripted policy in process until ``episodes`` episodes of ``behavior`` (the
    scene's only behavior when None) have ended, and write them to the ``.demo`` file ``out``.

    Each area's agent is recorded in turn, whole episodes only, so the file reads as one agent's
    consecutive episodes, as Unity's recorder writes them.
    """
    if episodes < 1:
        raise SceneOptionError(f"--episodes must be at least 1, got {episodes}.")
    env = make_env(scene, seed=seed, **options)
    env.reset()
    behavior = _recorded_behavior(scene, list(env.behavior_specs), behavior)
    writer = DemonstrationWriter(behavior, env.behavior_specs[behavior])
    policy = scene_class(scene).scripted_policy()
    running: dict[int, list[Record]] = {}
    recorded = 0
    while recorded < episodes:
        for current in list(env.behavior_specs):
            decisions, terminals = env.get_steps(current)
            actions = policy(current, decisions)
            env.set_actions(current, actions)
            if current != behavior:
                continue
            for row, agent in enumerate(terminals.agent_id.tolist()):
                if recorded == episodes:
                    break
                for record in running.pop(agent):
                    writer.record(*record)
                final = [obs[row] for obs in terminals.obs]
                writer.record(
                    final,
                    float(terminals.reward[row]),
                    done=True,
                    interrupted=bool(terminals.interrupted[row]),
                )
                recorded += 1
            for row, agent in enumerate(decisions.agent_id.tolist()):
                action = ActionTuple(
                    continuous=actions.continuous[row : row + 1], discrete=actions.discrete[row : row + 1]
                )
                observation = [obs[row] for obs in decisions.obs]
                running.setdefault(agent, []).append((observation, float(decisions.reward[row]), action))
        env.step()
    env.close()
    return writer.write(out, name or Path(out).stem)


def _recorded_behavior(scene: str, behaviors: list[str], behavior: str | None) -> str:
    if behavior is None and len(behaviors) == 1:
        return behaviors[0]
    if behavior in behaviors:
        return behavior
    raise SceneOptionError(
        f"Scene {scene} has behaviors {', '.join(behaviors)}; choose the one to record with --behavior."
    )
