"""Bad configs: each is one ConfigError line that names the YAML path and says what is wrong."""

from __future__ import annotations

import re

import pytest

from rldojo.errors import ConfigError
from rldojo.settings import load_run_options

pytestmark = pytest.mark.smoke

BAD_CONFIGS = {
    "misspelled section": (
        "behaviours: {Basic: {}}",
        "behaviours: unknown key 'behaviours', did you mean 'behaviors'?",
    ),
    "misspelled behavior key": (
        "behaviors: {Basic: {hyperparamters: {batch_size: 32}}}",
        "behaviors.Basic.hyperparamters: unknown key 'hyperparamters', did you mean 'hyperparameters'?",
    ),
    "misspelled hyperparameter": (
        "behaviors: {Basic: {hyperparameters: {learning_rat: 0.1}}}",
        "behaviors.Basic.hyperparameters.learning_rat: unknown key 'learning_rat', "
        "did you mean 'learning_rate'?",
    ),
    "misspelled key in default_settings": (
        "default_settings: {network_settings: {hiden_units: 8}}\nbehaviors: {Basic: {}}",
        "default_settings.network_settings.hiden_units: unknown key 'hiden_units', "
        "did you mean 'hidden_units'?",
    ),
    "unknown trainer type": (
        "behaviors: {Basic: {trainer_type: ppo2}}",
        "behaviors.Basic.trainer_type: unknown trainer_type 'ppo2' (installed trainer types: {installed}; "
        "see `rldojo plugins`); did you mean 'ppo'?",
    ),
    "wrong type": (
        "behaviors: {Basic: {hyperparameters: {batch_size: big}}}",
        "behaviors.Basic.hyperparameters.batch_size: Input should be a valid integer, "
        "unable to parse string as an integer",
    ),
    "out of range": (
        "behaviors: {Basic: {time_horizon: 0}}",
        "behaviors.Basic.time_horizon: Input should be greater than 0",
    ),
    "discount above one": (
        "behaviors: {Basic: {reward_signals: {extrinsic: {gamma: 1.5}}}}",
        "behaviors.Basic.reward_signals.extrinsic.gamma: Input should be less than or equal to 1",
    ),
    "unknown reward signal": (
        "behaviors: {Basic: {reward_signals: {extrinsik: {}}}}",
        "behaviors.Basic.reward_signals.extrinsik: unknown reward signal 'extrinsik', "
        "did you mean 'extrinsic'?",
    ),
    "unknown encoder": (
        "behaviors: {Basic: {network_settings: {vis_encode_type: lenet}}}",
        "behaviors.Basic.network_settings.vis_encode_type: Input should be 'fully_connected', 'match3', "
        "'simple', 'nature_cnn' or 'resnet'",
    ),
    "behaviors not a mapping": (
        "behaviors: [Basic]",
        "behaviors: must be a mapping of behavior name to trainer settings",
    ),
    "bad device": (
        "behaviors: {Basic: {}}\ntorch_settings: {device: gpu}",
        "torch_settings.device: String should match pattern '^(auto|cpu|cuda(:\\d+)?)$'",
    ),
    "sampler bounds reversed": (
        "behaviors: {Basic: {}}\nenvironment_parameters:\n"
        "  mass: {sampler_type: uniform, sampler_parameters: {min_value: 5, max_value: 1}}",
        "environment_parameters.mass.sampler_parameters: min_value must not be greater than max_value",
    ),
    "unknown sampler parameter": (
        "behaviors: {Basic: {}}\nenvironment_parameters:\n"
        "  mass: {sampler_type: gaussian, sampler_parameters: {mean: 1, stdev: 2}}",
        "environment_parameters.mass.sampler_parameters.stdev: unknown key 'stdev', did you mean 'st_dev'?",
    ),
    "unknown sampler": (
        "behaviors: {Basic: {}}\nenvironment_parameters:\n  mass: {sampler_type: uniformm}",
        "environment_parameters.mass.sampler_type: unknown sampler_type 'uniformm', did you mean 'uniform'?",
    ),
    "progress threshold above one": (
        "behaviors: {Basic: {}}\nenvironment_parameters:\n  wall:\n    curriculum:\n"
        "      - {name: A, value: 1, completion_criteria:\n"
        "          {behavior: Basic, measure: progress, threshold: 1.5}}\n"
        "      - {name: B, value: 2}",
        "environment_parameters.wall.curriculum[0].completion_criteria.threshold: "
        "threshold must be between 0 and 1 when measure is progress",
    ),
    "lesson without completion criteria": (
        "behaviors: {Basic: {}}\nenvironment_parameters:\n  wall:\n    curriculum:\n"
        "      - {name: A, value: 1}\n      - {name: B, value: 2}",
        "environment_parameters.wall.curriculum[0]: "
        "lesson 'A' needs completion_criteria (only the last lesson may omit it)",
    ),
    "curriculum names a missing behavior": (
        "behaviors: {Basic: {}}\nenvironment_parameters:\n  wall:\n    curriculum:\n"
        "      - {name: A, value: 1, completion_criteria: {behavior: Walker}}\n      - {name: B, value: 2}",
        "environment_parameters.wall.curriculum[0].completion_criteria.behavior: completion_criteria names "
        "behavior 'Walker', which is not under behaviors:",
    ),
    "resume and initialize-from": (
        "behaviors: {Basic: {}}\ncheckpoint_settings: {resume: true, initialize_from: other}",
        "checkpoint_settings: --resume and --initialize-from cannot be used together: resume continues this "
        "run, initialize-from starts a new one from another run's weights",
    ),
    "run id with a slash": (
        "behaviors: {Basic: {}}\ncheckpoint_settings: {run_id: a/b}",
        "checkpoint_settings.run_id: 'a/b' is not a single folder name: leave out / and \\ and control "
        "characters, and do not use . or ..",
    ),
    "behavior is not a mapping": (
        "behaviors: {Basic: 5}",
        "behaviors.Basic: must be a mapping of trainer settings",
    ),
    "trainer type in the wrong case": (
        "behaviors: {Basic: {trainer_type: PPO}}",
        "behaviors.Basic.trainer_type: unknown trainer_type 'PPO' (installed trainer types: {installed}; "
        "see `rldojo plugins`); did you mean 'ppo'?",
    ),
    "constant is not a number": (
        "behaviors: {Basic: {}}\nenvironment_parameters: {gravity: strong}",
        "environment_parameters.gravity: Input should be a valid number, unable to parse string as a number",
    ),
    "negative deviation in a lesson": (
        "behaviors: {Basic: {}}\nenvironment_parameters:\n  noise:\n    curriculum:\n"
        "      - {name: A, value: {sampler_type: gaussian, sampler_parameters: {st_dev: -1}}}",
        "environment_parameters.noise.curriculum[0].value.sampler_parameters.st_dev: "
        "Input should be greater than or equal to 0",
    ),
    "unknown activation": (
        "behaviors: {Basic: {network_settings: {activation: sigmoid}}}",
        "behaviors.Basic.network_settings.activation: Input should be 'swish', 'tanh' or 'relu'",
    ),
    "misspelt PPO option": (
        "behaviors: {Basic: {hyperparameters: {clip_value_update: false}}}",
        "behaviors.Basic.hyperparameters.clip_value_update: unknown key 'clip_value_update', "
        "did you mean 'clip_value_updates'?",
    ),
    "YAML syntax": (
        "behaviors:\n  Basic: {max_steps: 10\n",
        "YAML syntax error at line 3, column 1: expected ',' or '}', but got '<stream end>'",
    ),
    "top level is a list": (
        "- behaviors",
        "the top level must be a mapping (behaviors:, env_settings:, ...)",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_config_is_one_line_naming_the_problem(case, tmp_path):
    from rldojo.plugins import trainer_types

    text, message = BAD_CONFIGS[case]
    config = tmp_path / "run.yaml"
    config.write_text(text)
    expected = f"{config}: " + message.replace("{installed}", ", ".join(sorted(trainer_types())))
    with pytest.raises(ConfigError) as raised:
        load_run_options(config)
    assert str(raised.value) == expected
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("trainer_type", "message"),
    [("sb3_trpo", "trainer_type 'sb3_trpo' comes from the rldojo-sb3 package, which {state}")],
)
def test_trainer_types_from_other_packages_name_the_package(trainer_type, message, tmp_path):
    from importlib import metadata

    from rldojo.plugins import trainer_types

    if trainer_type in trainer_types():
        pytest.skip(f"{trainer_type} is installed")
    try:
        metadata.distribution("rldojo-sb3")
        state = "is installed but does not provide it"
    except metadata.PackageNotFoundError:
        state = "is not installed"
    config = tmp_path / "run.yaml"
    config.write_text(f"behaviors: {{Basic: {{trainer_type: {trainer_type}}}}}")
    with pytest.raises(ConfigError, match=re.escape(message.format(state=state))):
        load_run_options(config)


def test_missing_config_file(tmp_path):
    with pytest.raises(
        ConfigError, match=f"^config file not found: {re.escape(str(tmp_path / 'nope.yaml'))}$"
    ):
        load_run_options(tmp_path / "nope.yaml")


def test_flag_values_are_named_by_their_flag(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("behaviors: {Basic: {}}")
    with pytest.raises(ConfigError) as raised:
        load_run_options(config, {"env_settings.base_port": 70000}, {"env_settings.base_port": "--base-port"})
    assert str(raised.value) == "--base-port: Input should be less than or equal to 65535"
