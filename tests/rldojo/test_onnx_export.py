"""Exported policies against ML-Agents' shipped models (names, ranks, dtypes, constant outputs) and
onnxruntime against torch on random inputs, for every action kind and every policy network (PPO/A2C's
Actor, DQN's QNetwork, SAC's actor)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import yaml
from mlagents_envs.base_env import (
    ActionSpec,
    BehaviorSpec,
    ObservationSpec,
)
from torch import nn

from rldojo.checkpoint import load_checkpoint
from rldojo.export import ONNX_OPSET, export_onnx
from rldojo.networks import Actor, clip_continuous
from rldojo.settings import EncoderType, MemorySettings, NetworkSettings, TrainerSettings
from rldojo.trainers.dqn.q_network import QNetwork
from rldojo.trainers.poca import POCASettings, POCATrainer
from rldojo.trainers.sac.networks import SACActor
from rldojo.value_based_policy import ValueBasedPolicy

from .specs import observation
from .training_runs import CONFIGS, train

pytestmark = pytest.mark.smoke

# ML-Agents' configs, demos and models, in ../shared beside the checkout
REFERENCE_DATA = Path(__file__).resolve().parents[3] / "shared" / "reference-data" / "mlagents"
REFERENCE_MODELS = REFERENCE_DATA / "models"
CONTINUOUS_TOLERANCE = 1e-5
"""Absolute tolerance between onnxruntime's and torch's deterministic continuous actions (float32)."""
CONSTANT_OUTPUTS = (
    "version_number",
    "memory_size",
    "continuous_action_output_shape",
    "discrete_action_output_shape",
)
MEMORY_NAMES = ("recurrent_in", "recurrent_out")  # ML-Agents' LSTM models (compared on their own below)
NETWORK = NetworkSettings(hidden_units=32, num_layers=2, normalize=True)
MEMORY_NETWORK = NetworkSettings(
    hidden_units=32, num_layers=2, memory=MemorySettings(memory_size=128, sequence_length=16)
)


def obs(*shape: int) -> ObservationSpec:
    return observation(*shape, name=f"obs{len(shape)}")


BASIC = BehaviorSpec([obs(20)], ActionSpec.create_discrete((3,)))
BALL = BehaviorSpec([obs(8)], ActionSpec.create_continuous(2))
PUSH_BLOCK = BehaviorSpec([obs(105), obs(105)], ActionSpec.create_discrete((7,)))
GRID_WORLD = BehaviorSpec([obs(3, 64, 84)], ActionSpec.create_discrete((5,)))
HYBRID = BehaviorSpec([obs(8)], ActionSpec(2, (2, 3)))
SIM_GRID_WORLD = BehaviorSpec([obs(3, 30, 36), obs(2)], ActionSpec.create_discrete((5,)))
HALLWAY = BehaviorSpec([obs(105), obs(3)], ActionSpec.create_discrete((5,)))


def signature(
    model: onnx.ModelProto, left_out: tuple[str, ...] = MEMORY_NAMES
) -> dict[str, dict[str, tuple[int, int]]]:
    """Graph inputs (weights left out) and outputs as name -> (rank, ONNX element type), memory left out
    unless ``left_out`` is empty."""
    initializers = {tensor.name for tensor in model.graph.initializer}

    def describe(values: list[onnx.ValueInfoProto]) -> dict[str, tuple[int, int]]:
        return {
            value.name: (len(value.type.tensor_type.shape.dim), value.type.tensor_type.elem_type)
            for value in values
            if value.name not in left_out
        }

    graph_inputs = [value for value in model.graph.input if value.name not in initializers]
    return {"inputs": describe(graph_inputs), "outputs": describe(model.graph.output)}


def constants(path: Path) -> dict[str, list]:
    """The constant outputs, read by running the model on zeros (batch of 1, all actions allowed)."""
    session = ort.InferenceSession(str(path))
    feed = {
        value.name: np.ones([1 if isinstance(d, str) else d for d in value.shape], np.float32)
        for value in session.get_inputs()
    }
    names = [o.name for o in session.get_outputs() if o.name in CONSTANT_OUTPUTS]
    return {name: value.tolist() for name, value in zip(names, session.run(names, feed), strict=True)}


def export_network(network_class: type[nn.Module], spec: BehaviorSpec) -> nn.Module:
    """A new network of ``network_class`` as its policy exports it (a Q-network: its greedy actions)."""
    network = network_class(spec.observation_specs, NETWORK, spec.action_spec)
    if network_class is QNetwork:
        return ValueBasedPolicy(spec, network, torch.device("cpu")).export_network()
    return network


def export(network_class: type[nn.Module], spec: BehaviorSpec, tmp_path: Path) -> Path:
    torch.manual_seed(0)
    return export_onnx(export_network(network_class, spec), spec, tmp_path / "model.onnx")


@pytest.mark.skipif(not REFERENCE_MODELS.is_dir(), reason=f"ML-Agents' models are not in {REFERENCE_MODELS}")
@pytest.mark.parametrize(
    ("reference", "spec", "network_class"),
    [
        ("3DBall.onnx", BALL, Actor),
        ("Basic.onnx", BASIC, Actor),
        ("Basic.onnx", BASIC, QNetwork),
        ("PushBlock.onnx", PUSH_BLOCK, Actor),
        ("GridWorldColab.onnx", GRID_WORLD, Actor),
        ("GridWorldColab.onnx", GRID_WORLD, QNetwork),
        ("hybrid0vis8vec_2c_2_3d_v2_0.onnx", HYBRID, Actor),
        ("3DBall.onnx", BALL, SACActor),
        ("Basic.onnx", BASIC, SACActor),
        ("hybrid0vis8vec_2c_2_3d_v2_0.onnx", HYBRID, SACActor),
    ],
)
def test_graph_interface_matches_the_mlagents_model(reference, spec, network_class, tmp_path):
    assert_interface_matches(export(network_class, spec, tmp_path), reference)


@pytest.mark.skipif(not REFERENCE_MODELS.is_dir(), reason=f"ML-Agents' models are not in {REFERENCE_MODELS}")
def test_poca_policy_matches_the_mlagents_poca_model(tmp_path):
    """GridWorldColab.onnx is ML-Agents' POCA model; a POCA trainer's policy exports the same interface."""
    network = poca_policy_network(GRID_WORLD, NETWORK, tmp_path)
    path = export_onnx(network, GRID_WORLD, tmp_path / "GridWorld.onnx")
    assert_interface_matches(path, "GridWorldColab.onnx")


def poca_policy_network(spec: BehaviorSpec, network: NetworkSettings, tmp_path: Path) -> nn.Module:
    """The policy network a POCA trainer (with its group critic) exports."""
    settings = TrainerSettings.model_validate(
        {"trainer_type": "poca", "network_settings": network.model_dump()},
        context={"trainer_settings": {"poca": POCASettings}},
    )
    trainer = POCATrainer("Group", 1, settings, True, False, 0, tmp_path / "Group")
    trainer.add_policy("Group?team=0", trainer.create_policy("Group?team=0", spec))
    assert trainer.policy is not None
    return trainer.policy.export_network()


@pytest.mark.slow
@pytest.mark.skipif(not REFERENCE_MODELS.is_dir(), reason=f"ML-Agents' models are not in {REFERENCE_MODELS}")
def test_a_policy_trained_with_intrinsic_rewards_exports_the_same_interface(tmp_path):
    """Reward signals and their value heads stay out of the model: Unity sees the policy alone."""
    config = yaml.safe_load((CONFIGS / "basic_ppo.yaml").read_text())
    basic = config["behaviors"]["Basic"]
    basic["reward_signals"] |= {
        "curiosity": {"strength": 0.02, "network_settings": {"hidden_units": 16}},
        "rnd": {"strength": 0.01, "network_settings": {"hidden_units": 16}},
    }
    basic |= {"max_steps": 300, "summary_freq": 300}
    (tmp_path / "basic.yaml").write_text(yaml.safe_dump(config))
    train(tmp_path / "basic.yaml", tmp_path / "results")
    run = tmp_path / "results" / "run"
    assert "curiosity" in load_checkpoint(run / "Basic" / "checkpoint.pt")["reward_signals"]
    assert_interface_matches(run / "Basic.onnx", "Basic.onnx")


def assert_interface_matches(ours_path: Path, reference: str) -> None:
    """Opset, graph inputs, outputs (their order too) and constant outputs as in ML-Agents' ``reference``."""
    ours, theirs = onnx.load(ours_path), onnx.load(REFERENCE_MODELS / reference)
    assert [op.version for op in ours.opset_import if op.domain in ("", "ai.onnx")] == [ONNX_OPSET]
    mine, reference_signature = signature(ours), signature(theirs)
    assert mine["inputs"] == reference_signature["inputs"]
    # older shipped models (torch 1.6/1.7) have no deterministic outputs; every other output matches
    assert {k: v for k, v in mine["outputs"].items() if k in reference_signature["outputs"]} == (
        reference_signature["outputs"]
    )
    assert set(mine["outputs"]) - set(reference_signature["outputs"]) <= {
        "deterministic_continuous_actions",
        "deterministic_discrete_actions",
    }
    assert [value.name for value in ours.graph.output] == [
        name for name in _mlagents_output_order() if name in mine["outputs"]
    ]
    reference_constants = {
        k: v for k, v in constants(REFERENCE_MODELS / reference).items() if k != "memory_size"
    }
    our_constants = constants(ours_path)
    assert our_constants["memory_size"] == [0.0]
    assert {k: our_constants[k] for k in reference_constants} == reference_constants


