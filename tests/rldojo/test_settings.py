"""Settings: ML-Agents defaults, default_settings merging, YAML quirks, environment parameters."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rldojo.errors import ConfigError
from rldojo.settings import (
    EncoderType,
    GaussianSettings,
    MultiRangeUniformSettings,
    OffPolicyHyperparamSettings,
    OnPolicyHyperparamSettings,
    RunOptions,
    ScheduleType,
    TorchSettings,
    UniformSettings,
    load_run_options,
    run_options_from_dict,
)

pytestmark = pytest.mark.smoke


def load(text: str) -> RunOptions:
    return run_options_from_dict(yaml.safe_load(text), "test.yaml")


def test_trainer_defaults_match_ml_agents():
    settings = load("behaviors: {Basic: {}}").behaviors["Basic"]
    assert settings.trainer_type == "ppo"
    assert (settings.max_steps, settings.time_horizon, settings.summary_freq) == (500000, 64, 50000)
    assert (settings.keep_checkpoints, settings.checkpoint_interval, settings.threaded) == (5, 500000, False)
    network = settings.network_settings
    assert (network.normalize, network.hidden_units, network.num_layers) == (False, 128, 2)
    assert network.vis_encode_type is EncoderType.SIMPLE and network.memory is None
    assert list(settings.reward_signals) == ["extrinsic"]
    assert (settings.reward_signals["extrinsic"].gamma, settings.reward_signals["extrinsic"].strength) == (
        0.99,
        1.0,
    )
    hyperparameters = settings.hyperparameters
    assert isinstance(hyperparameters, OnPolicyHyperparamSettings)
    assert (hyperparameters.batch_size, hyperparameters.buffer_size, hyperparameters.num_epoch) == (
        1024,
        10240,
        3,
    )


def test_hyperparameter_base_defaults():
    on_policy, off_policy = OnPolicyHyperparamSettings(), OffPolicyHyperparamSettings()
    assert (on_policy.learning_rate, on_policy.learning_rate_schedule) == (3e-4, ScheduleType.CONSTANT)
    assert (off_policy.batch_size, off_policy.buffer_size, off_policy.buffer_init_steps) == (128, 50000, 0)
    assert (off_policy.steps_per_update, off_policy.reward_signal_steps_per_update) == (1.0, 4.0)


def test_run_defaults_match_ml_agents():
    options = load("behaviors: {Basic: {}}")
    assert (options.env_settings.base_port, options.env_settings.seed, options.env_settings.timeout_wait) == (
        5005,
        -1,
        60,
    )
    engine = options.engine_settings
    assert (engine.width, engine.height, engine.quality_level, engine.time_scale) == (84, 84, 5, 20.0)
    assert (engine.target_frame_rate, engine.capture_frame_rate) == (-1, 60)
    checkpoint = options.checkpoint_settings
    assert (checkpoint.run_id, checkpoint.results_dir) == ("ppo", "results")
    assert checkpoint.write_path == Path("results/ppo")
    assert checkpoint.run_logs_dir == Path("results/ppo/run_logs")
    assert options.torch_settings.device == "auto"
    # stats_writers, eval_settings and ray are rldojo's own sections, absent from ML-Agents
    assert list(options.model_dump()) == [
        "default_settings", "behaviors", "env_settings", "engine_settings", "environment_parameters",
        "checkpoint_settings", "torch_settings", "debug", "stats_writers", "eval_settings",
        "ray",
    ]  # fmt: skip


def test_default_settings_merge_deeply_and_cover_missing_behaviors():
    options = load(
        """
        default_settings:
          hyperparameters: {batch_size: 16, learning_rate: 0.001}
          network_settings: {hidden_units: 32}
          max_steps: 1000
        behaviors:
          Striker:
            hyperparameters: {batch_size: 64}
        """
    )
    striker = options.behavior_settings("Striker?team=1")
    assert striker.hyperparameters.batch_size == 64
    assert striker.hyperparameters.learning_rate == 0.001
    assert striker.network_settings.hidden_units == 32 and striker.max_steps == 1000
    goalie = options.behavior_settings("Goalie?team=0")
    assert goalie.hyperparameters.batch_size == 16 and goalie is not options.default_settings


def test_behavior_without_settings_and_no_defaults_is_a_config_error():
    options = load("behaviors: {Basic: {}}")
    with pytest.raises(
        ConfigError, match=r"behavior 'Other' .* add it under behaviors: or set default_settings"
    ):
        options.behavior_settings("Other?team=0")


def test_numbers_written_the_yaml_way_are_accepted():
    options = load(
        "behaviors: {Basic: {max_steps: 1.0e7, summary_freq: 5e3, hyperparameters: {learning_rate: 3.0e-4}}}"
    )
    settings = options.behaviors["Basic"]
    assert settings.max_steps == 10_000_000 and settings.summary_freq == 5000
    assert settings.hyperparameters.learning_rate == pytest.approx(3e-4)


def test_even_checkpoints_spread_checkpoints_over_max_steps():
    options = load("behaviors: {Basic: {max_steps: 1000, keep_checkpoints: 4, even_checkpoints: true}}")
    assert options.behaviors["Basic"].checkpoint_interval == 250


def test_environment_parameters_constants_samplers_and_curricula():
    options = load(
        """
        behaviors: {Walker: {}}
        environment_parameters:
          gravity: 9.81
          mass: {sampler_type: uniform, sampler_parameters: {min_value: 0.5, max_value: 10}}
          noise: {sampler_type: gaussian, sampler_parameters: {mean: 0, st_dev: 2, seed: 7}}
          size: {sampler_type: multirangeuniform, sampler_parameters: {intervals: [[1, 2], [4, 5]]}}
          wall:
            curriculum:
              - name: Low
                completion_criteria: {behavior: Walker, measure: progress, threshold: 0.3}
                value: 1.5
              - name: High
                value: {sampler_type: uniform, sampler_parameters: {min_value: 4, max_value: 7}}
        """
    )
    parameters = options.environment_parameters
    assert parameters is not None
    assert parameters["gravity"].curriculum[0].value.value == pytest.approx(9.81)
    mass = parameters["mass"].curriculum[0].value
    assert isinstance(mass, UniformSettings) and (mass.min_value, mass.max_value, mass.seed) == (
        0.5,
        10.0,
        -1,
    )
    noise = parameters["noise"].curriculum[0].value
    assert isinstance(noise, GaussianSettings) and (noise.mean, noise.st_dev, noise.seed) == (0.0, 2.0, 7)
    size = parameters["size"].curriculum[0].value
    assert isinstance(size, MultiRangeUniformSettings) and size.intervals == [(1.0, 2.0), (4.0, 5.0)]
    low, high = parameters["wall"].curriculum
    assert low.completion_criteria is not None and low.completion_criteria.threshold == 0.3
    assert low.completion_criteria.min_lesson_length == 0 and low.completion_criteria.signal_smoothing
    assert high.completion_criteria is None and isinstance(high.value, UniformSettings)


def test_resolved_configuration_loads_back_to_the_same_options():
    text = """
    default_settings: {max_steps: 2000}
    behaviors:
      Basic: {hyperparameters: {batch_size: 32}, network_settings: {hidden_units: 20, num_layers: 1}}
    environment_parameters:
      mass: {sampler_type: uniform, sampler_parameters: {min_value: 0.5, max_value: 10}}
    env_settings: {env_path: "sim:Basic", seed: 3}
    torch_settings: {device: cpu}
    """
    options = load(text)
    dumped = yaml.safe_dump(options.model_dump(mode="json"), sort_keys=False)
    assert "sampler_parameters" in dumped
    assert load(dumped) == options


def test_cli_overrides_replace_only_what_is_given(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("behaviors: {Basic: {}}\nenv_settings: {seed: 42, base_port: 6000}\n")
    options = load_run_options(config, {"env_settings.base_port": 7000, "checkpoint_settings.run_id": "r2"})
    assert options.env_settings.seed == 42
    assert options.env_settings.base_port == 7000
    assert options.checkpoint_settings.run_id == "r2"


def test_deprecated_load_flag_means_resume_and_framework_is_ignored():
    options = load("behaviors: {Basic: {framework: pytorch}}\ncheckpoint_settings: {load_model: true}")
    assert options.checkpoint_settings.resume and not options.checkpoint_settings.load_model


@pytest.mark.parametrize("device", ["auto", "cpu", "cuda", "cuda:1"])
def test_device_values(device):
    assert TorchSettings(device=device).device == device


def test_auto_device_resolves_to_what_is_present():
    import torch

    assert TorchSettings().resolve_device() == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            TorchSettings(device="cuda").resolve_device()
