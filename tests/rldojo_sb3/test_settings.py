"""sb3_* hyperparameters are SB3 constructor arguments; wrong keys and unfit behaviors are config errors."""

from __future__ import annotations

import pytest
import yaml
from mlagents_envs.base_env import ActionSpec, BehaviorSpec

from rldojo.errors import ConfigError
from rldojo.plugins import trainer_types
from rldojo.settings import RunOptions, load_run_options
from rldojo_sb3.algorithms import algorithms
from rldojo_sb3.model import behavior_layouts_for
from rldojo_sb3.settings import SB3HyperparamSettings

from .core_helpers import CORE_TESTS, onnx_checks

pytestmark = pytest.mark.smoke
CONFIGS = CORE_TESTS.parents[1] / "configs"


def load(tmp_path, behavior: dict) -> RunOptions:
    path = tmp_path / "run.yaml"
    path.write_text(
        yaml.safe_dump({"behaviors": {"3DBall": behavior}, "env_settings": {"env_path": "sim:3DBall"}})
    )
    return load_run_options(path, {})


def test_every_core_sb3_algorithm_is_an_installed_trainer_type():
    assert {"sb3_ppo", "sb3_a2c", "sb3_dqn", "sb3_sac", "sb3_td3"} <= set(trainer_types())
    assert trainer_types()["sb3_ppo"].source.distribution == "rldojo-sb3"


def test_a_wrong_hyperparameter_is_one_config_error_naming_it_and_the_valid_keys(tmp_path):
    with pytest.raises(ConfigError) as error:
        load(tmp_path, {"trainer_type": "sb3_ppo", "hyperparameters": {"n_steps": 64, "num_epoch": 3}})
    message = str(error.value)
    assert "num_epoch" in message and "did you mean 'n_epochs'" in message
    assert "clip_range" in message and "gae_lambda" in message  # the valid keys are listed
    assert len(message.splitlines()) == 1


def test_arguments_rldojo_sets_are_refused_with_where_to_set_them(tmp_path):
    with pytest.raises(ConfigError, match=r"'seed'.*rldojo sets it \(env_settings\.seed"):
        load(tmp_path, {"trainer_type": "sb3_sac", "hyperparameters": {"seed": 3}})


def test_yaml_numbers_and_the_linear_schedule_reach_the_constructor(tmp_path):
    options = load(
        tmp_path,
        {
            "trainer_type": "sb3_ppo",
            "hyperparameters": {
                "n_steps": "2.048e3",
                "learning_rate": "1e-3",
                "learning_rate_schedule": "linear",
            },
        },
    )
    hyperparameters = options.behavior_settings("3DBall").hyperparameters
    assert isinstance(hyperparameters, SB3HyperparamSettings)
    kwargs = hyperparameters.algorithm_kwargs()
    assert kwargs["n_steps"] == 2048
    schedule = kwargs["learning_rate"]
    assert schedule(1.0) == pytest.approx(1e-3) and schedule(0.5) == pytest.approx(5e-4)
    assert "batch_size" not in kwargs  # rldojo's common defaults are not passed to SB3


@pytest.mark.parametrize("config", ["ppo", "sac", "dqn"])
def test_shipped_configs_load_and_survive_a_dump_and_reload(config, tmp_path):
    options = load_run_options(CONFIGS / "sb3" / f"{config}.yaml", {})
    (name,) = options.behaviors
    settings = options.behavior_settings(name).hyperparameters
    reloaded = load(tmp_path, options.behavior_settings(name).model_dump(mode="json"))
    again = reloaded.behavior_settings("3DBall").hyperparameters
    assert isinstance(settings, SB3HyperparamSettings) and isinstance(again, SB3HyperparamSettings)
    assert again.algorithm_kwargs() == settings.algorithm_kwargs()


@pytest.mark.parametrize(
    ("trainer_type", "spec", "message"),
    [
        ("sb3_dqn", onnx_checks.BALL, "actions are Box"),
        (
            "sb3_dqn",
            BehaviorSpec(onnx_checks.BASIC.observation_specs, ActionSpec.create_discrete((2, 3))),
            "MultiDiscrete",
        ),
        ("sb3_sac", onnx_checks.BASIC, "actions are Discrete"),
        ("sb3_ppo", onnx_checks.HYBRID, "hybrid"),
        ("sb3_ppo", onnx_checks.SIM_GRID_WORLD, "vector observations only"),
    ],
)
def test_behaviors_an_algorithm_cannot_act_in_are_config_errors(trainer_type, spec, message):
    with pytest.raises(ConfigError, match=message):
        behavior_layouts_for(algorithms()[trainer_type], "Behavior", spec)


def test_sb3_progress_bar_has_its_dependencies_installed():
    """SB3's ``learn(progress_bar=True)`` needs tqdm and rich, which rldojo-sb3 declares."""
    import gymnasium
    from stable_baselines3 import PPO

    PPO("MlpPolicy", gymnasium.make("CartPole-v1"), n_steps=32, batch_size=32).learn(32, progress_bar=True)
