"""rldojo against ``mlagents-learn`` 1.1 on rldojo-sim's launched builds, with ML-Agents' reference configs.

    .venv/bin/python scripts/bench_mlagents.py (--quick | --full) [--rows 3DBall-PPO ...]
        [--repeats N | --seed-list 1 2 3] [--configs DIR]

Each row runs the same ML-Agents YAML (from ``--configs``, ML-Agents' ``config/`` folder) with
``rldojo learn`` and with ``mlagents-learn`` on the same launched build
(``unity_builds/<Scene>/<Scene>.x86_64``, one env worker, CPU), one after the other (``--repeats N``: N
times, the order of the two tools alternating; the table shows medians; ``--seed-list``: one such run per
seed, both tools given ``--seed``, else each picks its own), and reports per tool:

- wall time from the command to the first summary whose mean reward reaches the row's target (start-up
  included; the run is stopped there), and the step of that summary (where learning, not speed, differs);
- agent steps per second once running: steps between the first and the last summary over their time;
- peak RSS of the whole process tree (trainer, env workers, the launched build; sampled every 100 ms).

ML-Agents needs Python <= 3.10.12, numpy < 1.24 and protobuf < 3.21, so it gets its own environment, made on
the first run in ``.bench/mlagents-venv`` (gitignored): ``uv venv`` on Python 3.10, then ``mlagents==1.1.0``
with ``setuptools<70`` (its ``pkg_resources`` import). Its final ONNX export calls ``torch.onnx.export``,
whose default on current torch is the dynamo exporter (it needs an onnxscript that ML-Agents' pinned onnx
and protobuf rule out); the setup adds ``dynamo=False`` to that one call, the exporter ML-Agents was
written for.
The DQN row runs rldojo only: ``dqn`` is a trainer type of ML-Agents' example plugin
(``ml-agents-trainer-plugin``), which is not on PyPI (and its source comes only with a checkout of the whole
ML-Agents repository, which this script does not make).

Both tools are timed the same way. Each writes a summary line (``<Behavior>. Step: N. ... Mean Reward: R.``,
the mean return of the episodes that ended since the previous summary) to its standard output, flushed as
it is written (rldojo's console writer; ML-Agents' logging handler), when the trajectory that crosses a
multiple of ``summary_freq`` is processed, before that trajectory's steps are counted and before the update
it may complete (rldojo keeps ML-Agents' rule, ``rldojo.training.TrainerSchedule``). One reader thread per
run stamps every line with the monotonic time it arrives; the time of the first summary at or above the
target counts. Neither tool writes a summary early or late relative to the other: the same steps get
a summary, and a run is not stopped before its reward is read.

Budgets and targets (mean reward of a summary), the same for both tools:

| row | ``--full``: reference config | ``--quick`` |
|---|---|---|
| 3DBall-PPO | 500k steps, summary every 12k, target 90 | 40k steps, summary every 4k, target 2 |
| 3DBall-SAC | 200k steps, summary every 12k, target 90 | 60k steps, summary every 2k, target 10 |
| Basic-DQN | the config's own, target 0.85 | 20k steps, summary every 1k, target 0.5 |

The quick 3DBall-SAC target is where SAC's reward leaves the plateau of a ball held briefly (about 1.5 for
both tools up to 20k steps): both tools passed 10 between 30k and 45k steps and reached 100 soon after,
so 60k steps leave margin for a slower seed. ``--full`` is the reference configs' own run, an hour or more
per ML-Agents row. Run it on an idle machine: the times are wall-clock times.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml
from bench_startup import tree_rss

ROOT = Path(__file__).resolve().parents[1]
MLAGENTS_VENV = ROOT / ".bench" / "mlagents-venv"
MLAGENTS_REQUIREMENTS = ("mlagents==1.1.0", "setuptools<70")
EXPORT_CALL = "opset_version=SerializationSettings.onnx_opset,"
"""The argument line of ML-Agents' ``torch.onnx.export`` call that ``dynamo=False`` is added after."""
# ML-Agents' configs, demos and models, in ../shared beside the checkout
REFERENCE_DATA = Path(__file__).resolve().parents[2] / "shared" / "reference-data" / "mlagents"
DEFAULT_CONFIGS = REFERENCE_DATA / "configs"

SUMMARY = re.compile(r"(?P<behavior>[\w-]+)\. Step: (?P<step>\d+)\.")
MEAN_REWARD = re.compile(r"Mean Reward: (?P<reward>-?\d+(?:\.\d+)?)")


@dataclass(frozen=True)
class Row:
    name: str
    config: str
    """Path under ``--configs``."""
    scene: str
    target_reward: float
    quick_target_reward: float
    quick_max_steps: int
    quick_summary_freq: int
    mlagents_missing: str | None = None
    """Why mlagents-learn cannot run this row (None: it can)."""