@pytest.mark.skipif(not REFERENCE_MODELS.is_dir(), reason=f"ML-Agents' models are not in {REFERENCE_MODELS}")
@pytest.mark.parametrize("network_class", [Actor, SACActor, POCATrainer])
def test_memory_interface_matches_mlagents_hallway_model(network_class, tmp_path):
    torch.manual_seed(0)
    if network_class is POCATrainer:  # POCA's policy with memory, built by the trainer
        network = poca_policy_network(HALLWAY, MEMORY_NETWORK, tmp_path)
    else:
        network = network_class(HALLWAY.observation_specs, MEMORY_NETWORK, HALLWAY.action_spec)
    path = export_onnx(network, HALLWAY, tmp_path / "model.onnx")
    ours, theirs = onnx.load(path), onnx.load(REFERENCE_MODELS / "Hallway.onnx")
    mine, reference = signature(ours, left_out=()), signature(theirs, left_out=())
    assert mine["inputs"] == reference["inputs"]
    assert [value.name for value in ours.graph.input if value.name in mine["inputs"]][-1] == "recurrent_in"
    assert {k: v for k, v in mine["outputs"].items() if k in reference["outputs"]} == reference["outputs"]
    assert set(mine["outputs"]) - set(reference["outputs"]) == {"deterministic_discrete_actions"}
    assert [value.name for value in ours.graph.output][-1] == "recurrent_out"
    assert "LSTM" in {node.op_type for node in ours.graph.node}
    assert constants(path) == constants(REFERENCE_MODELS / "Hallway.onnx")  # memory_size [128.0] included


