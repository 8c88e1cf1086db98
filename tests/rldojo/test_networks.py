"""Encoders, action heads (continuous, masked multi-discrete, hybrid) and the running normaliser."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from mlagents_envs.base_env import ActionSpec, ObservationSpec

from rldojo.errors import ConfigError
from rldojo.networks import (
    ActionHead,
    Actor,
    Critic,
    ObservationEncoder,
    RunningNormalizer,
    sample_categorical,
)
from rldojo.networks.visual import make_visual_encoder
from rldojo.settings import EncoderType, NetworkSettings

pytestmark = pytest.mark.smoke


def vector(size: int) -> ObservationSpec:
    from mlagents_envs.base_env import DimensionProperty, ObservationType

    return ObservationSpec((size,), (DimensionProperty.NONE,), ObservationType.DEFAULT, "vector")


def visual(channels: int, height: int, width: int) -> ObservationSpec:
    from mlagents_envs.base_env import DimensionProperty, ObservationType

    props = (
        DimensionProperty.NONE,
        DimensionProperty.TRANSLATIONAL_EQUIVARIANCE,
        DimensionProperty.TRANSLATIONAL_EQUIVARIANCE,
    )
    return ObservationSpec((channels, height, width), props, ObservationType.DEFAULT, "camera")


@pytest.mark.parametrize("encoder", [kind.value for kind in EncoderType])
def test_visual_and_vector_observations_encode_to_hidden_units(encoder):
    settings = NetworkSettings(hidden_units=32, num_layers=2, vis_encode_type=encoder, normalize=True)
    model = ObservationEncoder([visual(3, 40, 40), vector(5)], settings)
    out = model([torch.rand(4, 3, 40, 40), torch.randn(4, 5)])
    assert out.shape == (4, 32)


# encoder: (smallest height and width it takes, output features of each conv layer at that size)
SMALLEST_INPUTS = {
    "simple": (20, [(16, 4, 4), (32, 1, 1)]),
    "nature_cnn": (36, [(32, 8, 8), (64, 3, 3), (64, 1, 1)]),
    "resnet": (15, None),
    "match3": (5, [(35, 3, 3), (144, 1, 1)]),
    "fully_connected": (1, []),
}


@pytest.mark.parametrize("encoder", sorted(SMALLEST_INPUTS))
def test_each_encoder_takes_its_smallest_image_and_refuses_one_pixel_less(encoder):
    size, conv_shapes = SMALLEST_INPUTS[encoder]
    module = make_visual_encoder(encoder, (2, size, size + 3), 24)
    out = module(torch.rand(3, 2, size, size + 3))
    assert out.shape == (3, 24)
    if conv_shapes is not None:  # the layers ML-Agents builds, checked at the square smallest size
        square = make_visual_encoder(encoder, (2, size, size), 24)
        convs = [layer for layer in square.modules() if isinstance(layer, torch.nn.Conv2d)]
        features, shapes = torch.rand(1, 2, size, size), []
        for conv in convs:
            features = conv(features)
            shapes.append(tuple(features.shape[1:]))
        assert shapes == conv_shapes
    if size > 1:
        with pytest.raises(ConfigError, match=rf"{encoder}.*at least {size}x{size} pixels, got {size - 1}x"):
            ObservationEncoder([visual(1, size - 1, size + 3)], NetworkSettings(vis_encode_type=encoder))


def test_match3_encoder_reads_a_match3_board():
    """ML-Agents' Match3 example: an 8x8 board, one-hot over 6 colours plus special pieces, as channels."""
    settings = NetworkSettings(hidden_units=64, num_layers=1, vis_encode_type="match3")
    model = ObservationEncoder([visual(7, 8, 8)], settings)
    assert model([torch.rand(5, 7, 8, 8)]).shape == (5, 64)


def test_masked_discrete_actions_are_never_sampled():
    torch.manual_seed(0)
    head = ActionHead(8, ActionSpec.create_discrete((3, 2)))
    masks = torch.ones(500, 5)
    masks[:, 1] = 0  # branch 0, action 1
    masks[:250, 3] = 0  # branch 1, action 0 for the first half
    sample = head.sample(torch.randn(500, 8), masks)
    assert not (sample.discrete[:, 0] == 1).any()
    assert (sample.discrete[:250, 1] == 1).all()
    assert set(sample.discrete[:, 0].tolist()) == {0, 2}