ROWS = (
    Row("3DBall-PPO", "ppo/3DBall.yaml", "3DBall", 90.0, 2.0, 40_000, 4_000),
    Row("3DBall-SAC", "sac/3DBall.yaml", "3DBall", 90.0, 10.0, 60_000, 2_000),
    Row("Basic-DQN", "plugin/dqn_basic.yaml", "Basic", 0.85, 0.5, 20_000, 1_000,
        mlagents_missing="no dqn trainer type: ML-Agents' example plugin is not on PyPI"),
)  # fmt: skip


@dataclass
class Result:
    seconds_to_target: float | None
    step_at_target: int | None
    final_step: int
    final_reward: float | None
    steps_per_second: float | None
    peak_rss_gib: float


def mlagents_learn() -> Path:
    """``mlagents-learn`` of the benchmark's own ML-Agents environment, set up on first use."""
    executable = MLAGENTS_VENV / "bin" / "mlagents-learn"
    if executable.is_file():
        return executable
    uv = shutil.which("uv") or sys.exit("bench_mlagents needs uv on PATH to set up ML-Agents' environment")
    python = _python_310(uv)
    shutil.rmtree(MLAGENTS_VENV, ignore_errors=True)
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    print(f"setting up {MLAGENTS_VENV} (Python {python})", file=sys.stderr, flush=True)
    subprocess.run([uv, "venv", "--python", python, str(MLAGENTS_VENV)], check=True, env=env)
    # --no-config: rldojo's [tool.uv] overrides (current numpy, grpcio, protobuf) are not ML-Agents' pins
    subprocess.run([uv, "pip", "install", "--no-config", "--python", str(MLAGENTS_VENV / "bin" / "python"),
                    *MLAGENTS_REQUIREMENTS], check=True, env=env)  # fmt: skip
    serialization = next(MLAGENTS_VENV.glob("lib/python*/site-packages/mlagents/trainers/torch_entities/"
                                            "model_serialization.py"))  # fmt: skip
    source = serialization.read_text()
    if EXPORT_CALL not in source:
        sys.exit(f"{serialization}: no '{EXPORT_CALL}' to add dynamo=False after; check the mlagents version")
    serialization.unlink()  # it may be a hard link into uv's cache: the patched file is a copy of its own
    serialization.write_text(source.replace(EXPORT_CALL, f"{EXPORT_CALL} dynamo=False,"))
    return executable


def _python_310(uv: str) -> str:
    """A Python 3.10 interpreter: uv's, else pyenv's."""
    found = subprocess.run([uv, "python", "find", "3.10"], capture_output=True, text=True,
                           env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"})  # fmt: skip
    if found.returncode == 0:
        return found.stdout.strip()
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    pythons = sorted(pyenv_root.glob("versions/3.10.*/bin/python3.10"))
    if not pythons:
        sys.exit("ML-Agents 1.1 needs a Python 3.10 interpreter; neither uv nor pyenv has one")
    return str(pythons[-1])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_config(row: Row, configs: Path, quick: bool, folder: Path) -> tuple[Path, float]:
    """The row's reference config (shortened with ``quick``) and the mean reward to reach."""
    config = yaml.safe_load((configs / row.config).read_text())
    if quick:
        for behavior in config["behaviors"].values():
            behavior.update(max_steps=row.quick_max_steps, summary_freq=row.quick_summary_freq)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path, row.quick_target_reward if quick else row.target_reward


def _read_lines(stream: Iterable[str], lines: list[tuple[float, str]]) -> None:
    for line in stream:
        lines.append((time.monotonic(), line))


def measure(command: list[str], target: float, timeout_s: float) -> Result:
    """Run ``command`` until a summary reaches ``target`` mean reward, it ends or ``timeout_s`` passes."""
    env = {**os.environ, "COLUMNS": "300"}  # summary lines unwrapped
    start = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                               start_new_session=True)  # fmt: skip
    lines: list[tuple[float, str]] = []
    reader = threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True)
    reader.start()
    summaries: list[tuple[float, int, float | None]] = []  # (time, step, mean reward)
    peak, seen, reached, reached_step = 0, 0, None, None
    try:
        while reached is None and process.poll() is None and time.monotonic() - start < timeout_s:
            peak = max(peak, tree_rss(process.pid))
            for at, line in lines[seen:]:
                summary, reward = SUMMARY.search(line), MEAN_REWARD.search(line)
                if summary:
                    summaries.append((at, int(summary["step"]), None))
                if reward and summaries:
                    summaries[-1] = (*summaries[-1][:2], float(reward["reward"]))
                    if float(reward["reward"]) >= target:
                        reached, reached_step = summaries[-1][0] - start, summaries[-1][1]
            seen = len(lines)
            time.sleep(0.1)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    if not summaries:
        tail = "".join(line for _, line in lines[-15:])
        raise RuntimeError(f"{command[0]} wrote no summary before it ended:\n{tail}")
    (first_time, first_step, _), (last_time, last_step, last_reward) = summaries[0], summaries[-1]
    rate = (last_step - first_step) / (last_time - first_time) if last_time > first_time else None
    return Result(reached, reached_step, last_step, last_reward, rate, peak / 2**30)


