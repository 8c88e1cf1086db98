"""The plugin guide's off-policy outside package: build and install it, list it, and learn Basic with it."""

from __future__ import annotations

import re

import pytest
import yaml

from rldojo.checkpoint import load_checkpoint

from .plugin_sites import listed_plugins, run_rldojo

EXAMPLE_CONFIG = "examples/rldojo-offpolicy-example/nstep_q_basic.yaml"


def test_rldojo_plugins_lists_the_offpolicy_example(offpolicy_example_site, tmp_path):
    rows = listed_plugins(offpolicy_example_site, tmp_path)
    assert rows["nstep_q"][1] == "rldojo_offpolicy_example.nstep_q.NStepQTrainer"
    assert rows["nstep_q"][-2:] == ["from", "rldojo-offpolicy-example"]


@pytest.mark.slow
def test_nstep_q_learns_basic_and_exports_a_greedy_model(offpolicy_example_site, tmp_path, request):
    """Basic's optimum is 0.93; epsilon falls from 1.0 to 0.05 by step 2000, so the first summary is
    mostly exploration."""
    config = yaml.safe_load((request.config.rootpath / EXAMPLE_CONFIG).read_text())
    config["behaviors"]["Basic"]["max_steps"] = 3000
    (tmp_path / "nstep.yaml").write_text(yaml.safe_dump(config))
    result = run_rldojo("learn", "nstep.yaml", "--env", "sim:Basic", "--run-id", "q", "--seed", "1",
                        pythonpath=offpolicy_example_site, cwd=tmp_path, timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr
    summaries = re.findall(r"Step: (\d+)\..*?Mean Reward: (-?\d+\.\d+)", result.stdout + result.stderr)
    rewards = {int(step): float(reward) for step, reward in summaries}
    assert rewards[3000] >= 0.85 and rewards[3000] > rewards[1000] + 0.2, rewards
    run = tmp_path / "results" / "q"
    saved = load_checkpoint(run / "Basic" / "checkpoint.pt")
    assert saved["trainer_type"] == "nstep_q" and saved["trainer_state"]["nstep_q_updates"] > 2000
    assert (run / "Basic.onnx").is_file()
