"""The ``rldojo`` command line: bad flags and configs exit 2 in one line; a short real run; resume."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from rldojo.cli import build_parser, main, outcome
from rldojo.errors import ConfigError, RldojoError, TrainingInterrupted
from rldojo.run_directory import EXISTING_RUN_MESSAGE

BASIC = {
    "behaviors": {
        "Basic": {
            "trainer_type": "ppo",
            "hyperparameters": {"batch_size": 32, "buffer_size": 64},
            "network_settings": {"hidden_units": 16, "num_layers": 1},
            "max_steps": 200,
            "time_horizon": 3,
            "summary_freq": 100,
        }
    },
    "env_settings": {"env_path": "sim:Basic"},
}


def rldojo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed ``rldojo`` console script."""
    command = [str(Path(sys.executable).with_name("rldojo")), *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, env=dict(os.environ))


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "basic.yaml"
    path.write_text(yaml.safe_dump(BASIC))
    return path


@pytest.mark.smoke
def test_version_and_help(tmp_path):
    version = rldojo("--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.splitlines()[0].split() == ["rldojo", "0.1.0"]
    help_text = rldojo("--help", cwd=tmp_path)
    assert help_text.returncode == 0 and "learn" in help_text.stdout and "plugins" in help_text.stdout


BAD_COMMAND_LINES = {
    "not a number": (["--seed", "x"], "rldojo learn: error: argument --seed: invalid int value: 'x'"),
    "bad device": (
        ["--device", "gpu"],
        "rldojo learn: error: argument --device/--torch-device: invalid device 'gpu' (use auto, cpu, cuda or "
        "cuda:<index>)",
    ),
    "unknown flag": (
        ["--max-steps", "5"],
        "rldojo learn: error: unrecognized arguments: --max-steps 5 (see 'rldojo learn --help')",
    ),
    "abbreviated flag": (
        ["--num-env", "2"],
        "rldojo learn: error: unrecognized arguments: --num-env 2 (see 'rldojo learn --help')",
    ),
    "missing config": (["missing.yaml"], "rldojo: config file not found: missing.yaml"),
    "unknown key in the file": (
        ["bad.yaml"],
        "rldojo: bad.yaml: behaviors.Basic.max_step: unknown key 'max_step', did you mean 'max_steps'?",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_COMMAND_LINES))
def test_bad_command_line_exits_2_with_one_line(case, config):
    (config.parent / "bad.yaml").write_text("behaviors: {Basic: {max_step: 10}}\n")
    args, message = BAD_COMMAND_LINES[case]
    if not args[0].endswith(".yaml"):
        args = [config.name, *args]
    result = rldojo("learn", *args, cwd=config.parent)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0].startswith(message)
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (config.parent / "results").exists()


def all_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """``parser`` and every subcommand parser below it."""
    below = [
        child
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for child in action.choices.values()
    ]
    return [parser, *(nested for child in below for nested in all_parsers(child))]


@pytest.mark.smoke
def test_no_command_takes_an_abbreviated_flag():
    parsers = all_parsers(build_parser())
    assert len(parsers) > 8  # rldojo, its commands (plugins' too) and builds' and docker's actions
    assert [parser.prog for parser in parsers if parser.allow_abbrev] == []


@pytest.mark.smoke
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--env", "nothere"],
            "--env 'nothere': no such Unity build, and not an env spec of an installed provider",
        ),
        (["--env", ""], "no environment given: pass --env SPEC"),
        (["--resume"], "--resume: there is no run 'r1' to resume in results; leave out --resume to start it"),
        (["--initialize-from", "r0"], "--initialize-from: there is no run 'r0' in results"),
        (
            ["--initialize-from", "r1"],
            "--initialize-from: initialize_from names this run ('r1'); use --resume to continue it",
        ),
        (
            ["--resume", "--force"],
            "basic.yaml: checkpoint_settings: --resume and --force cannot be used together",
        ),
        (["--num-envs", "0"], "--num-envs: Input should be greater than or equal to 1"),
    ],
)
def test_bad_run_requests_exit_2_before_anything_is_written(args, message, config, monkeypatch, capsys):
    monkeypatch.chdir(config.parent)
    assert main(["learn", config.name, "--run-id", "r1", *args]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"rldojo: {message}") and error.count("\n") == 1
    assert not (config.parent / "results" / "r1").exists()


