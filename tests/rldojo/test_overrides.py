"""``rldojo learn CONFIG --set PATH=VALUE``: any YAML key from the command line, validated like the file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rldojo.cli import build_parser, main
from rldojo.commands.learn import overrides_from

from .test_cli import BASIC


@pytest.fixture
def config(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "basic.yaml"
    path.write_text(yaml.safe_dump(BASIC))
    return path


def test_set_values_reach_the_run_and_its_configuration_yaml(config):
    settings = ["behaviors.Basic.max_steps=120", "behaviors.Basic.hyperparameters.learning_rate=1e-4",
                "env_settings.seed=7"]  # fmt: skip
    args = [argument for setting in settings for argument in ("--set", setting)]
    assert main(["learn", config.name, "--run-id", "r1", "--device", "cpu", *args]) == 0
    saved = yaml.safe_load((config.parent / "results" / "r1" / "configuration.yaml").read_text())
    basic = saved["behaviors"]["Basic"]
    assert (basic["max_steps"], basic["hyperparameters"]["learning_rate"]) == (120, 1e-4)
    assert saved["env_settings"]["seed"] == 7
    assert basic["hyperparameters"]["batch_size"] == 32  # keys not set keep the file's values


@pytest.mark.smoke
def test_set_wins_over_a_flag_for_the_same_path_and_parses_yaml_scalars():
    args = build_parser().parse_args(
        ["learn", "c.yaml", "--seed", "3", "--set", "env_settings.seed=4", "--set", "debug=true",
         "--set", "behaviors.A.hyperparameters.learning_rate=1e-4", "--set", "behaviors.A.init_path=null"]
    )  # fmt: skip
    overrides = overrides_from(args)
    assert overrides["env_settings.seed"] == 4 and overrides["debug"] is True
    assert overrides["behaviors.A.init_path"] is None
    assert float(overrides["behaviors.A.hyperparameters.learning_rate"]) == 1e-4


BAD_SETTINGS = {
    "unknown key": (
        "behaviors.Basic.max_stepz=5",
        "--set behaviors.Basic.max_stepz: unknown key 'max_stepz', did you mean 'max_steps'?",
    ),
    "unknown nested key": (
        "behaviors.Basic.hyperparameters.learning_rat=1e-4",
        "--set behaviors.Basic.hyperparameters.learning_rat: unknown key 'learning_rat', "
        "did you mean 'learning_rate'?",
    ),
    "unknown behavior": (
        "behaviors.Basik.max_steps=5",
        "--set behaviors.Basik.max_steps: the config has no behavior 'Basik', did you mean 'Basic'?",
    ),
    "below a value": (
        "behaviors.Basic.max_steps.limit=5",
        "--set behaviors.Basic.max_steps.limit: behaviors.Basic.max_steps is 200, not a mapping of keys",
    ),
    "bad value": (
        "behaviors.Basic.hyperparameters.learning_rate=fast",
        "--set behaviors.Basic.hyperparameters.learning_rate: Input should be a valid number",
    ),
    "out of bounds": ("env_settings.num_envs=0", "--set env_settings.num_envs: Input should be greater than"),
    "top-level key": (
        "env_setings.seed=1",
        "--set env_setings.seed: unknown key 'env_setings', did you mean 'env_settings'?",
    ),
}


@pytest.mark.smoke
@pytest.mark.parametrize("case", sorted(BAD_SETTINGS))
def test_a_bad_path_or_value_is_one_line_naming_the_set_flag(case, config, capsys):
    setting, message = BAD_SETTINGS[case]
    assert main(["learn", config.name, "--run-id", "r1", "--set", setting]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"rldojo: {message}"), error
    assert error.count("\n") == 1
    assert not (config.parent / "results").exists()


@pytest.mark.smoke
@pytest.mark.parametrize("setting", ["behaviors.Basic.max_steps", "=5", "behaviors..max_steps=5"])
def test_a_set_without_path_and_value_is_a_usage_error(setting, config, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["learn", config.name, "--set", setting])
    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith("rldojo learn: error: argument --set:") and "is not PATH=VALUE" in error