@pytest.mark.parametrize("network_class", [Actor, SACActor])
def test_onnxruntime_carries_memory_like_torch(network_class, tmp_path):
    torch.manual_seed(0)
    network = network_class(HALLWAY.observation_specs, MEMORY_NETWORK, HALLWAY.action_spec)
    session = ort.InferenceSession(str(export_onnx(network, HALLWAY, tmp_path / "model.onnx")))
    rng = np.random.default_rng(3)
    memories = torch.zeros(6, 128)
    for _ in range(4):  # recurrent_out fed back as recurrent_in, as Unity does
        feed = random_inputs(HALLWAY, batch=6, rng=rng)
        feed["recurrent_in"] = memories.numpy()[:, None, :]
        actions, recurrent_out = session.run(["deterministic_discrete_actions", "recurrent_out"], feed)
        with torch.no_grad():
            expected = network(
                [torch.from_numpy(feed["obs_0"]), torch.from_numpy(feed["obs_1"])],
                torch.from_numpy(feed["action_masks"]),
                deterministic=True,
                memories=memories,
            )
        np.testing.assert_array_equal(actions, expected.discrete.numpy())
        np.testing.assert_allclose(
            recurrent_out[:, 0, :], expected.memories.numpy(), atol=CONTINUOUS_TOLERANCE
        )
        memories = expected.memories


