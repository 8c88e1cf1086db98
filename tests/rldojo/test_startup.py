"""What rldojo imports at start: no torch for `--help`, `rldojo plugins`, config validation or env workers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .plugin_sites import run_rldojo, write_distribution

pytestmark = pytest.mark.smoke

CONFIGS = Path(__file__).resolve().parents[2] / "configs"

FRESH_INTERPRETER = """
import contextlib, io, sys
from pathlib import Path
from rldojo.cli import main
from rldojo.settings import load_run_options

with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(["--help"])
    except SystemExit:
        pass
    assert main(["plugins"]) == 0
for config in sys.argv[1:]:
    load_run_options(Path(config))
print(sorted(name for name in sys.modules if name.partition(".")[0] == "torch"))
"""


def test_help_plugins_and_config_validation_import_no_torch(tmp_path):
    with_writers = yaml.safe_load((CONFIGS / "ppo.yaml").read_text())
    with_writers["stats_writers"] = {"csv": None, "jsonl": None, "wandb": {"mode": "offline"}}
    (tmp_path / "writers.yaml").write_text(yaml.safe_dump(with_writers))
    configs = [CONFIGS / "ppo.yaml", CONFIGS / "sac.yaml", CONFIGS / "dqn.yaml", tmp_path / "writers.yaml"]
    result = subprocess.run(
        [sys.executable, "-c", FRESH_INTERPRETER, *map(str, configs)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


PROBE = """
import os, sys
from pathlib import Path

from rldojo_sim.provider import create_sim_env


def providers():
    return {"probe": probe}


def torch_modules():
    return ",".join(sorted(name for name in sys.modules if name.partition(".")[0] == "torch")) or "none"


def probe(name, *, worker_id=0, **options):
    env = create_sim_env(name, worker_id=worker_id, **options)
    close = env.close
    folder = Path(os.environ["PROBE_OUT"])

    def close_and_record():
        (folder / f"worker-{worker_id}-{os.getpid()}").write_text(torch_modules())
        close()

    (folder / f"start-{worker_id}-{os.getpid()}").write_text(torch_modules())
    env.close = close_and_record
    return env
"""


def test_env_worker_processes_never_import_torch(tmp_path, monkeypatch):
    """Two env workers of a real `rldojo learn` run record the torch modules they hold, at start and close."""
    site, out = tmp_path / "site", tmp_path / "out"
    out.mkdir()
    write_distribution(
        site, "worker-probe", "[rldojo.env]\nprobe = worker_probe:providers\n", {"worker_probe": PROBE}
    )
    config = yaml.safe_load((CONFIGS / "ppo.yaml").read_text())
    config["behaviors"]["3DBall"].update(max_steps=300, summary_freq=300, checkpoint_interval=300)
    config["behaviors"]["3DBall"]["hyperparameters"].update(buffer_size=128, batch_size=64)
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("PROBE_OUT", str(out))
    result = run_rldojo("learn", "run.yaml", "--env", "probe:3DBall", "--num-envs", "2", "--run-id", "probe",
                        pythonpath=site, cwd=tmp_path, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert sorted(path.name.split("-")[0] for path in out.iterdir()) == ["start", "start", "worker", "worker"]
    assert {path.read_text() for path in out.iterdir()} == {"none"}
