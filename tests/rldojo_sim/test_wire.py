"""The Unity-side codecs: PNG camera images, packed floats, side channels, action decoding."""

from __future__ import annotations

import io

import numpy as np
import pytest
from mlagents_envs.communicator_objects.observation_pb2 import ObservationProto
from mlagents_envs.communicator_objects.unity_rl_input_pb2 import UnityRLInputProto
from mlagents_envs.rpc_utils import process_pixels
from mlagents_envs.side_channel.engine_configuration_channel import EngineConfigurationChannel
from mlagents_envs.side_channel.environment_parameters_channel import EnvironmentParametersChannel
from mlagents_envs.side_channel.side_channel_manager import SideChannelManager
from mlagents_envs.side_channel.stats_side_channel import StatsAggregationMethod, StatsSideChannel
from PIL import Image

from rldojo_sim.academy import Academy
from rldojo_sim.parameters import EnvironmentParameters
from rldojo_sim.png import encode_rgb
from rldojo_sim.side_channels import UnitySideChannels
from rldojo_sim.wire import decode_actions, packed_floats, png_bytes

pytestmark = pytest.mark.smoke


def test_png_encoder_output_decodes_to_the_same_pixels_with_pillow():
    pixels = np.random.default_rng(0).integers(0, 256, (7, 11, 3), dtype=np.uint8)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(encode_rgb(pixels)))), pixels)


@pytest.mark.parametrize("channels", [1, 3, 4, 6])
def test_camera_images_survive_mlagents_png_decoding_exactly(channels):
    image = np.random.default_rng(1).integers(0, 256, (channels, 5, 8)).astype(np.float32) / 255.0
    mapping = list(range(channels)) + [-1] * (-channels % 3) if channels % 3 else []  # as the player sends
    assert np.array_equal(process_pixels(png_bytes(image), channels, mapping), image)


@pytest.mark.parametrize("size", [1, 20, 32, 3240])
def test_packed_floats_merge_into_float_data(size):
    values = np.random.default_rng(2).normal(size=(3, size)).astype(np.float32)
    proto = ObservationProto()
    proto.float_data.MergeFromString(packed_floats(values)[2])
    assert np.array_equal(np.array(proto.float_data.data, dtype=np.float32), values[2])


def test_side_channel_bytes_from_python_configure_the_scene_side():
    engine, parameters = EngineConfigurationChannel(), EnvironmentParametersChannel()
    engine.set_configuration_parameters(width=64, height=48, time_scale=20.0, target_frame_rate=30)
    parameters.set_float_parameter("gravity", 3.5)
    parameters.set_uniform_sampler_parameters("mass", 2.0, 4.0, seed=7)
    parameters.set_gaussian_sampler_parameters("scale", 1.0, 0.0, seed=7)
    parameters.set_multirangeuniform_sampler_parameters("speed", [(0.0, 1.0), (5.0, 6.0)], seed=7)
    values = EnvironmentParameters()
    unity = UnitySideChannels(values)
    unity.receive(bytes(SideChannelManager([engine, parameters]).generate_side_channel_messages()))
    config = unity.engine_configuration
    assert (config.width, config.height, config.time_scale, config.target_frame_rate) == (64, 48, 20.0, 30)
    assert values.get("gravity", 9.81) == pytest.approx(3.5)
    assert all(2.0 <= values.get("mass", 0.0) < 4.0 for _ in range(20))
    assert values.get("scale", 0.0) == pytest.approx(1.0)
    assert all(0.0 <= v <= 1.0 or 5.0 <= v <= 6.0 for v in (values.get("speed", -1.0) for _ in range(50)))
    assert values.get("unset", 1.25) == 1.25


def test_stats_written_on_the_scene_side_reach_a_stats_channel():
    unity = UnitySideChannels(EnvironmentParameters())
    unity.send_stat("Scene/Score", 2.5, StatsAggregationMethod.MOST_RECENT)
    stats = StatsSideChannel()
    SideChannelManager([stats]).process_side_channel_message(unity.outgoing())
    assert stats.get_and_reset_stats() == {"Scene/Score": [(2.5, StatsAggregationMethod.MOST_RECENT)]}
    assert unity.outgoing() == b""


def test_actions_go_to_the_agents_in_decision_order_and_missing_ones_are_zero():
    specs = Academy("3DBall", num_areas=3).behavior_specs
    rl_input = UnityRLInputProto()
    for row in range(3):
        rl_input.agent_actions["3DBall?team=0"].value.add(continuous_actions=[row, -row])
    decoded = decode_actions(rl_input, specs, {"3DBall?team=0": 3})["3DBall?team=0"]
    assert decoded.continuous.tolist() == [[0, 0], [1, -1], [2, -2]]
    empty = decode_actions(UnityRLInputProto(), specs, {"3DBall?team=0": 3})["3DBall?team=0"]
    assert empty.continuous.shape == (3, 2) and not empty.continuous.any()
