"""rldojo's fixed CPU cost per run, phase by phase: this checkout against another, and against SB3.

    .venv/bin/python scripts/bench_fixed_cost.py [--against /work/base] [--libs rldojo sb3] [--runs 10]
        [--workload ppo-cartpole] [--steps 256]

Each run is one short training run of ``scripts/bench_trainers.py``'s workload (same settings, the clock of
that script: rldojo's ``train_run``, SB3's model build and ``learn()``) in a fresh interpreter with one torch
thread and the same imports done before the clock, so what it measures is what a benchmark run pays once.
The run's CPU time (``time.process_time``, all threads) is split into phases by timers wrapped around the
functions that do them; each phase counts its own time, not that of the phases it calls:

- rldojo: run folder and configuration, stats writers (create, close), env (create, reset, close), the
  controller, trainer and networks (build), the training loop, checkpoint state, checkpoint write, ONNX
  export, timers.json, and the rest ("other": the run lock, the background torch import's thread, ...);
- SB3: importing SB3 (inside its clock in ``bench_trainers.py``), model build, the training loop
  (``collect_rollouts`` and ``train``), the rest (``learn()``'s set-up).

"fixed" is everything outside the training loop. Both checkouts' sources are compiled to bytecode first, as
``bench_trainers.py`` does. With ``--against`` (another checkout of this repository,
whose ``packages/*/src`` are put first on ``PYTHONPATH``; its venv is not needed), runs alternate between
the two checkouts, so a busy spell of the machine hits both; the table shows means and the ratio
this / other. Run it on an idle machine for numbers to quote; under load, compare ratios only.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_trainers

LOOP = "training loop"
RLDOJO_PHASES = {  # "module:attribute" -> phase
    "rldojo.run_directory:RunDirectory.prepare": "run folder and configuration",
    "rldojo.run_directory:RunDirectory.write_configuration": "run folder and configuration",
    "rldojo.training_run:_run_stats_reporter": "stats writers (create)",
    "rldojo.stats:StatsReporter.close_writers": "stats writers (close)",
    "rldojo.training_run:create_env_manager": "env (create)",
    "rldojo.training:TrainerController.__init__": "controller (build)",
    "rldojo.training:TrainerController._trainer": "trainer and networks (build)",
    "rldojo.training:TrainerController.run": LOOP,
    "rldojo.training:save_trainer": "checkpoint state",
    "rldojo.saving:save_trainer_checkpoint": "checkpoint write",
    "rldojo.saving:export_beside_checkpoint": "ONNX export",
    "rldojo.training_run:_write_timers": "timers.json",
}
ENV_MANAGER_PHASES = {"reset": "env (reset)", "close": "env (close)"}
SB3_PHASES = {
    "bench_trainers:sb3_model": "model build",
    "stable_baselines3.common.on_policy_algorithm:OnPolicyAlgorithm.collect_rollouts": LOOP,
    "stable_baselines3.common.off_policy_algorithm:OffPolicyAlgorithm.collect_rollouts": LOOP,
    "stable_baselines3.ppo.ppo:PPO.train": LOOP,
    "stable_baselines3.dqn.dqn:DQN.train": LOOP,
    "stable_baselines3.sac.sac:SAC.train": LOOP,
}


class PhaseTimer:
    """CPU milliseconds per phase, each phase without the phases nested in it."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = defaultdict(float)
        self.nested: list[float] = []

    def wrap(self, function: Callable[..., Any], phase: str) -> Callable[..., Any]:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            self.nested.append(0.0)
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.process_time() - start
                self.ms[phase] += (elapsed - self.nested.pop()) * 1000
                if self.nested:
                    self.nested[-1] += elapsed

        return timed

    def install(self, phases: dict[str, str]) -> None:
        for target, phase in phases.items():
            module_name, _, path = target.partition(":")
            *owners, name = path.split(".")
            owner: Any = importlib.import_module(module_name)
            for attribute in owners:
                owner = getattr(owner, attribute)
            if not hasattr(owner, name):
                print(f"{target} not found: its time counts as other", file=sys.stderr)
                continue
            setattr(owner, name, self.wrap(getattr(owner, name), phase))


