"""The plugin guide's reward-signal package: build and install it, list it, train and resume with it."""

from __future__ import annotations

import pytest
import yaml

from rldojo.checkpoint import load_checkpoint

from .plugin_sites import listed_plugins, run_rldojo

EXAMPLE_CONFIG = "examples/rldojo-reward-signal-example/pyramids_count_novelty.yaml"


def test_rldojo_plugins_lists_the_reward_signal_example(reward_signal_example_site, tmp_path):
    rows = listed_plugins(reward_signal_example_site, tmp_path)
    assert rows["count_novelty"][1] == "rldojo_reward_signal_example.count_novelty.CountNoveltySignal"
    assert rows["count_novelty"][-2:] == ["from", "rldojo-reward-signal-example"]


def test_an_unknown_signal_key_is_one_line(reward_signal_example_site, tmp_path, request):
    config = yaml.safe_load((request.config.rootpath / EXAMPLE_CONFIG).read_text())
    config["behaviors"]["Pyramids"]["reward_signals"]["count_novelty"]["hash_bitz"] = 8
    (tmp_path / "novelty.yaml").write_text(yaml.safe_dump(config))
    result = run_rldojo("learn", "novelty.yaml", pythonpath=reward_signal_example_site, cwd=tmp_path)
    assert result.returncode == 2
    last_line = result.stderr.strip().splitlines()[-1]
    expected = "reward_signals.count_novelty.hash_bitz: unknown key 'hash_bitz', did you mean 'hash_bits'?"
    assert last_line.endswith(expected)


@pytest.mark.slow
def test_count_novelty_rewards_and_its_counts_resume(reward_signal_example_site, tmp_path, request):
    config = yaml.safe_load((request.config.rootpath / EXAMPLE_CONFIG).read_text())
    behavior = config["behaviors"]["Pyramids"]
    behavior["hyperparameters"] |= {"buffer_size": 256, "batch_size": 64}
    behavior |= {"max_steps": 600, "summary_freq": 300}
    (tmp_path / "novelty.yaml").write_text(yaml.safe_dump(config))
    learn = ("learn", "novelty.yaml", "--run-id", "novelty", "--seed", "1")
    first = run_rldojo(*learn, pythonpath=reward_signal_example_site, cwd=tmp_path, timeout=600)
    assert first.returncode == 0, first.stderr
    checkpoint = tmp_path / "results" / "novelty" / "Pyramids" / "checkpoint.pt"
    counted = float(load_checkpoint(checkpoint)["reward_signals"]["count_novelty"]["counts"]["counts"].sum())
    assert counted > 0

    behavior["max_steps"] = 1200
    (tmp_path / "novelty.yaml").write_text(yaml.safe_dump(config))
    resumed = run_rldojo(*learn, "--resume", pythonpath=reward_signal_example_site, cwd=tmp_path, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    state = load_checkpoint(checkpoint)["reward_signals"]["count_novelty"]["counts"]
    assert float(state["counts"].sum()) > counted  # counting went on from the first run's counts
