"""Where the CPU time of one training run goes, per env step: rldojo against Stable-Baselines3.

    .venv/bin/python scripts/profile_trainers.py [--workloads dqn-cartpole ...] [--libs rldojo sb3]

Each (library, algorithm) trains once in its own subprocess, one torch thread, under cProfile measuring
process CPU time, with the same settings as scripts/bench_trainers.py (RL Zoo's). The profile is bucketed:

- gradient updates: the algorithm's update (rldojo: ``Optimizer.update`` and what prepares its batches;
  SB3: ``train()``);
- acting: choosing actions (rldojo: the policy's ``get_action``; SB3: its policy's ``predict`` / ``forward``);
- environment: Gymnasium's own ``step`` and ``reset`` of the env;
- the rest: agent processor, loop glue and env wrappers (the training loop minus the above);
- start-up and final save: outside the training loop (creating envs and networks; rldojo also writes its
  final checkpoint, with the replay buffer where the config saves it, and exports ONNX).

A last row gives the gradient updates' CPU ms per gradient step (gradient steps counted as Adam steps: calls
of rldojo's ``adam_step`` or of torch's ``Adam.step``, of which SAC makes three per gradient step in both
libraries).

cProfile's own overhead inflates every bucket (most those with many small calls), for both libraries alike;
compare ratios, not absolute numbers, and run on an idle machine.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import inspect
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_trainers

DEFAULT_STEPS = {"dqn-cartpole": 20_000, "ppo-cartpole": 20_000, "sac-pendulum": 5_000}
BUCKETS = ("gradient updates", "acting", "environment")
ADAM_STEPS_PER_GRADIENT_STEP = {"ppo": 1, "dqn": 1, "sac": 3}  # SAC: policy, Q/value and entropy Adams
LOOPS = {  # the training loop; everything outside it is start-up and the final save
    "rldojo": ["rldojo.training:TrainerController.run"],
    "sb3": [
        "stable_baselines3.common.on_policy_algorithm:OnPolicyAlgorithm.learn",
        "stable_baselines3.common.off_policy_algorithm:OffPolicyAlgorithm.learn",
    ],
}

# "module:Class.method" -> bucket; nested matches are counted once, at the outermost. Methods are named
# with their class: SB3's ContinuousCritic.forward (SAC's train() calls it) shares a file and a name with
# ActorCriticPolicy.forward (PPO's acting), so a file and a name alone misfiled SAC updates as acting.
RLDOJO_FUNCTIONS = {
    "rldojo.trainers.off_policy:OffPolicyTrainer._update_policy": "gradient updates",
    "rldojo.trainers.on_policy:OnPolicyTrainer._update_policy": "gradient updates",
    "rldojo.policy:Policy.get_action": "acting",
    "rldojo.value_based_policy:ValueBasedPolicy.get_action": "acting",
}
SB3_FUNCTIONS = {
    "stable_baselines3.dqn.dqn:DQN.train": "gradient updates",
    "stable_baselines3.ppo.ppo:PPO.train": "gradient updates",
    "stable_baselines3.sac.sac:SAC.train": "gradient updates",
    "stable_baselines3.common.base_class:BaseAlgorithm.predict": "acting",
    "stable_baselines3.dqn.dqn:DQN.predict": "acting",
    "stable_baselines3.common.off_policy_algorithm:OffPolicyAlgorithm._sample_action": "acting",
    "stable_baselines3.common.policies:ActorCriticPolicy.forward": "acting",
    "stable_baselines3.common.policies:ActorCriticPolicy.predict_values": "acting",
}
ENV_FUNCTIONS = {
    "gymnasium.envs.classic_control.cartpole:CartPoleEnv.step": "environment",
    "gymnasium.envs.classic_control.cartpole:CartPoleEnv.reset": "environment",
    "gymnasium.envs.classic_control.pendulum:PendulumEnv.step": "environment",
    "gymnasium.envs.classic_control.pendulum:PendulumEnv.reset": "environment",
}


def profile_key(target: str) -> tuple[str, int, str]:
    """cProfile's (file, first line, name) of the function ``module:Class.method``."""
    module_name, _, qualname = target.partition(":")
    function: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        function = getattr(function, part)
    code = inspect.unwrap(function).__code__
    return code.co_filename, code.co_firstlineno, code.co_name