def measure(library: str, name: str, steps: int) -> dict[str, float]:
    """CPU ms per phase of one run (in this fresh interpreter), with "total", "other" and "fixed"."""
    import torch

    torch.set_num_threads(1)
    bench_trainers.warm_up_imports(library)
    timer = PhaseTimer()
    imports_ms = 0.0
    if library == "rldojo":
        import rldojo.training_run

        timer.install(RLDOJO_PHASES)
        create = rldojo.training_run.create_env_manager

        def create_timed_env_manager(*args: Any, **kwargs: Any) -> Any:
            manager = create(*args, **kwargs)
            for method, phase in ENV_MANAGER_PHASES.items():
                setattr(manager, method, timer.wrap(getattr(manager, method), phase))
            return manager

        rldojo.training_run.create_env_manager = create_timed_env_manager
    else:  # SB3 is imported inside its clock (bench_trainers.sb3_model); here before, to wrap it, so timed
        start = time.process_time()
        for target in SB3_PHASES:
            importlib.import_module(target.partition(":")[0])
        imports_ms = (time.process_time() - start) * 1000
        timer.install(SB3_PHASES)
    result = bench_trainers.TRAINERS[library](bench_trainers.WORKLOADS[name], 1, steps, evaluate=False)
    total = result["cpu_s"] * 1000
    phases = dict(timer.ms)
    if library == "sb3":
        phases["imports (SB3)"] = imports_ms
        total += imports_ms
    phases["other"] = total - sum(phases.values())
    phases["fixed"] = total - phases.get(LOOP, 0.0)
    phases["total"] = total
    return phases


def source_path(checkout: Path) -> str:
    """``PYTHONPATH`` that makes Python import rldojo's packages from ``checkout``."""
    return os.pathsep.join(str(src) for src in sorted(checkout.glob("packages/*/src")))


def launch(library: str, name: str, steps: int, checkout: Path | None) -> dict[str, float]:
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    if checkout is not None:
        environment["PYTHONPATH"] = source_path(checkout)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "phases.json"
        command = [sys.executable, __file__, "--run-one", library, name, str(steps), str(out)]
        completed = subprocess.run(command, capture_output=True, text=True, env=environment)
        if completed.returncode != 0:
            raise SystemExit(f"{library} run failed:\n{completed.stderr[-3000:]}")
        phases: dict[str, float] = json.loads(out.read_text())
        return phases


def table(columns: dict[str, list[dict[str, float]]]) -> list[str]:
    """One row per phase: each column's mean CPU ms (sd), then this / other where both are rldojo's."""
    names = list(columns)
    phases = list(dict.fromkeys(p for runs in columns.values() for run in runs for p in run))
    ordered = [p for p in phases if p not in ("other", "fixed", "total")] + ["other", "fixed", "total"]
    ratio = "this" in columns and "other" in columns
    lines = [
        "| phase | "
        + " | ".join(f"{name} CPU ms" for name in names)
        + (" | this / other |" if ratio else " |"),
        "|---|" + "---:|" * (len(names) + ratio),
    ]
    for phase in ordered:
        means = {}
        cells = []
        for name in names:
            values = [run.get(phase, 0.0) for run in columns[name]]
            means[name] = statistics.fmean(values)
            spread = f" ({statistics.stdev(values):.1f})" if len(values) > 1 else ""
            cells.append(f"{means[name]:.1f}{spread}")
        if ratio:
            cells.append(f"{means['this'] / means['other']:.2f}" if means["other"] > 0.05 else "-")
        lines.append(f"| {phase} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        allow_abbrev=False, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--against", type=Path, help="another checkout of rldojo, run alternately")
    parser.add_argument("--libs", nargs="+", choices=("rldojo", "sb3"), default=["rldojo"])
    parser.add_argument("--runs", type=int, default=10, help="runs per column (default 10)")
    parser.add_argument("--workload", choices=sorted(bench_trainers.WORKLOADS), default="ppo-cartpole")
    parser.add_argument("--steps", type=int, default=256, help="env steps per run (default 256)")
    parser.add_argument(
        "--run-one", nargs=4, metavar=("LIB", "WORKLOAD", "STEPS", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.run_one:
        library, name, steps, out = args.run_one
        Path(out).write_text(json.dumps(measure(library, name, int(steps))))
        return

    if args.against is not None and not list(args.against.glob("packages/*/src")):
        raise SystemExit(f"--against: {args.against} is not an rldojo checkout (no packages/*/src)")
    for checkout in (bench_trainers.ROOT, args.against):
        if checkout is not None:
            bench_trainers.compile_sources(checkout)
    columns: dict[str, list[dict[str, float]]] = defaultdict(list)
    for run in range(args.runs):
        if "rldojo" in args.libs:
            columns["this"].append(launch("rldojo", args.workload, args.steps, None))
            if args.against is not None:
                columns["other"].append(launch("rldojo", args.workload, args.steps, args.against))
        if "sb3" in args.libs:
            columns["sb3"].append(launch("sb3", args.workload, args.steps, None))
        print(f"run {run + 1}/{args.runs} done", file=sys.stderr, flush=True)
    print(f"{args.workload}, {args.steps} env steps per run, {args.runs} runs per column, CPU ms mean (sd)")
    print("\n".join(table(columns)))


if __name__ == "__main__":
    main()
