"""The lean path for ``gym:`` envs and ``sim:`` scenes of one plain agent per area (their steps as
arrays, trajectories built by ``VectorAgentProcessor``) against the general one (``DecisionSteps`` /
``TerminalSteps`` through ``AgentProcessor``): the same seed gives the same trajectories, the same
summaries and the same policy weights after training."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import yaml

from rldojo.agent_processor import AgentProcessor
from rldojo.checkpoint import load_latest_checkpoint
from rldojo.trainers import RLTrainer
from rldojo.trajectory import Trajectory
from rldojo.vector_agent_processor import VectorAgentProcessor
from rldojo_gym.gymnasium_base_env import GymnasiumBaseEnv
from rldojo_sim.in_process import VectorSimEnv

from .test_curriculum import LESSON_STAT, STEP_PENALTY
from .training_runs import CONFIGS, train


def _config(tmp_path: Path, algo: str, env: str, num_areas: int, settings: dict[str, Any]) -> Path:
    """The shipped CartPole config of ``algo`` on gym ``env``, with ``settings`` of its behavior changed."""
    config = yaml.safe_load((CONFIGS / "cartpole" / f"{algo}.yaml").read_text())
    behavior = config["behaviors"].pop("CartPole")
    behavior["hyperparameters"] |= settings.get("hyperparameters", {})
    behavior |= settings | {"hyperparameters": behavior["hyperparameters"], "summary_freq": 500}
    config["behaviors"][env.partition("-")[0]] = behavior
    config["env_settings"] = {"env_path": f"gym:{env}", "seed": 3, "num_areas": num_areas}
    path = tmp_path / f"{algo}-{env}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _sim_config(tmp_path: Path, scene: str, behavior: dict[str, Any]) -> Path:
    """``behavior``'s settings on sim scene ``scene``, its only behavior."""
    config = {"behaviors": {scene: behavior}, "env_settings": {"env_path": f"sim:{scene}", "seed": 3}}
    path = tmp_path / f"{behavior['trainer_type']}-{scene}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _train(
    config: Path, behavior: str, results: Path, monkeypatch: pytest.MonkeyPatch, lean: bool
) -> tuple[list[Trajectory], list[str], dict[str, torch.Tensor]]:
    """Every trajectory the trainer got, the summary lines and the final policy weights."""
    trajectories: list[Trajectory] = []
    lean_actions = []
    process, act = RLTrainer.process_trajectory, VectorAgentProcessor.act

    def recording_process(trainer: RLTrainer[Any, Any], trajectory: Trajectory) -> None:
        trajectories.append(trajectory)
        process(trainer, trajectory)

    def recording_act(processor: VectorAgentProcessor, policy: Any) -> Any:
        lean_actions.append(processor.behavior_id)
        return act(processor, policy)

    with monkeypatch.context() as patch:
        if not lean:  # the env no longer offers its steps as arrays: the general path runs
            patch.delattr(GymnasiumBaseEnv, "get_vector_steps")
            patch.delattr(VectorSimEnv, "get_vector_steps")
        patch.setattr(RLTrainer, "process_trajectory", recording_process)
        patch.setattr(VectorAgentProcessor, "act", recording_act)
        run_id = "lean" if lean else "general"
        recorder = train(config, results, run_id)
    assert bool(lean_actions) == lean, "the lean path ran exactly when the env offered vector steps"
    weights = load_latest_checkpoint(results / run_id / behavior)["modules"]["Policy"]
    return trajectories, recorder.lines, weights


def _assert_same(lean: Trajectory, general: Trajectory) -> None:
    for field in dataclasses.fields(Trajectory):
        a, b = getattr(lean, field.name), getattr(general, field.name)
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype and np.array_equal(a, b), field.name
        elif isinstance(a, list):
            assert all(x.dtype == y.dtype and np.array_equal(x, y) for x, y in zip(a, b, strict=True))
        else:
            assert a == b, field.name


CASES: dict[str, tuple[str, str, int, dict[str, Any]]] = {
    # RL Zoo's PPO: 8 copies, every 32 steps all trajectories cut together (rollout_cuts)
    "ppo-rollout-cuts": ("ppo", "CartPole-v1", 8, {"max_steps": 2560}),
    # episodes truncated at MountainCar's 200-step limit, time_horizon cuts of each copy on its own
    "ppo-truncation": (
        "ppo",
        "MountainCar-v0",
        3,
        {"max_steps": 1500, "time_horizon": 24, "hyperparameters": {"rollout_cuts": False}},
    ),
    # epsilon-greedy acting from numpy's RNG, replay buffer, two bursts of gradient steps
    "dqn": ("dqn", "CartPole-v1", 1, {"max_steps": 1300}),
}


