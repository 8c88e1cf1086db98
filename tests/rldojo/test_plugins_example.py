"""The plugin guide's outside package: build and install it, list it, and train Basic with it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from .plugin_sites import listed_plugins, run_rldojo

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "rldojo-plugin-example"


def test_rldojo_plugins_lists_the_plugin_example_site(plugin_example_site, tmp_path):
    rows = listed_plugins(plugin_example_site, tmp_path)
    assert rows["vpg"][1:] == [
        "rldojo_plugin_example.vpg.VPGTrainer", "settings", "rldojo_plugin_example.vpg.VPGSettings",
        "from", "rldojo-plugin-example",
    ]  # fmt: skip
    assert rows["reward_log"][-2:] == ["from", "rldojo-plugin-example"]


@pytest.mark.slow
def test_example_trainer_and_writer_learn_basic(plugin_example_site, tmp_path):
    """The guide's command, shortened: VPG reaches Basic's optimum (0.93) region within 6000 steps."""
    config = yaml.safe_load((EXAMPLE / "vpg_basic.yaml").read_text())
    config["behaviors"]["Basic"]["max_steps"] = 6000
    (tmp_path / "vpg.yaml").write_text(yaml.safe_dump(config))
    result = run_rldojo("learn", "vpg.yaml", "--env", "sim:Basic", "--run-id", "vpg", "--seed", "1",
                        pythonpath=plugin_example_site, cwd=tmp_path, timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr
    header, *rows = (tmp_path / "results" / "vpg" / "reward_log.tsv").read_text().splitlines()
    assert header == "step\tbehavior\tmean_reward\tepisodes"
    steps = [int(row.split("\t")[0]) for row in rows]
    rewards = [float(row.split("\t")[2]) for row in rows]
    assert steps == [1000, 2000, 3000, 4000, 5000, 6000]
    assert rewards[-1] >= 0.8 and rewards[-1] > rewards[0] + 0.3, rewards
    assert (tmp_path / "results" / "vpg" / "Basic" / "checkpoint.pt").is_file()