@pytest.mark.smoke
def test_debug_shows_the_traceback(config, monkeypatch, capsys):
    monkeypatch.chdir(config.parent)
    assert main(["learn", config.name, "--env", "nothere", "--debug"]) == 2
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_learn_writes_the_run_folder_and_guards_it(config, monkeypatch, capsys):
    """A real short run over the in-process Basic scene, then the run-id and resume rules."""
    folder = config.parent
    monkeypatch.chdir(folder)
    assert main(["learn", config.name, "--run-id", "r1", "--seed", "5", "--device", "cpu"]) == 0
    run = folder / "results" / "r1"
    saved = yaml.safe_load((run / "configuration.yaml").read_text())
    assert saved["env_settings"]["seed"] == 5 and saved["torch_settings"]["device"] == "cpu"
    assert saved["behaviors"]["Basic"]["hyperparameters"]["epsilon"] == 0.2  # PPO default filled in
    manifest = json.loads((run / "run_manifest.json").read_text())
    assert manifest["command_line"] == ["rldojo", "learn", "basic.yaml", "--run-id", "r1", "--seed", "5",
                                        "--device", "cpu"]  # fmt: skip
    assert (manifest["seed"], manifest["device"], manifest["env"]) == (5, "cpu", {"spec": "sim:Basic"})
    assert manifest["packages"]["rldojo"] == "0.1.0" and manifest["torch"]
    assert len(manifest["uv_lock"]["sha256"]) == 64
    assert set(manifest["rldojo_source"]["git"]) == {"commit", "dirty"}
    assert capsys.readouterr().out.endswith(f"ONNX model: {Path('results', 'r1', 'Basic.onnx')}\n")

    assert main(["learn", config.name, "--run-id", "r1"]) == 2
    assert capsys.readouterr().err == f"rldojo: {EXISTING_RUN_MESSAGE} (results/r1)\n"

    assert main(["learn", config.name, "--run-id", "r1", "--resume"]) == 2
    finished = capsys.readouterr().err
    assert finished.startswith("rldojo: --resume: run 'r1' already reached max_steps (Basic at")

    changed = {**BASIC, "behaviors": {"Basic": {**BASIC["behaviors"]["Basic"], "max_steps": 300}}}
    config.write_text(yaml.safe_dump(changed))
    assert main(["learn", config.name, "--run-id", "r1", "--resume"]) == 0
    resumed = capsys.readouterr().out
    changes = "Resuming run 'r1'; changes since its last launch:\n  behaviors.Basic.max_steps: 200 -> 300\n"
    assert changes in resumed
    manifest = json.loads((run / "run_manifest.json").read_text())
    assert manifest["seed"] == 5  # the resumed run keeps its seed
    assert manifest["command_line"][-1] == "--resume"
    assert [launch["command_line"][-1] for launch in manifest["previous_launches"]] == ["cpu"]


@pytest.mark.smoke
@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        (ConfigError("bad key\nmore"), 2, "bad key"),
        (RldojoError("the environment failed"), 1, "error: the environment failed"),
        (
            TrainingInterrupted("training stopped by SIGINT after saving"),
            130,
            "training stopped by SIGINT after saving",
        ),
        (KeyboardInterrupt(), 130, "interrupted"),
        (ValueError("boom"), 1, "ValueError: boom"),
    ],
)
def test_exit_codes(error, code, message):
    assert outcome(error) == (code, message)


@pytest.mark.smoke
def test_debug_in_the_config_shows_the_traceback(config, monkeypatch, capsys):
    config.write_text(yaml.safe_dump({**BASIC, "debug": True}))
    monkeypatch.chdir(config.parent)
    assert main(["learn", config.name, "--env", "nothere"]) == 2
    assert "Traceback (most recent call last)" in capsys.readouterr().err