SIM_CASES: dict[str, tuple[str, dict[str, Any]]] = {
    # the sb3 bridge on 3DBall's 12 areas: SB3's rollout buffer filled from the lean path's trajectories
    "sb3_ppo-3dball": (
        "3DBall",
        {
            "trainer_type": "sb3_ppo",
            "hyperparameters": {"n_steps": 384, "batch_size": 64, "n_epochs": 2},
            "network_settings": {"hidden_units": 16, "num_layers": 1},
            "max_steps": 1200,
            "time_horizon": 8,
            "summary_freq": 400,
        },
    ),
    # Basic's discrete actions; its episodes end at the goals or at the step limit
    "ppo-basic": (
        "Basic",
        {
            "trainer_type": "ppo",
            "hyperparameters": {"batch_size": 16, "buffer_size": 64},
            "network_settings": {"hidden_units": 8, "num_layers": 1},
            "max_steps": 600,
            "time_horizon": 8,
            "summary_freq": 200,
        },
    ),
}


def _config_of(case: str, tmp_path: Path) -> tuple[Path, str]:
    if case in SIM_CASES:
        scene, behavior = SIM_CASES[case]
        return _sim_config(tmp_path, scene, behavior), scene
    algo, env, num_areas, settings = CASES[case]
    return _config(tmp_path, algo, env, num_areas, settings), env.partition("-")[0]


@pytest.mark.parametrize("case", sorted(CASES) + sorted(SIM_CASES))
def test_lean_and_general_paths_train_identically(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, behavior = _config_of(case, tmp_path)
    env = CASES[case][1] if case in CASES else SIM_CASES[case][0]
    lean, lean_lines, lean_weights = _train(config, behavior, tmp_path, monkeypatch, lean=True)
    general, general_lines, general_weights = _train(config, behavior, tmp_path, monkeypatch, lean=False)

    assert len(lean) == len(general) > 10
    for lean_trajectory, general_trajectory in zip(lean, general, strict=True):
        _assert_same(lean_trajectory, general_trajectory)
    assert any(t.done_reached for t in lean) and any(not t.done_reached for t in lean)
    if env.startswith("MountainCar"):
        assert any(t.truncated for t in lean)
    assert lean_lines == general_lines and lean_lines
    assert lean_weights.keys() == general_weights.keys()
    for name, tensor in lean_weights.items():
        assert torch.equal(tensor, general_weights[name]), name


def test_curriculum_lessons_and_env_resets_on_the_lean_path_as_on_the_general_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Basic with test_curriculum's step_penalty lessons: a progress lesson, then a reward lesson whose
    completion resets the envs. On the lean path the lessons change at the same steps, the envs are reset at
    the same step (the copies' partial trajectories dropped, new episodes from the reset) and everything the
    trainer gets is the same as on the general path."""
    config = yaml.safe_load((CONFIGS / "basic_ppo.yaml").read_text())
    config["behaviors"]["Basic"] |= {"max_steps": 1000, "summary_freq": 100}
    config["env_settings"] |= {"seed": 2}
    config["environment_parameters"] = {"step_penalty": STEP_PENALTY}
    path = tmp_path / "basic-curriculum.yaml"
    path.write_text(yaml.safe_dump(config))
    resets: dict[str, list[int]] = {"lean": [], "general": []}
    end_episodes = {cls: cls.end_episodes for cls in (VectorAgentProcessor, AgentProcessor)}

    def recording(cls: type, run: str) -> Any:
        def end_episodes_recorded(processor: Any, worker_id: int) -> None:
            resets[run].append(worker_id)
            end_episodes[cls](processor, worker_id)

        return end_episodes_recorded

    runs = {}
    for run in resets:
        with monkeypatch.context() as patch:
            for cls in end_episodes:
                patch.setattr(cls, "end_episodes", recording(cls, run))
            runs[run] = _train(path, "Basic", tmp_path, monkeypatch, lean=run == "lean")

    (lean, lean_lines, lean_weights), (general, general_lines, general_weights) = runs.values()
    lessons = [line for line in lean_lines if LESSON_STAT in line]
    assert lessons[0].endswith("[0.0]") and lessons[-1].endswith("[2.0]"), lessons
    assert resets["lean"] == resets["general"] == [0]  # lesson 1 asked for a reset when it completed
    assert len(lean) == len(general) > 10
    for lean_trajectory, general_trajectory in zip(lean, general, strict=True):
        _assert_same(lean_trajectory, general_trajectory)
    assert lean_lines == general_lines
    for name, tensor in lean_weights.items():
        assert torch.equal(tensor, general_weights[name]), name
