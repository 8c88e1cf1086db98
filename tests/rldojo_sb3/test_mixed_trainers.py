"""One run, one env loop: core ppo trains one behavior of a two-behavior scene and sb3_ppo the other.

rldojo-sim's StrikersVsGoalie has two behaviors with different specs: the striker acts with two discrete
branches, the goalie with one continuous action.
"""

from __future__ import annotations

import pytest
import yaml

from rldojo.checkpoint import load_checkpoint

from .core_helpers import check_run_onnx, training_runs

STEPS = 1500


@pytest.mark.slow
def test_ppo_and_sb3_ppo_train_the_striker_and_the_goalie_in_one_run(tmp_path, sim_build):
    common = {"network_settings": {"hidden_units": 32, "num_layers": 2}, "max_steps": STEPS,
              "summary_freq": 500, "time_horizon": 64}  # fmt: skip
    striker, goalie = "Striker", "Goalie"
    config = {
        "behaviors": {
            striker: {
                "trainer_type": "ppo",
                "hyperparameters": {"batch_size": 64, "buffer_size": 256},
                **common,
            },
            goalie: {
                "trainer_type": "sb3_ppo",
                "hyperparameters": {"n_steps": 256, "batch_size": 64},
                **common,
            },
        },
        "env_settings": {"env_path": str(sim_build("StrikersVsGoalie")), "seed": 1},
    }
    path = tmp_path / "mixed.yaml"
    path.write_text(yaml.safe_dump(config))
    recorder = training_runs.train(path, tmp_path, "mixed")
    run = tmp_path / "mixed"
    for behavior, trainer_type in ((striker, "ppo"), (goalie, "sb3_ppo")):
        checkpoint = load_checkpoint(run / behavior / "checkpoint.pt")
        assert checkpoint["trainer_type"] == trainer_type
        assert checkpoint["step"] >= STEPS
        check_run_onnx(run, behavior)
    assert "Losses/Policy Loss" in recorder.summaries  # core ppo
    assert "train/policy_gradient_loss" in recorder.summaries  # sb3_ppo, through its logger
