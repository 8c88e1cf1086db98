"""--resume restores an sb3_* trainer: the SB3 counters, the optimizers and the replay buffer go on."""

from __future__ import annotations

import pytest
import torch

from rldojo.checkpoint import load_checkpoint

from .core_helpers import training_runs

DQN = training_runs.CONFIGS / "sb3" / "dqn.yaml"


@pytest.mark.slow
def test_resume_continues_the_dqn_model_and_replay_buffer(tmp_path, sim_build):
    common = {"env_settings.env_path": str(sim_build("Basic")), "env_settings.seed": 1}
    training_runs.train(DQN, tmp_path, "run", **common, **{"behaviors.Basic.max_steps": 1000})
    first = load_checkpoint(tmp_path / "run" / "Basic" / "checkpoint.pt")
    first_state = first["trainer_state"]
    assert first_state["num_timesteps"] == first["step"] >= 1000
    assert first_state["replay_buffer"]["pos"] == first["step"]  # every transition, none lost
    assert first_state["n_updates"] > 0 and "SB3:policy.optimizer" in first["modules"]

    training_runs.train(
        DQN, tmp_path, "run", **common,
        **{"behaviors.Basic.max_steps": 1600, "checkpoint_settings.resume": True},
    )  # fmt: skip
    second = load_checkpoint(tmp_path / "run" / "Basic" / "checkpoint.pt")
    state = second["trainer_state"]
    assert state["num_timesteps"] == second["step"] >= 1600
    assert state["replay_buffer"]["pos"] == second["step"]  # appended to the restored buffer
    restored = state["replay_buffer"]["observations"][: first["step"]]
    assert torch.equal(restored, first_state["replay_buffer"]["observations"])
    assert state["n_updates"] - first_state["n_updates"] == second["step"] - first["step"]  # train_freq 1
