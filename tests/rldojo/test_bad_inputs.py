"""A corpus of bad inputs (configs, flags, files, env specs): each exits 2 with one line, writing nothing.

Every case runs the CLI's ``main()`` in this process, in a folder holding only the case's files, and
checks: exit code 2, exactly one stderr line starting ``rldojo``, no traceback, and the folder's files
byte for byte as they were (nothing written, nothing lost). Add a case with every new option.

``python tests/rldojo/test_bad_inputs.py`` prints the corpus table (inputs, clean lines, tracebacks,
wrong exit codes).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from rldojo.cli import main

pytestmark = pytest.mark.smoke

GOOD = """\
behaviors:
  Basic:
    trainer_type: ppo
    hyperparameters: {batch_size: 16, buffer_size: 64}
    network_settings: {hidden_units: 8, num_layers: 1}
    max_steps: 100
    time_horizon: 8
    summary_freq: 50
env_settings: {env_path: sim:Basic}
"""
LEARN = ["learn", "run.yaml", "--run-id", "r"]


def behavior(yaml_lines: str) -> str:
    """The good config with ``yaml_lines`` (indented under ``Basic:``) added to the behavior."""
    return GOOD.replace("    summary_freq: 50\n", "    summary_freq: 50\n" + yaml_lines)


def hyper(key_values: str) -> str:
    return GOOD.replace("{batch_size: 16, buffer_size: 64}", "{" + key_values + "}")


def top(yaml_text: str) -> str:
    return GOOD + yaml_text


def executable(path: Path) -> None:
    path.chmod(0o755)


@dataclass(frozen=True)
class Case:
    argv: list[str]
    files: dict[str, str | bytes] = field(default_factory=dict)
    prepare: Callable[[Path], None] | None = None


def config(text: str, *flags: str) -> Case:
    return Case([*LEARN, *flags], {"run.yaml": text})


def flags(*given: str) -> Case:
    return config(GOOD, *given)


def finished_run() -> dict[str, str | bytes]:
    """A run folder whose behavior already reached max_steps, as ``training_status.json`` records it."""
    status = '{"Basic": {"checkpoints": [{"steps": 100, "file_path": "results/r/Basic/Basic-100.pt"}]}}'
    return {
        "run.yaml": GOOD,
        "results/r/configuration.yaml": GOOD,
        "results/r/Basic/Basic-100.pt": b"checkpoint",
        "results/r/run_logs/training_status.json": status,
    }


def changed_network_run() -> dict[str, str | bytes]:
    files = finished_run()
    files["results/r/run_logs/training_status.json"] = "{}"
    files["run.yaml"] = GOOD.replace("hidden_units: 8", "hidden_units: 16")
    return files


def not_executable(folder: Path) -> None:
    (folder / "player.x86_64").chmod(0o644)


CASES: dict[str, Case] = {
    # --- the config file itself
    "config missing": Case(LEARN),
    "config is a folder": Case(LEARN, {"run.yaml/inside": ""}),
    "config not UTF-8": config(GOOD.encode() + b"# \xff\xfe\n"),  # type: ignore[arg-type]
    "config larger than 1 MiB": config(GOOD + "#" * (1 << 20)),
    "config binary": config(bytes(range(256)) * 4),  # type: ignore[arg-type]
    "config empty": config(""),
    "config only a comment": config("# nothing here\n"),
    "config a list": config("- behaviors\n"),
    "config a string": config("just words\n"),
    "config YAML syntax": config("behaviors:\n  Basic: {max_steps: 10\n"),
    "config tab indentation": config("behaviors:\n\tBasic: {}\n"),
    "config duplicate top key": config(GOOD + "behaviors: {Basic: {}}\n"),
    "config duplicate behavior key": config(behavior("    max_steps: 5\n")),
    "config duplicate hyperparameter": config(hyper("batch_size: 16, batch_size: 32, buffer_size: 64")),
    "config deep nesting": config("a: " + "[" * 2000 + "]" * 2000 + "\n"),
    "config python tag": config(top("debug: !!python/object/apply:os.system ['true']\n")),
    "config no behaviors and no defaults": config("env_settings: {env_path: sim:Basic}\n"),
    # --- sections and keys
    "unknown section": config(top("behaviours: {}\n")),
    "behaviors a list": config("behaviors: [Basic]\nenv_settings: {env_path: sim:Basic}\n"),
    "behavior a number": config("behaviors: {Basic: 3}\nenv_settings: {env_path: sim:Basic}\n"),
    "default_settings a list": config(top("default_settings: [1]\n")),
    "unknown behavior key": config(behavior("    max_step: 10\n")),
    "unknown hyperparameter": config(hyper("batch_size: 16, buffer_size: 64, learning_rat: 0.1")),
    "unknown network key": config(GOOD.replace("hidden_units: 8", "hiden_units: 8")),
    "unknown env_settings key": config(
        top("env_settings: {env_pth: sim:Basic}\n").replace("env_settings: {env_path: sim:Basic}\n", "", 1)
    ),
    "unknown engine key": config(top("engine_settings: {widht: 10}\n")),
    "unknown checkpoint key": config(top("checkpoint_settings: {run_idd: x}\n")),
    "unknown torch key": config(top("torch_settings: {devices: cpu}\n")),
    "unknown reward signal": config(behavior("    reward_signals: {extrinsik: {}}\n")),
    "gail demo missing": config(behavior("    reward_signals: {gail: {demo_path: x}}\n")),
    "no reward signal": config(behavior("    reward_signals: {}\n")),
    "unknown trainer type": config(GOOD.replace("trainer_type: ppo", "trainer_type: ppo2")),
    "trainer type a number": config(GOOD.replace("trainer_type: ppo", "trainer_type: 3")),
    "self_play window zero": config(behavior("    self_play: {window: 0}\n")),
    "self_play ratio above 1": config(behavior("    self_play: {play_against_latest_model_ratio: 1.5}\n")),
    "threaded": config(behavior("    threaded: true\n")),
    "memory with dqn": config(
        GOOD.replace("num_layers: 1", "num_layers: 1, memory: {memory_size: 8}").replace(
            "trainer_type: ppo", "trainer_type: dqn"
        )
    ),
    "odd memory_size": config(GOOD.replace("num_layers: 1", "num_layers: 1, memory: {memory_size: 7}")),
    "behavioral cloning demo missing": config(behavior("    behavioral_cloning: {demo_path: x.demo}\n")),
    "curiosity with sb3_ppo": config(
        behavior("    reward_signals: {extrinsic: {}, curiosity: {}}\n").replace(
            "trainer_type: ppo", "trainer_type: sb3_ppo"
        )
    ),
    "behavioral cloning with sb3_dqn": config(
        behavior("    behavioral_cloning: {demo_path: x.demo}\n").replace(
            "trainer_type: ppo", "trainer_type: sb3_dqn"
        )
    ),
    "unknown activation": config(GOOD.replace("num_layers: 1", "num_layers: 1, activation: sigmoid")),
    "unknown encoder": config(GOOD.replace("num_layers: 1", "num_layers: 1, vis_encode_type: vit")),
    "unknown schedule": config(hyper("batch_size: 16, buffer_size: 64, learning_rate_schedule: cosine")),
    "unknown stats writer": config(top("stats_writers: {mlflow: {}}\n")),
    "unknown device in config": config(top("torch_settings: {device: tpu}\n")),
    # --- values: types, ranges, finiteness
    "learning_rate .inf": config(hyper("batch_size: 16, buffer_size: 64, learning_rate: .inf")),
    "learning_rate .nan": config(hyper("batch_size: 16, buffer_size: 64, learning_rate: .nan")),
    "learning_rate -inf": config(hyper("batch_size: 16, buffer_size: 64, learning_rate: -.inf")),
    "learning_rate zero": config(hyper("batch_size: 16, buffer_size: 64, learning_rate: 0")),
    "learning_rate negative": config(hyper("batch_size: 16, buffer_size: 64, learning_rate: -0.1")),
    "learning_rate text": config(hyper("batch_size: 16, buffer_size: 64, learning_rate: fast")),
    "max_steps 1e300": config(GOOD.replace("max_steps: 100", "max_steps: 1e300")),
    "max_steps true": config(GOOD.replace("max_steps: 100", "max_steps: true")),
    "max_steps negative": config(GOOD.replace("max_steps: 100", "max_steps: -1")),
    "max_steps fraction": config(GOOD.replace("max_steps: 100", "max_steps: 10.5")),
    "max_steps .inf": config(GOOD.replace("max_steps: 100", "max_steps: .inf")),
    "max_steps a list": config(GOOD.replace("max_steps: 100", "max_steps: [1]")),
    "batch_size zero": config(hyper("batch_size: 0, buffer_size: 64")),
    "batch_size > buffer_size": config(hyper("batch_size: 128, buffer_size: 64")),
    "sac batch_size > buffer_size": config(
        GOOD.replace("trainer_type: ppo", "trainer_type: sac").replace("buffer_size: 64", "buffer_size: 8")
    ),
    "buffer_size false": config(hyper("batch_size: 16, buffer_size: false")),
    "num_epoch zero": config(hyper("batch_size: 16, buffer_size: 64, num_epoch: 0")),
    "epsilon text": config(hyper("batch_size: 16, buffer_size: 64, epsilon: wide")),
    "hidden_units huge": config(GOOD.replace("hidden_units: 8", "hidden_units: 1000000")),
    "num_layers huge": config(GOOD.replace("num_layers: 1", "num_layers: 1000")),
    "hidden_units zero": config(GOOD.replace("hidden_units: 8", "hidden_units: 0")),
    "gamma above 1": config(behavior("    reward_signals: {extrinsic: {gamma: 1.5}}\n")),
    "strength nan": config(behavior("    reward_signals: {extrinsic: {strength: .nan}}\n")),
    "time_horizon zero": config(GOOD.replace("time_horizon: 8", "time_horizon: 0")),
    "summary_freq zero": config(GOOD.replace("summary_freq: 50", "summary_freq: 0")),
    "keep_checkpoints zero": config(behavior("    keep_checkpoints: 0\n")),
    "checkpoint_interval negative": config(behavior("    checkpoint_interval: -5\n")),
    "seed 2**70 in config": config(
        top("env_settings: {seed: 1180591620717411303424}\n").replace(
            "env_settings: {env_path: sim:Basic}\n", "", 1
        )
    ),
    "num_areas too many": config(GOOD.replace("sim:Basic}", "sim:Basic, num_areas: 100000}")),
    "time_scale inf": config(top("engine_settings: {time_scale: .inf}\n")),
    "width zero": config(top("engine_settings: {width: 0}\n")),
    "base_port 70000 in config": config(GOOD.replace("sim:Basic}", "sim:Basic, base_port: 70000}")),
    "curriculum unknown behavior": config(
        top(
            "environment_parameters:\n  g:\n    curriculum:\n"
            "      - {name: A, value: 1,\n"
            "         completion_criteria: {behavior: Nope, measure: reward, threshold: 1}}\n"
            "      - {name: B, value: 2}\n"
        )
    ),
    "sampler negative deviation": config(
        top(
            "environment_parameters:\n  g: {sampler_type: gaussian,\n"
            "      sampler_parameters: {mean: 0, st_dev: -1}}\n"
        )
    ),
    "parameter is text": config(top("environment_parameters: {gravity: strong}\n")),
    "run_id .. in config": Case(
        ["learn", "run.yaml"], {"run.yaml": top("checkpoint_settings: {run_id: ..}\n")}
    ),
    "resume and force in config": config(top("checkpoint_settings: {resume: true, force: true}\n")),
    # --- flags
    "rollout_cuts not a bool": config(hyper("batch_size: 16, buffer_size: 64, rollout_cuts: maybe")),
    "ray.acting unknown": config(top("ray: {acting: remote}\n")),
    "ray.policy_lag negative": config(top("ray: {policy_lag: -1}\n")),
    "ray.acting runner without a cluster": config(top("ray: {acting: runner}\n")),
    "--ray-acting unknown": flags("--ray-acting", "remote"),
    "--policy-lag -1": flags("--policy-lag", "-1"),
    "--num-envs 0": flags("--num-envs", "0"),
    "--num-envs 100000": flags("--num-envs", "100000"),
    "--num-envs text": flags("--num-envs", "many"),
    "--num-areas 0": flags("--num-areas", "0"),
    "--seed 2**70": flags("--seed", str(2**70)),
    "--seed -2": flags("--seed", "-2"),
    "--seed text": flags("--seed", "lucky"),
    "--base-port 0": flags("--base-port", "0"),
    "--base-port 70000": flags("--base-port", "70000"),
    "--timeout-wait 0": flags("--timeout-wait", "0"),
    "--time-scale nan": flags("--time-scale", "nan"),
    "--time-scale inf": flags("--time-scale", "inf"),
    "--time-scale -1": flags("--time-scale", "-1"),
    "--width -5": flags("--width", "-5"),
    "--device tpu": flags("--device", "tpu"),
    "--device cuda:99": flags("--device", "cuda:99"),
    "--run-id ..": Case(["learn", "run.yaml", "--run-id", ".."], {"run.yaml": GOOD}),
    "--run-id .": Case(["learn", "run.yaml", "--run-id", "."], {"run.yaml": GOOD}),
    "--run-id a/b": Case(["learn", "run.yaml", "--run-id", "a/b"], {"run.yaml": GOOD}),
    "--run-id ../escape": Case(["learn", "run.yaml", "--run-id", "../escape"], {"run.yaml": GOOD}),
    "--run-id /abs": Case(["learn", "run.yaml", "--run-id", "/tmp/abs"], {"run.yaml": GOOD}),
    "--run-id empty": Case(["learn", "run.yaml", "--run-id", ""], {"run.yaml": GOOD}),
    "--run-id newline": Case(["learn", "run.yaml", "--run-id", "a\nb"], {"run.yaml": GOOD}),
    "--initialize-from ..": flags("--initialize-from", ".."),
    "--initialize-from missing run": flags("--initialize-from", "nope"),
    "--initialize-from itself": flags("--initialize-from", "r"),
    "--resume and --initialize-from": flags("--resume", "--initialize-from", "other"),
    "--resume and --force": flags("--resume", "--force"),
    "--resume missing run": flags("--resume"),
    "--resume finished run": Case([*LEARN, "--resume"], finished_run()),
    "--resume changed network": Case([*LEARN, "--resume"], changed_network_run()),
    "existing run without --resume": Case(LEARN, finished_run()),
    "--force on a foreign folder": Case(
        [*LEARN, "--force"], {"run.yaml": GOOD, "results/r/photo.jpg": b"\xff"}
    ),
    "run folder is a file": Case(LEARN, {"run.yaml": GOOD, "results/r": "a file"}),
    "--results-dir below a file": flags("--results-dir", "run.yaml/results"),
    "--results-dir in /proc": flags("--results-dir", "/proc/rldojo-results"),
    "--results-dir in /sys": flags("--results-dir", "/sys/rldojo-results"),
    "--set unknown key": flags("--set", "behaviors.Basic.max_stepz=5"),
    "--set without =": flags("--set", "max_steps"),
    "--set bad value": flags("--set", "behaviors.Basic.max_steps=.inf"),
    "unknown flag": flags("--bogus-flag", "2"),
    "--wandb-mode bad": flags("--wandb-mode", "sometimes"),
    # --- env specs
    "env missing": config(GOOD.replace("env_settings: {env_path: sim:Basic}\n", "")),
    "--env sim:Nope": flags("--env", "sim:Nope"),
    "--env sim:basic (case)": flags("--env", "sim:basic"),
    "--env sim: (empty name)": flags("--env", "sim:"),
    "--env gym:NoSuchEnv-v0": flags("--env", "gym:NoSuchEnv-v0"),
    "--env gym:CartPole-v999": flags("--env", "gym:CartPole-v999"),
    "--env unknown scheme": flags("--env", "nosuch:Thing"),
    "--env missing path": flags("--env", "builds/Missing.x86_64"),
    "--env text file": Case([*LEARN, "--env", "notes.txt"], {"run.yaml": GOOD, "notes.txt": "hello\n"}),
    "--env executable text": Case(
        [*LEARN, "--env", "player.x86_64"],
        {"run.yaml": GOOD, "player.x86_64": "not a program\n"},
        prepare=lambda folder: executable(folder / "player.x86_64"),
    ),
    "--in-process true with a build": Case(
        [*LEARN, "--env", "player.x86_64", "--in-process", "true"],
        {"run.yaml": GOOD, "player.x86_64": "#!/bin/sh\nexit 1\n"},
        prepare=lambda folder: executable(folder / "player.x86_64"),
    ),
    "--in-process true with --num-envs 2": flags("--in-process", "true", "--num-envs", "2"),
    "--in-process sometimes": flags("--in-process", "sometimes"),
    "--env-args with a bad scene option value": flags("--env-args", "--num-areas", "two"),
    "--env-args bad value with env workers": flags("--num-envs", "2", "--env-args", "--num-areas", "two"),
    "in_process not a choice": config(GOOD.replace("sim:Basic}", "sim:Basic, in_process: 1}")),
    "--env not executable": Case(
        [*LEARN, "--env", "player.x86_64"],
        {"run.yaml": GOOD, "player.x86_64": b"\x7fELF\x02\x01\x01"},
        prepare=not_executable,
    ),
    # --- other commands
    "evaluate missing model": Case(["evaluate", "nope.onnx", "--env", "sim:Basic"]),
    "evaluate corrupt onnx": Case(["evaluate", "m.onnx", "--env", "sim:Basic"], {"m.onnx": b"garbage"}),
    "evaluate episodes 0": Case(["evaluate", "m.onnx", "--env", "sim:Basic", "--episodes", "0"]),
    "export missing run": Case(["export", "nope"]),
    "builds fetch unknown name": Case(
        ["builds", "fetch", "Nope", "--manifest", "b.toml"], {"b.toml": "[builds]\n"}
    ),
    "builds fetch escaping name": Case(
        ["builds", "fetch", "..", "--manifest", "b.toml"],
        {"b.toml": '[builds.".."]\nurl = "https://x/a.zip"\nsha256 = "' + "0" * 64 + '"\nexecutable = "a"\n'},
    ),
    "builds manifest missing": Case(["builds", "list", "--manifest", "none.toml"]),
    "builds manifest not TOML": Case(["builds", "list", "--manifest", "b.toml"], {"b.toml": "[[[\n"}),
}


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder`` with a hash of its bytes (folders: "dir")."""
    found = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        found[key] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return found


