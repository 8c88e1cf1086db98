"""Reading ML-Agents' real ``.demo`` recordings, writing our own, and the spec check."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from mlagents_envs.base_env import (
    ActionSpec,
    ActionTuple,
    BehaviorSpec,
    DimensionProperty,
    ObservationSpec,
    ObservationType,
)

from rldojo_unity.demonstrations import (
    META_BYTES,
    DemonstrationError,
    DemonstrationWriter,
    check_demonstration_spec,
    read_demonstrations,
)

pytestmark = pytest.mark.smoke

# ML-Agents' configs, demos and models, in ../shared beside the checkout
REFERENCE_DATA = Path(__file__).resolve().parents[3] / "shared" / "reference-data" / "mlagents"
DEMOS = REFERENCE_DATA / "demos"
needs_demos = pytest.mark.skipif(not DEMOS.is_dir(), reason=f"ML-Agents' demos are not in {DEMOS}")

# file -> (behavior, records in the file, episodes ended by a final record, observation shapes,
#          continuous size, discrete branches)
REAL_DEMOS = {
    "Expert3DBall.demo": ("3DBallLearning", 549, 0, [(8,)], 2, ()),
    "ExpertBasic.demo": ("BasicLearning", 73, 10, [(20,)], 0, (3,)),
    "test.demo": ("3DBall?team=0", 2144, 21, [(8,)], 2, ()),
    "testhybridvis.demo": ("VisualFoodCollector?team=0", 25, 0, [(3, 84, 84), (1,)], 3, (2,)),
}


def _vector(size: int) -> ObservationSpec:
    name = f"VectorSensor_size{size}"
    return ObservationSpec((size,), (DimensionProperty.NONE,), ObservationType.DEFAULT, name)


def _vector_spec(size: int, action: ActionSpec) -> BehaviorSpec:
    return BehaviorSpec([_vector(size)], action)


@needs_demos
@pytest.mark.parametrize("file", sorted(REAL_DEMOS))
def test_real_mlagents_demos_read_with_their_step_counts_and_specs(file):
    behavior, records, ended, shapes, continuous, branches = REAL_DEMOS[file]
    demo = read_demonstrations(DEMOS / file)
    assert demo.behavior_name == behavior
    assert demo.metas[0].number_steps == records
    # every record but the final ones (one per ended episode) and the last is a decision
    assert len(demo) == records - ended - 1
    assert int(demo.dones.sum()) == ended
    assert [obs.shape[1:] for obs in demo.observations] == shapes
    assert [spec.shape for spec in demo.behavior_spec.observation_specs] == shapes
    assert all(len(obs) == len(demo) for obs in demo.observations)
    assert demo.behavior_spec.action_spec.continuous_size == continuous
    assert demo.behavior_spec.action_spec.discrete_branches == branches
    assert demo.actions.continuous.shape == (len(demo), continuous)
    assert demo.actions.discrete.shape == (len(demo), len(branches))


@needs_demos
def test_expert_basic_walks_right_to_the_large_goal():
    demo = read_demonstrations(DEMOS / "ExpertBasic.demo")
    returns = demo.episode_returns()
    assert len(returns) == 10
    assert np.mean(returns) > 0.9  # the expert reaches the +1 goal: 0.93 at best
    assert (demo.actions.discrete[:, 0] == 2).mean() > 0.9  # action 2 moves right
    positions = demo.observations[0].argmax(axis=1)
    assert positions[0] == 10  # Basic's start cell


@needs_demos
def test_expert_3dball_reward_matches_its_meta():
    demo = read_demonstrations(DEMOS / "Expert3DBall.demo")
    assert demo.rewards.sum() == pytest.approx(demo.metas[0].mean_reward, abs=0.01)  # one episode
    assert np.abs(demo.actions.continuous).max() <= 1.0
    assert np.abs(demo.actions.continuous).std() > 0.01  # real actions, not zeros


@needs_demos
def test_folder_of_demos_of_one_behavior_reads_as_one(tmp_path):
    for copy in ("a.demo", "b.demo"):
        shutil.copy(DEMOS / "ExpertBasic.demo", tmp_path / copy)
    demo = read_demonstrations(tmp_path)
    assert len(demo) == 2 * 62 and len(demo.metas) == 2


@needs_demos
def test_folder_mixing_behaviors_is_one_clear_error(tmp_path):
    shutil.copy(DEMOS / "Expert3DBall.demo", tmp_path / "a.demo")
    shutil.copy(DEMOS / "ExpertBasic.demo", tmp_path / "b.demo")
    with pytest.raises(
        DemonstrationError, match=r"has observation shapes \[\(20,\)\], but behavior 3DBallLearning"
    ):
        read_demonstrations(tmp_path)


@needs_demos
def test_spec_mismatch_says_what_differs_and_what_to_do():
    demo = read_demonstrations(DEMOS / "ExpertBasic.demo")
    check_demonstration_spec(demo, _vector_spec(20, ActionSpec.create_discrete((3,))), "Basic")
    with pytest.raises(DemonstrationError) as error:
        check_demonstration_spec(demo, _vector_spec(8, ActionSpec.create_continuous(2)), "3DBall")
    assert str(error.value) == (
        f"Demonstration {DEMOS / 'ExpertBasic.demo'} has observation shapes [(20,)], but behavior 3DBall has "
        "[(8,)]; record the demonstration from the same scene as the behavior."
    )
    with pytest.raises(
        DemonstrationError, match=re.escape("has 0 continuous actions and discrete branches [3]")
    ):
        check_demonstration_spec(demo, _vector_spec(20, ActionSpec.create_discrete((4,))), "Basic")


def test_missing_empty_and_corrupt_paths_are_one_line_errors(tmp_path):
    with pytest.raises(DemonstrationError, match="does not exist; check demo_path"):
        read_demonstrations(tmp_path / "none.demo")
    with pytest.raises(DemonstrationError, match=r"No \.demo files in folder"):
        read_demonstrations(tmp_path)
    (tmp_path / "bad.demo").write_bytes(b"\x05hello world")
    with pytest.raises(DemonstrationError, match="is not an ML-Agents demonstration file"):
        read_demonstrations(tmp_path / "bad.demo")


def test_written_demo_reads_back_with_the_same_decisions(tmp_path):
    spec = BehaviorSpec(
        [
            _vector(3),
            ObservationSpec(
                (2, 4, 5), (DimensionProperty.NONE,) * 3, ObservationType.DEFAULT, "CameraSensor"
            ),
        ],
        ActionSpec(1, (3, 2)),
    )
    rng = np.random.default_rng(0)
    writer = DemonstrationWriter("Hybrid?team=0", spec)
    expected = []
    for episode in range(3):
        for step in range(4):
            obs = [rng.random(3, dtype=np.float32), rng.random((2, 4, 5), dtype=np.float32)]
            if step == 3:
                writer.record(obs, reward=1.0, done=True, interrupted=episode == 2)
                continue
            action = ActionTuple(
                continuous=rng.uniform(-1, 1, (1, 1)).astype(np.float32),
                discrete=np.array([[step, episode % 2]], dtype=np.int32),
            )
            writer.record(obs, reward=0.0 if step == 0 else -0.1, action=action)
            expected.append((obs, action))
    path = tmp_path / "out" / "hybrid.demo"
    meta = writer.write(path, "HybridExpertWithALongName")
    assert path.read_bytes()[:META_BYTES][-1] == 0  # the meta is padded to where the brain starts
    demo = read_demonstrations(path)
    assert (meta.name, meta.number_steps, meta.number_episodes) == ("HybridExpertWith", 12, 3)
    assert demo.metas[0].mean_reward == pytest.approx(0.8)
    assert demo.behavior_name == "Hybrid?team=0" and len(demo) == 9
    assert [s.shape for s in demo.behavior_spec.observation_specs] == [(3,), (2, 4, 5)]
    assert demo.behavior_spec.action_spec == spec.action_spec
    for row, (obs, action) in enumerate(expected):
        assert np.array_equal(demo.observations[0][row], obs[0])
        assert np.array_equal(demo.observations[1][row], obs[1])
        assert np.array_equal(demo.actions.continuous[row], action.continuous[0])
        assert np.array_equal(demo.actions.discrete[row], action.discrete[0])
    assert demo.rewards.tolist() == pytest.approx([-0.1, -0.1, 1.0] * 3)
    assert demo.dones.tolist() == [False, False, True] * 3
    assert demo.interrupted.tolist() == [False] * 8 + [True]
    assert demo.episode_returns() == pytest.approx([0.8] * 3)
