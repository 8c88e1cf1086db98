"""Stable-Baselines3 learns through the wrappers over real gRPC; MaskablePPO runs on GridWorld's masks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import gymnasium
import numpy as np
import pytest
from sb3_contrib import MaskablePPO
from stable_baselines3 import PPO
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecMonitor

import rldojo_gym
from rldojo_gym.sb3 import to_sb3_vec_env

gymnasium.register_envs(rldojo_gym)

SimBuild = Callable[[str], Path]


def _launched(sim_build: SimBuild, scene: str, *scene_arguments: str) -> VecMonitor:
    """Every agent of the launched build of ``scene`` as an SB3 VecEnv, scene options as build arguments."""
    env = gymnasium.make_vec(
        "rldojo/Unity-v0", file_name=sim_build(scene), timeout_wait=30, additional_args=list(scene_arguments)
    )
    return to_sb3_vec_env(env)


def _mean_return(model: PPO, venv: VecMonitor, episodes: int) -> float:
    mean, _ = evaluate_policy(model, venv, n_eval_episodes=episodes, deterministic=True, warn=False)
    return float(mean)


@pytest.mark.slow
def test_ppo_learns_basic_over_grpc(sim_build: SimBuild) -> None:
    venv = _launched(sim_build, "Basic", "--num-areas", "8")
    model = PPO("MlpPolicy", venv, n_steps=64, batch_size=128, n_epochs=4, gamma=0.9, seed=0)
    before = _mean_return(model, venv, episodes=8)
    model.learn(3_072)
    after = _mean_return(model, venv, episodes=8)
    venv.close()
    assert after > 0.8, f"mean return {before:.2f} -> {after:.2f}; Basic's optimum is 0.93"


@pytest.mark.slow
def test_ppo_learns_3dball_over_grpc_with_every_agent(sim_build: SimBuild) -> None:
    venv = _launched(sim_build, "3DBall", "--max-steps", "200")
    assert venv.num_envs == 12
    model = PPO("MlpPolicy", venv, n_steps=128, batch_size=256, n_epochs=5, seed=0)
    before = _mean_return(model, venv, episodes=12)
    model.learn(10_752)
    after = _mean_return(model, venv, episodes=12)
    venv.close()
    assert after > max(3 * before, 15.0), f"mean return {before:.1f} -> {after:.1f} (at most 20)"


def test_maskable_ppo_never_picks_a_masked_action_on_gridworld() -> None:
    venv = to_sb3_vec_env(gymnasium.make_vec("rldojo/GridWorld-v0"))
    model = MaskablePPO("MultiInputPolicy", venv, n_steps=16, batch_size=72, n_epochs=1, seed=0)
    model.learn(144)  # rollouts sample with the env's masks
    observations = venv.reset()
    masked_seen = 0
    for _ in range(30):
        masks = np.stack(venv.env_method("action_masks"))
        actions, _ = model.predict(observations, action_masks=masks)
        assert masks[np.arange(9), actions].all()
        masked_seen += int((~masks).sum())
        observations, *_ = venv.step(actions)
    assert masked_seen > 0
