"""ONNX export of every sb3_* type through rldojo's exporter: ML-Agents' interface (checked with the core
ONNX tests' helpers) and onnxruntime's deterministic actions equal to the SB3 policy's."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from mlagents_envs.base_env import ActionSpec, BehaviorSpec

from rldojo.export import export_onnx, input_names
from rldojo.plugins import trainer_types
from rldojo.settings import TrainerSettings
from rldojo_sb3.trainer import SB3Trainer

from .core_helpers import onnx_checks

pytestmark = pytest.mark.smoke

MULTI_DISCRETE = BehaviorSpec(onnx_checks.BASIC.observation_specs, ActionSpec.create_discrete((3, 2)))
TWO_OBSERVATIONS = BehaviorSpec(onnx_checks.PUSH_BLOCK.observation_specs, ActionSpec.create_continuous(2))
CASES = [  # trainer type, behavior, ML-Agents reference model with the same interface (or None)
    ("sb3_ppo", onnx_checks.BALL, "3DBall.onnx"),
    ("sb3_ppo", onnx_checks.BASIC, "Basic.onnx"),
    ("sb3_ppo", MULTI_DISCRETE, None),
    ("sb3_ppo", TWO_OBSERVATIONS, None),
    ("sb3_a2c", onnx_checks.BALL, "3DBall.onnx"),
    ("sb3_dqn", onnx_checks.BASIC, "Basic.onnx"),
    ("sb3_sac", onnx_checks.BALL, "3DBall.onnx"),
    ("sb3_td3", onnx_checks.BALL, "3DBall.onnx"),
    ("sb3_qrdqn", onnx_checks.BASIC, "Basic.onnx"),  # with the contrib extra only
    ("sb3_tqc", onnx_checks.BALL, "3DBall.onnx"),
]


def sb3_trainer(trainer_type: str, tmp_path) -> SB3Trainer:
    settings = TrainerSettings.model_validate(
        {"trainer_type": trainer_type, "network_settings": {"hidden_units": 32, "num_layers": 2}}
    )
    trainer = trainer_types()[trainer_type].trainer_class("Behavior", 1, settings, True, False, 0, tmp_path)
    assert isinstance(trainer, SB3Trainer)
    return trainer


@pytest.mark.parametrize(
    ("trainer_type", "spec", "reference"),
    CASES,
    ids=[
        "ppo-continuous",
        "ppo-discrete",
        "ppo-multi-discrete",
        "ppo-two-observations",
        "a2c-continuous",
        "dqn-discrete",
        "sac-continuous",
        "td3-continuous",
        "qrdqn-discrete",
        "tqc-continuous",
    ],
)
def test_exported_model_has_mlagents_interface_and_the_policys_deterministic_actions(
    trainer_type, spec, reference, tmp_path
):
    if trainer_type not in trainer_types():
        pytest.skip(f"{trainer_type} needs sb3-contrib (pip install rldojo-sb3[contrib])")
    torch.manual_seed(0)
    trainer = sb3_trainer(trainer_type, tmp_path)
    policy = trainer.create_policy("Behavior", spec)
    path = export_onnx(policy.actor, spec, tmp_path / "model.onnx")
    ours = onnx_checks.signature(onnx.load(path))
    assert list(ours["inputs"]) == input_names(spec)
    if reference is not None and onnx_checks.REFERENCE_MODELS.is_dir():
        theirs = onnx_checks.signature(onnx.load(onnx_checks.REFERENCE_MODELS / reference))
        assert ours["inputs"] == theirs["inputs"]
        assert {k: v for k, v in ours["outputs"].items() if k in theirs["outputs"]} == theirs["outputs"]
        expected = onnx_checks.constants(onnx_checks.REFERENCE_MODELS / reference)
        assert onnx_checks.constants(path) == {**expected, "memory_size": [0.0]}

    feed = onnx_checks.random_inputs(spec, batch=65, rng=np.random.default_rng(1))
    session = ort.InferenceSession(str(path))
    names = [output.name for output in session.get_outputs()]
    outputs = dict(zip(names, session.run(names, feed), strict=True))
    observations = [torch.from_numpy(feed[f"obs_{i}"]) for i in range(len(spec.observation_specs))]
    sb3_input = (
        observations[0]
        if len(observations) == 1
        else dict(zip(policy.layout.keys, observations, strict=True))
    )
    with torch.no_grad():
        sb3_actions = trainer.model.policy._predict(sb3_input, deterministic=True).numpy()
    if spec.action_spec.continuous_size:
        np.testing.assert_allclose(
            outputs["deterministic_continuous_actions"],
            np.clip(sb3_actions, -1, 1),
            atol=onnx_checks.CONTINUOUS_TOLERANCE,
        )
        np.testing.assert_array_equal(
            outputs["continuous_actions"], outputs["deterministic_continuous_actions"]
        )
    else:
        chosen = outputs["deterministic_discrete_actions"]
        assert chosen.dtype == np.int64
        offsets = np.cumsum((0, *spec.action_spec.discrete_branches[:-1]))
        assert (np.take_along_axis(feed["action_masks"], chosen + offsets, axis=1) == 1.0).all()
        unmasked = dict(feed, action_masks=np.ones_like(feed["action_masks"]))
        greedy = session.run(["deterministic_discrete_actions"], unmasked)[0]
        np.testing.assert_array_equal(greedy, sb3_actions.reshape(len(greedy), -1))


def test_the_policy_exports_right_after_an_update(tmp_path):
    """SB3 leaves the last evaluated batch's distribution (with its autograd graph) on the policy, which
    export's deep copy cannot copy; the trainer drops it after each ``train()``."""
    trainer = sb3_trainer("sb3_ppo", tmp_path)
    policy = trainer.create_policy("Behavior", onnx_checks.BALL)
    buffer = trainer.model.rollout_buffer
    buffer.observations[:] = np.random.default_rng(0).normal(size=buffer.observations.shape)
    buffer.pos, buffer.full = buffer.buffer_size, True
    buffer.compute_returns_and_advantage(last_values=torch.zeros(1), dones=np.ones(1))
    trainer._train(trainer.model.train)
    export_onnx(policy.actor, onnx_checks.BALL, tmp_path / "model.onnx")
