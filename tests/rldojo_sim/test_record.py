"""``rldojo-sim record``: demonstrations of scripted policies that read back as ML-Agents demos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from mlagents_envs.base_env import ActionTuple

import rldojo_sim
from rldojo_sim.cli import main
from rldojo_sim.play import episode_returns
from rldojo_sim.record import record_demonstration
from rldojo_unity.demonstrations import DemonstrationError, check_demonstration_spec, read_demonstrations

pytestmark = pytest.mark.smoke

# ML-Agents' configs, demos and models, in ../shared beside the checkout
REFERENCE_DATA = Path(__file__).resolve().parents[3] / "shared" / "reference-data" / "mlagents"
DEMOS = REFERENCE_DATA / "demos"


def _spec(scene: str, behavior: str):
    env = rldojo_sim.make_env(scene)
    env.reset()
    return env.behavior_specs[behavior]


@pytest.mark.skipif(not DEMOS.is_dir(), reason=f"ML-Agents' demos are not in {DEMOS}")
@pytest.mark.parametrize(
    ("file", "scene", "other"), [("ExpertBasic", "Basic", "3DBall"), ("Expert3DBall", "3DBall", "Basic")]
)
def test_mlagents_expert_demos_match_the_simulated_scenes(file, scene, other):
    demo = read_demonstrations(DEMOS / f"{file}.demo")
    check_demonstration_spec(demo, _spec(scene, f"{scene}?team=0"), scene)
    with pytest.raises(DemonstrationError, match="record the demonstration from the same scene"):
        check_demonstration_spec(demo, _spec(other, f"{other}?team=0"), other)


@pytest.mark.parametrize(("scene", "expected"), [("Basic", 0.93), ("Hallway", 0.95), ("Pyramids", 1.0)])
def test_recording_reads_back_with_the_scripted_policys_returns(tmp_path, scene, expected):
    meta = record_demonstration(scene, 6, tmp_path / f"{scene}.demo", seed=2)
    demo = read_demonstrations(meta.path)
    assert demo.behavior_spec.action_spec == _spec(scene, demo.behavior_name).action_spec
    check_demonstration_spec(demo, _spec(scene, demo.behavior_name), demo.behavior_name)
    assert meta.number_episodes == 6 and demo.metas[0].number_steps == meta.number_steps
    returns = demo.episode_returns()
    assert len(returns) == 6 and int(demo.dones.sum()) == 6
    assert np.mean(returns) == pytest.approx(expected, abs=1e-5)
    assert demo.metas[0].mean_reward == pytest.approx(expected, abs=1e-5)
    scripted = episode_returns(rldojo_sim.make_env(scene, seed=2), scene, "scripted", 100)
    assert np.mean(next(iter(scripted.values()))) == pytest.approx(expected, abs=1e-5)


def test_recorded_decisions_replay_the_episode(tmp_path):
    """Replaying the recorded actions in a fresh env of the same seed shows the recorded observations."""
    demo = read_demonstrations(
        record_demonstration("GridWorld", 3, tmp_path / "g.demo", seed=4, num_areas=1).path
    )
    env = rldojo_sim.make_env("GridWorld", seed=4, num_areas=1)
    env.reset()
    for step in range(len(demo)):
        decisions, _ = env.get_steps("GridWorld?team=0")
        assert np.array_equal(decisions.obs[0][0], demo.observations[0][step])
        assert np.array_equal(decisions.obs[1][0], demo.observations[1][step])
        env.set_actions("GridWorld?team=0", _row(demo.actions, step))
        env.step()


def _row(actions: ActionTuple, step: int) -> ActionTuple:
    return ActionTuple(
        continuous=actions.continuous[step : step + 1], discrete=actions.discrete[step : step + 1]
    )


def test_record_command_writes_a_demo_and_takes_scene_options(tmp_path, capsys):
    out = tmp_path / "hall.demo"
    assert main(["record", "Hallway", "--episodes", "4", "--out", str(out), "--hallway-length", "3"]) == 0
    assert capsys.readouterr().out == f"{out}: 4 episodes, 16 records, mean reward 0.970\n"
    assert read_demonstrations(out).behavior_spec.observation_specs[0].shape == (5,)


def test_record_of_a_two_behavior_scene_needs_a_behavior(tmp_path, capsys):
    out = tmp_path / "goalie.demo"
    assert main(["record", "StrikersVsGoalie", "--episodes", "2", "--out", str(out)]) == 2
    assert capsys.readouterr().err == (
        "rldojo-sim: error: Scene StrikersVsGoalie has behaviors Striker?team=0, Goalie?team=1; "
        "choose the one to record with --behavior.\n"
    )
    assert (
        main(
            [
                "record",
                "StrikersVsGoalie",
                "--episodes",
                "2",
                "--out",
                str(out),
                "--behavior",
                "Goalie?team=1",
            ]
        )
        == 0
    )
    assert read_demonstrations(out).behavior_spec.action_spec.continuous_size == 1
