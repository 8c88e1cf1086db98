"""Plugin contracts, checked through outside packages in a temporary site folder and the real command line."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
import yaml

from rldojo import plugins
from rldojo.errors import ConfigError
from rldojo.settings import run_options_from_dict

from .plugin_sites import run_rldojo, write_distribution

pytestmark = pytest.mark.smoke

BASIC = Path(__file__).resolve().parents[2] / "configs" / "basic_ppo.yaml"

BROKEN_TRAINER = "import a_module_that_is_not_installed\n"

RENAMED_PPO = """
from rldojo.trainers.ppo.settings import PPOSettings

def get_type_and_setting():
    return {"my_ppo": "rldojo.trainers.ppo.trainer:PPOTrainer"}, {"my_ppo": PPOSettings}
"""

INCOMPLETE_TRAINER = """
from rldojo.settings import OnPolicyHyperparamSettings
from rldojo.trainers import OnPolicyTrainer

class HalfTrainer(OnPolicyTrainer):
    pass  # OnPolicyTrainer brings the policy; the loss (create_optimizer) is missing

def get_type_and_setting():
    return {"half": HalfTrainer}, {"half": OnPolicyHyperparamSettings}
"""

WRITER_NOT_IN_A_LIST = """
from rldojo.stats import StatsWriter

class LoneWriter(StatsWriter):
    def write_stats(self, category, values, step):
        pass

def get_writer(run_options):
    return LoneWriter()
"""


@pytest.fixture
def site(tmp_path, monkeypatch):
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    plugins.clear_cache()
    yield folder
    plugins.clear_cache()


def basic_config(folder: Path, trainer_type: str, max_steps: int = 200) -> str:
    config = yaml.safe_load(BASIC.read_text())
    config["behaviors"]["Basic"].update(trainer_type=trainer_type, max_steps=max_steps, summary_freq=100)
    (folder / f"{trainer_type}.yaml").write_text(yaml.safe_dump(config))
    return f"{trainer_type}.yaml"


def test_a_broken_trainer_plugin_fails_only_the_runs_that_use_it(site, tmp_path):
    entry_point = "vpg = broken_trainer:get_type_and_setting"
    write_distribution(site, "broken-trainer", f"[rldojo.trainer_type]\n{entry_point}\n",
                       {"broken_trainer": BROKEN_TRAINER})  # fmt: skip
    cause = (
        f"plugin broken-trainer (entry point '{entry_point}') in group rldojo.trainer_type failed to load: "
        "ModuleNotFoundError: No module named 'a_module_that_is_not_installed'"
    )
    uses_it = run_rldojo(
        "learn", basic_config(tmp_path, "vpg"), "--run-id", "vpg", pythonpath=site, cwd=tmp_path
    )
    assert uses_it.returncode == 2
    assert uses_it.stderr.strip().splitlines() == [
        f"rldojo: vpg.yaml: behaviors.Basic.trainer_type: trainer type 'vpg' is not available: {cause}"
    ]
    other = run_rldojo(
        "learn", basic_config(tmp_path, "ppo"), "--run-id", "ppo", pythonpath=site, cwd=tmp_path
    )
    assert other.returncode == 0, other.stderr
    listing = run_rldojo("plugins", pythonpath=site, cwd=tmp_path)
    assert f"  BROKEN: {cause}" in listing.stdout.splitlines()

    manifest = json.loads((tmp_path / "results" / "ppo" / "run_manifest.json").read_text())
    used = {(record["group"], record["name"]): record for record in manifest["plugins"]}
    assert used[("rldojo.trainer_type", "ppo")]["distribution"] == "rldojo"
    assert used[("rldojo.env", "sim")]["distribution"] == "rldojo-sim"
    assert used[("rldojo.stats_writer", "default")]["distribution"] == "rldojo"
    assert all(re.fullmatch(r"\d+\.\d+.*", record["version"]) for record in manifest["plugins"])
    assert ("rldojo.trainer_type", "vpg") not in used


def test_resume_after_the_trainer_plugin_was_uninstalled_says_what_to_install(site, tmp_path):
    write_distribution(site, "my-ppo-plugin", "[rldojo.trainer_type]\nmy_ppo = my_ppo:get_type_and_setting\n",
                       {"my_ppo": RENAMED_PPO})  # fmt: skip
    config = basic_config(tmp_path, "my_ppo", max_steps=100)
    first = run_rldojo("learn", config, "--run-id", "mine", pythonpath=site, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    manifest = json.loads((tmp_path / "results" / "mine" / "run_manifest.json").read_text())
    record = {
        "group": "rldojo.trainer_type",
        "name": "my_ppo",
        "distribution": "my-ppo-plugin",
        "version": "0.1",
    }
    assert {**record, "entry_point": "my_ppo = my_ppo:get_type_and_setting"} in manifest["plugins"]
    resumed = run_rldojo("learn", config, "--run-id", "mine", "--resume", cwd=tmp_path)
    assert resumed.returncode == 2
    [line] = resumed.stderr.strip().splitlines()
    assert line.endswith(
        "trainer_type 'my_ppo' came from my-ppo-plugin 0.1, which is not installed; install my-ppo-plugin"
    )


def test_a_trainer_class_missing_abstract_methods_is_one_line_naming_the_plugin(site):
    entry_point = "half = half_trainer:get_type_and_setting"
    write_distribution(site, "half-trainer", f"[rldojo.trainer_type]\n{entry_point}\n",
                       {"half_trainer": INCOMPLETE_TRAINER})  # fmt: skip
    with pytest.raises(ConfigError) as raised:
        run_options_from_dict({"behaviors": {"B": {"trainer_type": "half"}}}, "run.yaml")
    assert str(raised.value) == (
        "run.yaml: behaviors.B.trainer_type: trainer type 'half' is not available: plugin half-trainer "
        "(entry point 'half = half_trainer:get_type_and_setting'): trainer class half_trainer.HalfTrainer of "
        "'half' does not implement create_optimizer"
    )


def test_a_writer_factory_returning_a_writer_not_a_list_is_one_line_naming_the_plugin(site, tmp_path):
    write_distribution(site, "lone-writer", "[rldojo.stats_writer]\nlone = lone_writer:get_writer\n",
                       {"lone_writer": WRITER_NOT_IN_A_LIST})  # fmt: skip
    result = run_rldojo(
        "learn", basic_config(tmp_path, "ppo"), "--run-id", "lone", pythonpath=site, cwd=tmp_path
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "rldojo: error: plugin lone-writer (entry point 'lone = lone_writer:get_writer'): the writer factory "
        "must return a list of StatsWriter, got LoneWriter; wrap a single writer as [writer] "
        "(run with --debug for the traceback)"
    )


def test_a_plugin_under_an_mlagents_group_gets_one_warning_pointing_to_the_porting_guide(site, caplog):
    write_distribution(site, "mlagents-writer", "[mlagents.stats_writer]\nexample = ml_writer:get_writers\n",
                       {"ml_writer": "def get_writers(run_options):\n    return []\n"})  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="rldojo.plugins"):
        plugins.stats_writer_registry()
        plugins.trainer_type_registry()
    [warning] = [record.getMessage() for record in caplog.records]
    assert warning == (
        "ignoring ML-Agents plugin(s) mlagents-writer (entry point 'example = ml_writer:get_writers') in "
        "mlagents.stats_writer: rldojo reads the groups rldojo.trainer_type and rldojo.stats_writer; see "
        "docs/plugins.md#porting-an-ml-agents-plugin to port them"
    )
    assert "example" not in plugins.stats_writer_factories()