def bucket_times(
    stats: pstats.Stats, functions: dict[str, str], buckets: tuple[str, ...] = BUCKETS
) -> dict[str, float]:
    """Cumulative seconds per bucket. Where a bucketed function calls another bucketed one (SB3's predict
    calls forward) the inner one's time is already in the outer, so inner calls made from a bucketed
    caller are subtracted."""
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    bucket_by_key = {profile_key(target): bucket for target, bucket in functions.items()}
    totals = dict.fromkeys(buckets, 0.0)
    for key, (_, _, _, cumulative, callers) in raw.items():
        bucket = bucket_by_key.get(key)
        if bucket is None:
            continue
        nested = sum(caller_stats[3] for caller, caller_stats in callers.items() if caller in bucket_by_key)
        totals[bucket] += cumulative - nested
    return totals


def profile_run(library: str, name: str, steps: int) -> dict[str, float]:
    """Train under cProfile (process CPU time); seconds per bucket and in total."""
    import torch

    torch.set_num_threads(1)
    bench_trainers.warm_up_imports(library)
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    bench_trainers.TRAINERS[library](bench_trainers.WORKLOADS[name], 1, steps, evaluate=False)
    profiler.disable()
    stats = pstats.Stats(profiler)
    functions = (RLDOJO_FUNCTIONS if library == "rldojo" else SB3_FUNCTIONS) | ENV_FUNCTIONS
    buckets = bucket_times(stats, functions)
    buckets["total"] = stats.total_tt  # type: ignore[attr-defined]
    loop = sum(bucket_times(stats, dict.fromkeys(LOOPS[library], "loop"), ("loop",)).values())
    buckets["start-up and final save"] = buckets["total"] - loop
    calls = {
        (path, function): count
        for (path, _, function), (_, count, *_) in stats.stats.items()  # type: ignore[attr-defined]
    }
    # rldojo's trainers step their Adams through adam_step (which calls torch's step only on first steps)
    adam_steps = sum(c for (p, f), c in calls.items() if f == "adam_step" and p.endswith("optimizer.py"))
    adam_steps = adam_steps or sum(
        c for (path, f), c in calls.items() if f == "step" and path.endswith("torch/optim/adam.py")
    )
    buckets["gradient steps"] = adam_steps / ADAM_STEPS_PER_GRADIENT_STEP[bench_trainers.WORKLOADS[name].algo]
    return buckets


def launch(library: str, name: str, steps: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "profile.json"
        command = [sys.executable, __file__, "--run-one", library, name, str(steps), str(out)]
        environment = {**os.environ, "OMP_NUM_THREADS": "1"}
        completed = subprocess.run(command, capture_output=True, text=True, env=environment)
        if completed.returncode != 0:
            raise SystemExit(f"{library} {name} failed:\n{completed.stderr[-3000:]}")
        result: dict[str, float] = json.loads(out.read_text())
        return result


def main() -> None:
    parser = argparse.ArgumentParser(
        allow_abbrev=False, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--workloads", nargs="+", choices=sorted(DEFAULT_STEPS), default=["dqn-cartpole", "ppo-cartpole"]
    )
    parser.add_argument("--libs", nargs="+", choices=["rldojo", "sb3"], default=["rldojo", "sb3"])
    parser.add_argument("--steps", type=int, help="env steps per run (default: 20k DQN/PPO, 5k SAC)")
    parser.add_argument(
        "--run-one", nargs=4, metavar=("LIB", "WORKLOAD", "STEPS", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.run_one:
        library, name, steps, out = args.run_one
        Path(out).write_text(json.dumps(profile_run(library, name, int(steps))))
        return

    columns = [(name, library) for name in args.workloads for library in args.libs]
    per_step: dict[tuple[str, str], dict[str, float]] = {}
    for name, library in columns:
        steps = args.steps or DEFAULT_STEPS[name]
        seconds = launch(library, name, steps)
        per_step[name, library] = {key: 1000 * value / steps for key, value in seconds.items()}
        per_step[name, library]["per gradient step"] = (
            1000 * seconds["gradient updates"] / max(seconds["gradient steps"], 1)
        )
        print(f"{name} {library}: {per_step[name, library]['total']:.2f} CPU ms per env step", flush=True)
    header = " | ".join(f"{library} {name}" for name, library in columns)
    lines = [f"| CPU ms per env step | {header} |", "|---|" + "---:|" * len(columns)]
    parts = (*BUCKETS, "start-up and final save")
    for row in ("total", *BUCKETS, "the rest", "start-up and final save"):
        cells = []
        for column in columns:
            values = per_step[column]
            value = values["total"] - sum(values[b] for b in parts) if row == "the rest" else values[row]
            cells.append(f"{value:.2f}")
        lines.append(f"| {row} | {' | '.join(cells)} |")
    cells = [f"{per_step[column]['per gradient step']:.2f}" for column in columns]
    lines.append(f"| gradient updates, CPU ms per gradient step | {' | '.join(cells)} |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
