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


BUILD_A_TRAINER = """
import sys
import torch
from mlagents_envs.base_env import ActionSpec, BehaviorSpec, ObservationSpec
from mlagents_envs.base_env import DimensionProperty, ObservationType
from rldojo.plugins import trainer_class
from rldojo.settings import run_options_from_dict
from rldojo.torch_startup import keep_dynamo_unloaded

keep_dynamo_unloaded()
options = run_options_from_dict({"behaviors": {"B": {"trainer_type": sys.argv[1]}}}, "run.yaml")
spec = BehaviorSpec([ObservationSpec((8,), (DimensionProperty.NONE,), ObservationType.DEFAULT, "obs")],
                    ActionSpec(2, ()))
trainer = trainer_class(sys.argv[1])("B", 10, options.behaviors["B"], True, False, 0, sys.argv[2])
trainer.add_policy("B", trainer.create_policy("B", spec))
for module in trainer.optimizer.get_modules().values():
    if isinstance(module, torch.optim.Optimizer):
        parameters = [parameter for group in module.param_groups for parameter in group["params"]]
        sum(parameter.sum() for parameter in parameters).backward()
        module.step()
print(sorted(name for name in ("torch._dynamo", "sympy") if name in sys.modules))
"""


@pytest.mark.parametrize("trainer_type", ["ppo", "sac"])
def test_building_and_stepping_a_trainer_does_not_import_the_torch_compiler(trainer_type, tmp_path):
    """Building the optimizers, and their first step, imported torch._dynamo: about a second of CPU at
    the start of every run, for a compiler rldojo never uses."""
    command = [sys.executable, "-c", BUILD_A_TRAINER, trainer_type, str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