def run_row(
    row: Row, configs: Path, quick: bool, timeout_s: float, seeds: list[int | None]
) -> dict[str, list[Result]]:
    """The results of each tool that can run ``row``, once per seed (None: the tool's own), the tools'
    order alternating."""
    build = ROOT / "unity_builds" / row.scene / f"{row.scene}.x86_64"
    tools = ["rldojo"] if row.mlagents_missing else ["rldojo", "mlagents-learn"]
    results: dict[str, list[Result]] = {tool: [] for tool in tools}
    with tempfile.TemporaryDirectory(prefix="bench_mlagents_") as scratch:
        folder = Path(scratch)
        config, target = write_config(row, configs, quick, folder)
        for repeat, seed in enumerate(seeds):
            for tool in tools if repeat % 2 == 0 else tools[::-1]:
                command = _command(tool, config, build, folder / f"{tool}-{repeat}", seed)
                result = measure(command, target, timeout_s)
                results[tool].append(result)
                reached = result.seconds_to_target
                outcome = (
                    "not reached" if reached is None else f"{reached:.1f} s, step {result.step_at_target}"
                )
                run = f"seed {seed}" if seed is not None else f"{repeat + 1}/{len(seeds)}"
                print(f"  {row.name}: {tool} ({run}): {outcome}", file=sys.stderr, flush=True)
    return results


def _command(tool: str, config: Path, build: Path, results_dir: Path, seed: int | None) -> list[str]:
    common = [str(config), "--env", str(build), "--results-dir", str(results_dir), "--run-id", "run",
              "--base-port", str(free_port()), *([] if seed is None else ["--seed", str(seed)])]  # fmt: skip
    if tool == "rldojo":
        return [str(ROOT / ".venv" / "bin" / "rldojo"), "learn", *common]
    return [str(mlagents_learn()), *common, "--no-graphics"]


def _median(values: list[float | None], digits: int) -> str:
    """The median of the values that are there ("-" when none is); "(k/n)" when only k of n are."""
    present = [value for value in values if value is not None]
    if not present:
        return "-"
    shown = f"{statistics.median(present):.{digits}f}"
    return shown if len(present) == len(values) else f"{shown} ({len(present)}/{len(values)})"


def print_table(rows: dict[Row, dict[str, list[Result]]], quick: bool, repeats: int) -> None:
    budget = "--quick budgets" if quick else "reference budgets (--full)"
    medians = f", medians of {repeats} runs per tool (order alternating)" if repeats > 1 else ""
    print(f"rldojo vs mlagents-learn 1.1, launched rldojo-sim builds, one env worker, CPU, {budget}{medians}")
    print(
        "| row | tool | target reward | time to target (s) | step at target | last step | last mean reward "
        "| agent steps/s | peak RSS (GiB) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for row, results in rows.items():
        target = row.quick_target_reward if quick else row.target_reward
        for tool, runs in results.items():
            reached = _median([run.seconds_to_target for run in runs], 1)
            print(
                f"| {row.name} | {tool} | {target:g} | {'not reached' if reached == '-' else reached} "
                f"| {_median([run.step_at_target for run in runs], 0)} "
                f"| {_median([run.final_step for run in runs], 0)} "
                f"| {_median([run.final_reward for run in runs], 3)} "
                f"| {_median([run.steps_per_second for run in runs], 0)} "
                f"| {_median([run.peak_rss_gib for run in runs], 2)} |"
            )
        if row.mlagents_missing:
            print(f"| {row.name} | mlagents-learn | {target:g} | n/a: {row.mlagents_missing} | | | | | |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    budget = parser.add_mutually_exclusive_group(required=True)
    budget.add_argument("--quick", action="store_true", help="small budgets (minutes per row)")
    budget.add_argument("--full", action="store_true", help="the reference configs' budgets (hours)")
    parser.add_argument("--rows", nargs="+", choices=[row.name for row in ROWS], help="only these rows")
    runs = parser.add_mutually_exclusive_group()
    runs.add_argument("--repeats", type=int, default=1, help="runs per tool and row, order alternating")
    runs.add_argument(
        "--seed-list", type=int, nargs="+", metavar="SEED", help="one run per tool, row and seed"
    )
    parser.add_argument("--configs", type=Path, default=DEFAULT_CONFIGS, help="ML-Agents' config/ folder")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds one run may take at most")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    for row in ROWS:
        build = ROOT / "unity_builds" / row.scene / f"{row.scene}.x86_64"
        if not build.is_file() or not (args.configs / row.config).is_file():
            sys.exit(f"needs {build} (make builds) and {args.configs / row.config} (--configs)")
    selected = [row for row in ROWS if not args.rows or row.name in args.rows]
    seeds: list[int | None] = list(args.seed_list) if args.seed_list else [None] * args.repeats
    results = {row: run_row(row, args.configs, args.quick, args.timeout, seeds) for row in selected}
    print_table(results, args.quick, len(seeds))


if __name__ == "__main__":
    main()
