"""--resume restores an sb3_* trainer: the SB3 counters, the optimizers and the replay buffer go on."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rldojo.checkpoint import load_checkpoint
from rldojo.export import behavior_spec_from_state
from rldojo.run_directory import CONFIGURATION_FILE
from rldojo.settings import load_run_options
from rldojo_sb3.trainer import SB3OffPolicyTrainer, SB3Trainer

from .core_helpers import training_runs

DQN = training_runs.CONFIGS / "sb3" / "dqn.yaml"


def resumed_trainer(run: Path) -> SB3Trainer:
    """A trainer of the run's Basic behavior, loaded as --resume loads it."""
    options = load_run_options(run / CONFIGURATION_FILE, {})
    checkpoint = load_checkpoint(run / "Basic" / "checkpoint.pt")
    trainer = SB3OffPolicyTrainer(
        "Basic", 1, options.behavior_settings("Basic"), True, True, 0, run / "Basic"
    )
    spec = behavior_spec_from_state(checkpoint["behavior_spec"], "Basic")
    trainer.add_policy("Basic", trainer.create_policy("Basic", spec))
    return trainer


@pytest.mark.slow
def test_resume_continues_the_dqn_model_and_replay_buffer(tmp_path, sim_build):
    common = {"env_settings.env_path": str(sim_build("Basic")), "env_settings.seed": 1}
    training_runs.train(DQN, tmp_path, "run", **common, **{"behaviors.Basic.max_steps": 1000})
    first = load_checkpoint(tmp_path / "run" / "Basic" / "checkpoint.pt")
    first_state = first["trainer_state"]
    assert first_state["num_timesteps"] == first["step"] >= 1000
    assert first_state["replay_buffer"]["pos"] == first["step"]  # every transition, none lost
    assert first_state["n_updates"] > 0 and "SB3:policy.optimizer" in first["modules"]
    trainer = resumed_trainer(tmp_path / "run")
    saved = first["modules"]["Policy"]
    assert all(
        torch.equal(value, saved[key])
        for key, value in trainer.get_policy("Basic").actor.state_dict().items()
    )
    assert trainer.model.num_timesteps == first["step"] and trainer.model.replay_buffer.pos == first["step"]

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