def test_hybrid_log_probs_match_torch_distributions():
    torch.manual_seed(1)
    head = ActionHead(6, ActionSpec(2, (3,)))
    hidden = torch.randn(7, 6)
    sample = head.sample(hidden, torch.ones(7, 3))
    log_probs, entropy = head.evaluate(hidden, torch.ones(7, 3), sample.continuous, sample.discrete)
    assert log_probs.shape == (7, 3) and entropy.shape == (7,)
    normal = torch.distributions.Normal(head.mean(hidden), head.log_std.exp())
    categorical = torch.distributions.Categorical(logits=head.logits(hidden))
    torch.testing.assert_close(log_probs[:, :2], normal.log_prob(sample.continuous))
    torch.testing.assert_close(log_probs[:, 2], categorical.log_prob(sample.discrete[:, 0]))
    torch.testing.assert_close(entropy, normal.entropy().mean(1) + categorical.entropy())


def test_sample_categorical_draws_what_multinomial_draws_from_the_same_random_numbers():
    for rows, size in [(1, 2), (8, 2), (64, 7)]:
        probabilities = torch.softmax(torch.randn(rows, size) * 3, dim=1)
        torch.manual_seed(rows)
        expected, after = torch.multinomial(probabilities, 1), torch.rand(4)
        torch.manual_seed(rows)
        chosen = sample_categorical(probabilities)
        assert torch.equal(chosen, expected)
        assert torch.equal(torch.rand(4), after)  # the stream moved on alike: the same later draws


@pytest.mark.parametrize(
    ("action_spec", "network", "plain"),
    [
        (ActionSpec.create_discrete((2,)), {"activation": "tanh"}, True),
        (ActionSpec.create_discrete((3, 2)), {"normalize": True, "num_layers": 3}, True),
        (ActionSpec(2, (3,)), {}, False),  # continuous actions: the module path
        (ActionSpec.create_discrete((3,)), {"memory": {"memory_size": 8, "sequence_length": 4}}, False),
    ],
)
def test_acting_samples_what_forward_samples_from_the_same_random_numbers(action_spec, network, plain):
    torch.manual_seed(0)
    actor = Actor([vector(4)], NetworkSettings(hidden_units=16, **network), action_spec)
    actor.update_normalization([torch.randn(32, 4) * 3])
    assert (actor._acting_mlp is not None) is plain
    observations = [torch.randn(8, 4)]
    masks = torch.ones(8, sum(action_spec.discrete_branches))
    masks[:4, 0] = 0
    for deterministic in (False, True):
        with torch.inference_mode():
            torch.manual_seed(1)
            expected = actor(observations, masks, deterministic)
            torch.manual_seed(1)
            acted = actor.act(observations, masks, deterministic)
        for field in ("continuous", "discrete", "log_probs", "entropy"):
            assert torch.equal(getattr(acted, field), getattr(expected, field)), field


def test_deterministic_actions_are_the_mode():
    head = ActionHead(4, ActionSpec(1, (4,)))
    hidden = torch.randn(3, 4)
    sample = head.sample(hidden, None, deterministic=True)
    torch.testing.assert_close(sample.continuous, head.mean(hidden))
    assert torch.equal(sample.discrete[:, 0], head.logits(hidden).argmax(1))


def test_normalizer_matches_numpy_over_several_batches():
    rng = np.random.default_rng(0)
    data = rng.normal(3.0, 2.0, size=(300, 4)).astype(np.float32)
    normalizer = RunningNormalizer(4)
    for chunk in np.split(data, [7, 100, 180]):
        normalizer.update(torch.from_numpy(chunk))
    np.testing.assert_allclose(normalizer.running_mean.numpy(), data.mean(0), rtol=1e-4)
    np.testing.assert_allclose(normalizer.running_var.numpy(), data.var(0), rtol=1e-3)
    assert normalizer(torch.full((1, 4), 1e6)).max() == 5.0


def test_critic_has_one_value_per_reward_signal_and_can_share_the_actor_body():
    settings = NetworkSettings(hidden_units=16, num_layers=1)
    actor = Actor([vector(3)], settings, ActionSpec.create_continuous(2))
    critic = Critic(["extrinsic", "curiosity"], [vector(3)], settings, encoder=actor.encoder)
    values = critic([torch.randn(5, 3)])
    assert set(values) == {"extrinsic", "curiosity"} and values["extrinsic"].shape == (5,)
    assert critic.encoder is actor.encoder
