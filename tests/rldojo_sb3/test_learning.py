"""Each sb3_* type learns a fitting scene through a launched build within a small budget, leaves a
checkpoint and a Unity ONNX model of ML-Agents' interface, and sends SB3's logger output to the writers."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from .core_helpers import check_run_onnx, training_runs

CONFIGS = training_runs.CONFIGS
A2C_BASIC = {
    "trainer_type": "sb3_a2c",
    "hyperparameters": {"n_steps": 32, "learning_rate": 1.0e-3, "ent_coef": 0.01},
    "network_settings": {"hidden_units": 32, "num_layers": 2},
    "max_steps": 3000,
    "time_horizon": 10,
    "summary_freq": 1000,
}
TD3_3DBALL = {
    "trainer_type": "sb3_td3",
    "hyperparameters": {
        "learning_rate": 1.0e-3,
        "buffer_size": 50000,
        "learning_starts": 1000,
        "batch_size": 128,
        "tau": 0.01,
        "train_freq": 4,
        "action_noise": {"kind": "normal", "sigma": 0.1},
    },
    "network_settings": {"hidden_units": 64, "num_layers": 2},
    "max_steps": 10000,
    "time_horizon": 64,
    "summary_freq": 2000,
}


def config_file(tmp_path: Path, scene: str, behavior: dict) -> Path:
    path = tmp_path / f"{behavior['trainer_type']}.yaml"
    path.write_text(yaml.safe_dump({"behaviors": {scene: behavior}, "env_settings": {"env_path": "unset"}}))
    return path


def mean_by_step(recorder, key: str) -> list[float]:
    return [summary.mean for _, summary in sorted(recorder.summaries[key].items())]


def assert_balls_stay_up(recorder, steps: int, window: int) -> None:
    """3DBall: far fewer episodes end (balls drop) in the last summary window than in the first
    (a random policy drops each ball after about 25 steps; a good one never does)."""
    first = sum(1 for step, _ in recorder.episodes if step <= window)
    last = sum(1 for step, _ in recorder.episodes if step > steps - window)
    assert first > 30 and last < first / 3, (first, last)


@pytest.mark.slow
def test_sb3_ppo_learns_3dball_and_its_logger_output_reaches_tensorboard(tmp_path, sim_build):
    overrides = {"behaviors.3DBall.max_steps": 12000, "behaviors.3DBall.summary_freq": 3000}
    recorder = training_runs.train(
        CONFIGS / "sb3" / "ppo.yaml",
        tmp_path,
        "ppo",
        **{"env_settings.env_path": str(sim_build("3DBall")), "env_settings.seed": 1, **overrides},
    )
    assert_balls_stay_up(recorder, 12000, 3000)
    assert "train/approx_kl" in recorder.summaries and "train/clip_fraction" in recorder.summaries
    (events,) = (tmp_path / "ppo" / "3DBall").glob("events.out.tfevents.*")
    tags = EventAccumulator(str(events)).Reload().Tags()["scalars"]
    assert {"train/value_loss", "train/policy_gradient_loss", "train/learning_rate"} <= set(tags)
    check_run_onnx(tmp_path / "ppo", "3DBall")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("scene", "config", "steps", "summary"),
    [
        ("Basic", A2C_BASIC, 3000, 1000),
        ("Basic", CONFIGS / "sb3" / "dqn.yaml", 3000, 1000),
        ("3DBall", CONFIGS / "sb3" / "sac.yaml", 6000, 2000),
        ("3DBall", TD3_3DBALL, 10000, 2000),
    ],
    ids=["sb3_a2c", "sb3_dqn", "sb3_sac", "sb3_td3"],
)
def test_sb3_type_improves_on_a_launched_build(scene, config, steps, summary, tmp_path, sim_build):
    path = config if isinstance(config, Path) else config_file(tmp_path, scene, config)
    recorder = training_runs.train(
        path,
        tmp_path,
        "run",
        **{
            "env_settings.env_path": str(sim_build(scene)),
            "env_settings.seed": 1,
            f"behaviors.{scene}.max_steps": steps,
            f"behaviors.{scene}.summary_freq": summary,
        },
    )
    if scene == "Basic":  # reward: about -0.2 at random, 0.93 at best
        rewards = mean_by_step(recorder, training_runs.REWARD)
        assert rewards[0] < 0.3 and rewards[-1] > 0.7, rewards
    else:
        assert_balls_stay_up(recorder, steps, summary)
    check_run_onnx(tmp_path / "run", scene)
