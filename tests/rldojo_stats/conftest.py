"""Two seeds of a short PPO run on sim:Basic through `rldojo learn`, with every writer of the package.

Seed 1 runs 1500 steps, gets an ONNX model placed in its folder (rldojo has no ONNX export yet)
and is resumed to 2100 steps. Seed 2 runs 1500 steps. The plugin guide's example package is
installed beside them, so its ``reward_log`` writer records the same runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import onnx
import pytest
import yaml
from onnx import TensorProto, helper

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "rldojo-plugin-example"
FAKE_API_KEY = "0123456789abcdef0123456789abcdef01234567"
SUMMARY_FREQ = 300


@dataclass(frozen=True)
class TrainedRuns:
    results: Path
    wandb_dir: Path
    console: dict[str, str]
    """stdout of each launch, by run id (a resumed run's launches concatenated)."""

    def folder(self, run_id: str) -> Path:
        return self.results / run_id


def write_identity_onnx(path: Path) -> None:
    """A real (tiny) ONNX model file, standing in for the export rldojo does not have yet."""
    tensor = helper.make_tensor_value_info("obs_0", TensorProto.FLOAT, [1, 20])
    output = helper.make_tensor_value_info("action", TensorProto.FLOAT, [1, 20])
    graph = helper.make_graph(
        [helper.make_node("Identity", ["obs_0"], ["action"])], "policy", [tensor], [output]
    )
    onnx.save(helper.make_model(graph), str(path))


@pytest.fixture(scope="session")
def trained_runs(tmp_path_factory: pytest.TempPathFactory, plugin_example_site: Path) -> TrainedRuns:
    root = tmp_path_factory.mktemp("stats_runs")
    site = plugin_example_site
    config = {
        "behaviors": {
            "Basic": {
                "trainer_type": "ppo",
                "hyperparameters": {"batch_size": 32, "buffer_size": 256, "learning_rate": 0.003},
                "network_settings": {"hidden_units": 20, "num_layers": 1},
                "reward_signals": {"extrinsic": {"gamma": 0.9}},
                "max_steps": 1500,
                "time_horizon": 3,
                "summary_freq": SUMMARY_FREQ,
            }
        },
        "stats_writers": {"csv": None, "jsonl": {"episodes": True}, "wandb": {"group": "basic"}},
    }
    (root / "basic.yaml").write_text(yaml.safe_dump(config))
    config["behaviors"]["Basic"]["max_steps"] = 2100
    (root / "basic_longer.yaml").write_text(yaml.safe_dump(config))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])),
        "WANDB_MODE": "offline",
        "WANDB_DIR": str(root),
        "WANDB_API_KEY": FAKE_API_KEY,
        "WANDB_DATA_DIR": str(root / "wandb_data"),
        "WANDB_CACHE_DIR": str(root / "wandb_cache"),
        "WANDB_CONFIG_DIR": str(root / "wandb_config"),
    }
    rldojo = str(Path(sys.executable).with_name("rldojo"))

    def learn(config_name: str, run_id: str, *flags: str) -> str:
        command = [rldojo, "learn", config_name, "--env", "sim:Basic", "--run-id", run_id, *flags]
        result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        return result.stdout

    wandb_flags = (
        "--wandb-mode",
        "offline",
        "--wandb-project",
        "rldojo-tests",
        "--wandb-tags",
        "basic",
        "s1",
    )
    console = {"basic_s1": learn("basic.yaml", "basic_s1", "--seed", "1", *wandb_flags)}
    write_identity_onnx(root / "results" / "basic_s1" / "Basic.onnx")
    console["basic_s1"] += learn("basic_longer.yaml", "basic_s1", "--resume", *wandb_flags)
    console["basic_s2"] = learn("basic.yaml", "basic_s2", "--seed", "2")  # W&B mode from WANDB_MODE
    return TrainedRuns(results=root / "results", wandb_dir=root / "wandb", console=console)