@dataclass(frozen=True)
class Outcome:
    code: int | str | None
    stderr: str
    changed: list[str]


def run_case(case: Case, folder: Path) -> Outcome:
    """Run ``case`` in ``folder`` (made to hold only its files) and report what happened."""
    for name, content in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    if case.prepare is not None:
        case.prepare(folder)
    before = _snapshot(folder)
    stderr = io.StringIO()
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            try:
                code: int | str | None = main(case.argv)
            except SystemExit as exit_:  # argparse
                code = exit_.code
    finally:
        os.chdir(cwd)
    after = _snapshot(folder)
    changed = sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))
    return Outcome(code, stderr.getvalue(), changed)


def problems(outcome: Outcome) -> list[str]:
    """What is wrong with an outcome: exit code, lines, traceback, files written or lost."""
    found = []
    if outcome.code != 2:
        found.append(f"exit code {outcome.code}")
    if "Traceback" in outcome.stderr:
        found.append("traceback")
    lines = outcome.stderr.splitlines()
    if len(lines) != 1 or not lines[0].startswith("rldojo"):
        found.append(f"{len(lines)} stderr lines: {outcome.stderr!r}")
    if outcome.changed:
        found.append(f"files written or lost: {outcome.changed}")
    return found


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_exits_2_with_one_line_and_writes_nothing(name, tmp_path):
    outcome = run_case(CASES[name], tmp_path)
    assert problems(outcome) == [], outcome.stderr


def test_the_corpus_is_large():
    assert len(CASES) >= 100


def corpus_table() -> str:
    """Run every case once; the table for the hardening note."""
    clean = tracebacks = wrong_codes = 0
    failures = []
    for name in sorted(CASES):
        with tempfile.TemporaryDirectory() as folder:
            outcome = run_case(CASES[name], Path(folder))
        found = problems(outcome)
        clean += not found
        tracebacks += "Traceback" in outcome.stderr
        wrong_codes += outcome.code != 2
        failures += [f"  {name}: {'; '.join(found)}"] if found else []
    rows = [
        "| inputs tried | clean exit-2 lines | tracebacks | wrong exit codes |",
        "|---|---|---|---|",
        f"| {len(CASES)} | {clean} | {tracebacks} | {wrong_codes} |",
    ]
    return "\n".join(rows + failures)


if __name__ == "__main__":
    print(corpus_table())
    sys.exit(0)