def _mlagents_output_order() -> list[str]:
    return [
        "version_number",
        "memory_size",
        "continuous_actions",
        "continuous_action_output_shape",
        "deterministic_continuous_actions",
        "discrete_actions",
        "discrete_action_output_shape",
        "deterministic_discrete_actions",
    ]


def random_inputs(spec: BehaviorSpec, batch: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random observations and random masks that leave at least one action allowed per branch."""
    feed = {
        f"obs_{i}": rng.normal(size=(batch, *o.shape)).astype(np.float32)
        for i, o in enumerate(spec.observation_specs)
    }
    branches = spec.action_spec.discrete_branches
    if branches:
        masks = []
        for size in branches:
            allowed = (rng.random((batch, size)) < 0.6).astype(np.float32)
            allowed[np.arange(batch), rng.integers(size, size=batch)] = 1.0
            masks.append(allowed)
        feed["action_masks"] = np.concatenate(masks, axis=1)
    return feed


@pytest.mark.parametrize(
    ("spec", "network_class"),
    [
        (BALL, Actor),
        (BASIC, Actor),
        (SIM_GRID_WORLD, Actor),
        (HYBRID, Actor),
        (BASIC, QNetwork),
        (HYBRID, QNetwork),
        (BALL, SACActor),
        (BASIC, SACActor),
        (HYBRID, SACActor),
    ],
    ids=[
        "continuous",
        "discrete",
        "visual",
        "hybrid",
        "dqn",
        "dqn-two-branches",
        "sac-continuous",
        "sac-discrete",
        "sac-hybrid",
    ],
)
def test_onnxruntime_deterministic_actions_equal_torch(spec, network_class, tmp_path):
    if network_class is QNetwork and spec.action_spec.continuous_size:
        spec = BehaviorSpec(
            spec.observation_specs, ActionSpec.create_discrete(spec.action_spec.discrete_branches)
        )
    torch.manual_seed(0)
    network = export_network(network_class, spec)
    if isinstance(network, Actor):  # non-trivial normaliser statistics
        network.update_normalization([torch.randn(64, *o.shape) * 3 + 1 for o in spec.observation_specs])
    path = export_onnx(network, spec, tmp_path / "model.onnx")
    feed = random_inputs(spec, batch=257, rng=np.random.default_rng(1))
    session = ort.InferenceSession(str(path))
    names = [output.name for output in session.get_outputs()]
    outputs = dict(zip(names, session.run(names, feed), strict=True))
    observations = [torch.from_numpy(feed[f"obs_{i}"]) for i in range(len(spec.observation_specs))]
    masks = torch.from_numpy(feed["action_masks"]) if "action_masks" in feed else None
    with torch.no_grad():
        expected = network(observations, masks, deterministic=True)
    if spec.action_spec.continuous_size:
        np.testing.assert_allclose(
            outputs["deterministic_continuous_actions"],
            clip_continuous(expected.continuous).numpy(),
            atol=CONTINUOUS_TOLERANCE,
        )
        assert np.abs(outputs["continuous_actions"]).max() <= 1.0
    if spec.action_spec.discrete_branches:
        assert outputs["deterministic_discrete_actions"].dtype == np.int64
        np.testing.assert_array_equal(outputs["deterministic_discrete_actions"], expected.discrete.numpy())
        offsets = np.cumsum((0, *spec.action_spec.discrete_branches[:-1]))
        for name in ("discrete_actions", "deterministic_discrete_actions"):
            chosen = np.take_along_axis(feed["action_masks"], outputs[name] + offsets, axis=1)
            assert (chosen == 1.0).all(), f"{name} picked a masked action"


def test_dqn_export_gives_the_greedy_action_as_both_discrete_outputs(tmp_path):
    """ML-Agents' DQN export is broken; ours must act greedily in Unity whichever output it reads."""
    path = export(QNetwork, BASIC, tmp_path)
    feed = random_inputs(BASIC, batch=64, rng=np.random.default_rng(2))
    sampled, greedy = ort.InferenceSession(str(path)).run(
        ["discrete_actions", "deterministic_discrete_actions"], feed
    )
    np.testing.assert_array_equal(sampled, greedy)


def test_export_leaves_the_training_network_untouched(tmp_path):
    torch.manual_seed(0)
    network = Actor(BALL.observation_specs, NETWORK, BALL.action_spec).train()
    before = {k: v.clone() for k, v in network.state_dict().items()}
    export_onnx(network, BALL, tmp_path / "model.onnx")
    assert network.training
    assert all(torch.equal(before[k], v) for k, v in network.state_dict().items())


@pytest.mark.parametrize("encoder", [kind.value for kind in EncoderType])
def test_every_visual_encoder_exports_and_acts_as_in_torch(encoder, tmp_path):
    """Each ``vis_encode_type`` ML-Agents accepts builds, exports, and runs in onnxruntime like in torch."""
    spec = BehaviorSpec([obs(3, 36, 40), obs(2)], ActionSpec(1, (4,)))
    torch.manual_seed(0)
    network = Actor(
        spec.observation_specs, NetworkSettings(hidden_units=16, vis_encode_type=encoder), spec.action_spec
    )
    path = export_onnx(network, spec, tmp_path / f"{encoder}.onnx")
    feed = random_inputs(spec, batch=9, rng=np.random.default_rng(2))
    session = ort.InferenceSession(str(path))
    names = ["deterministic_continuous_actions", "deterministic_discrete_actions"]
    continuous, discrete = session.run(names, feed)
    observations = [torch.from_numpy(feed[f"obs_{i}"]) for i in range(2)]
    with torch.no_grad():
        expected = network(observations, torch.from_numpy(feed["action_masks"]), deterministic=True)
    np.testing.assert_allclose(
        continuous, clip_continuous(expected.continuous).numpy(), atol=CONTINUOUS_TOLERANCE
    )
    np.testing.assert_array_equal(discrete, expected.discrete.numpy())


def test_a_network_exported_again_gives_its_model_as_it_is_now(tmp_path):
    """An unchanged network's export is reused; once a weight or a buffer (the normaliser's) changed, the
    new model computes what the network now does."""
    torch.manual_seed(0)
    network = Actor(BALL.observation_specs, NETWORK, BALL.action_spec)
    first = export_onnx(network, BALL, tmp_path / "first.onnx").read_bytes()
    assert export_onnx(network, BALL, tmp_path / "again.onnx").read_bytes() == first
    rng = np.random.default_rng(5)
    network.update_normalization([torch.from_numpy(random_inputs(BALL, batch=16, rng=rng)["obs_0"])])
    normalised = export_onnx(network, BALL, tmp_path / "normalised.onnx").read_bytes()
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.add_(0.1)
    trained = export_onnx(network, BALL, tmp_path / "trained.onnx")
    assert len({first, normalised, trained.read_bytes()}) == 3
    feed = random_inputs(BALL, batch=6, rng=rng)
    (actions,) = ort.InferenceSession(str(trained)).run(["deterministic_continuous_actions"], feed)
    with torch.no_grad():
        expected = clip_continuous(network([torch.from_numpy(feed["obs_0"])], None, True).continuous)
    np.testing.assert_allclose(actions, expected.numpy(), atol=CONTINUOUS_TOLERANCE)
