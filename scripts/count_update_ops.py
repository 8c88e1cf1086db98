"""Torch operations per gradient step: rldojo against Stable-Baselines3, with the settings of
scripts/bench_trainers.py (RL Zoo's).

    .venv/bin/python scripts/count_update_ops.py [--workloads ppo-cartpole ...] [--libs rldojo sb3]

Each (library, workload) trains briefly in its own subprocess, one torch thread. Its update calls (rldojo: the
trainer's ``_update_policy``; SB3: ``train()``) are wrapped; the second call that takes gradient steps runs
under ``torch.profiler`` and its operations are counted per gradient step:

- forward: aten operations called from Python (losses, networks, batch preparation, optimizer steps);
- backward: aten operations the autograd engine calls, and the autograd nodes it evaluates;
- total: every aten operation that is not inside another one (a fused kernel counts once).

Counts do not depend on the machine's load; they show where per-operation overhead goes, which is what bounds
small networks on one CPU thread.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_trainers

STEPS = {"ppo-cartpole": 1_200, "dqn-cartpole": 1_900, "sac-pendulum": 400, "ppo-acrobot": 9_000}
ENGINE = "autograd::engine::evaluate_function"


def count_operations(events: Any) -> dict[str, Any]:
    """Top-level aten operations in profiler ``events``, split by whether the autograd engine called them."""
    counts: Counter[str] = Counter()
    names: Counter[str] = Counter()
    for event in events:
        if event.name.startswith(ENGINE):
            counts["autograd nodes"] += 1
            continue
        if not event.name.startswith("aten::"):
            continue
        parent, in_backward = event.cpu_parent, False
        while parent is not None and not parent.name.startswith("aten::"):
            in_backward = in_backward or parent.name.startswith(ENGINE)
            parent = parent.cpu_parent
        if parent is not None:
            continue  # inside another aten operation
        counts["backward" if in_backward else "forward"] += 1
        names[event.name] += 1
    counts["total"] = counts["forward"] + counts["backward"]
    return {"counts": dict(counts), "names": dict(names)}


class UpdateProbe:
    """Wraps an update entry point; profiles the ``profile_call``-th call that takes gradient steps."""

    def __init__(self, profile_call: int = 2):
        self.profile_call = profile_call
        self.calls_with_steps = 0
        self.gradient_steps = 0
        self.result: dict[str, Any] | None = None

    def wrap(self, owner: type, name: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if self.result is not None:
                return original(*args, **kwargs)
            import torch.profiler

            steps_before = self.gradient_steps
            with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profiler:
                out = original(*args, **kwargs)
            steps = self.gradient_steps - steps_before
            if steps:
                self.calls_with_steps += 1
                if self.calls_with_steps == self.profile_call:
                    self.result = count_operations(profiler.events()) | {"gradient_steps": steps}
            return out

        setattr(owner, name, wrapped)

    def count_steps(self, owner: type, name: str, per_call: int = 1) -> None:
        """Every call of ``owner.name`` is ``per_call`` gradient steps."""
        original = getattr(owner, name)

        @functools.wraps(original)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            self.gradient_steps += per_call
            return original(*args, **kwargs)

        setattr(owner, name, wrapped)


def instrument_rldojo(probe: UpdateProbe) -> None:
    from rldojo.trainers.dqn import DQNOptimizer
    from rldojo.trainers.off_policy import OffPolicyTrainer
    from rldojo.trainers.on_policy import OnPolicyTrainer
    from rldojo.trainers.ppo import PPOOptimizer
    from rldojo.trainers.sac import SACOptimizer

    probe.wrap(OnPolicyTrainer, "_update_policy")
    probe.wrap(OffPolicyTrainer, "_update_policy")
    for optimizer in (PPOOptimizer, DQNOptimizer, SACOptimizer):
        probe.count_steps(optimizer, "update")


def instrument_sb3(probe: UpdateProbe) -> None:
    from stable_baselines3 import DQN, PPO, SAC

    # SB3 counts its gradient steps in _n_updates, which train() raises by the steps it took
    def counting(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
            before = self._n_updates
            out = original(self, *args, **kwargs)
            steps = self._n_updates - before
            if isinstance(self, PPO):  # PPO adds n_epochs per train(), each of several minibatches
                steps *= max(1, self.n_steps * self.env.num_envs // self.batch_size)
            probe.gradient_steps += steps
            return out

        return wrapped

    for algorithm in (PPO, DQN, SAC):
        algorithm.train = counting(algorithm.train)  # type: ignore[method-assign]
        probe.wrap(algorithm, "train")  # outside the counting: it reads the steps counted inside


def run_one(library: str, name: str, out: Path) -> None:
    import torch

    torch.set_num_threads(1)
    bench_trainers.warm_up_imports(library)
    probe = UpdateProbe()
    (instrument_rldojo if library == "rldojo" else instrument_sb3)(probe)
    bench_trainers.TRAINERS[library](bench_trainers.WORKLOADS[name], 1, STEPS[name], evaluate=False)
    if probe.result is None:
        raise SystemExit(f"{library} {name}: fewer than {probe.profile_call} updates in {STEPS[name]} steps")
    out.write_text(json.dumps(probe.result))


def launch(library: str, name: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "ops.json"
        command = [sys.executable, __file__, "--run-one", library, name, str(out)]
        environment = {**os.environ, "OMP_NUM_THREADS": "1"}
        completed = subprocess.run(command, capture_output=True, text=True, env=environment)
        if completed.returncode != 0:
            raise SystemExit(f"{library} {name} failed:\n{completed.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(out.read_text())
        return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False
    )
    parser.add_argument(
        "--workloads",
        nargs="+",
        choices=sorted(STEPS),
        default=["ppo-cartpole", "dqn-cartpole", "sac-pendulum"],
    )
    parser.add_argument("--libs", nargs="+", choices=["rldojo", "sb3"], default=["rldojo", "sb3"])
    parser.add_argument("--top", type=int, default=0, help="also list the N most frequent operations")
    parser.add_argument("--run-one", nargs=3, metavar=("LIB", "WORKLOAD", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_one:
        library, name, out = args.run_one
        run_one(library, name, Path(out))
        return

    columns = [(name, library) for name in args.workloads for library in args.libs]
    results = {column: launch(column[1], column[0]) for column in columns}
    header = " | ".join(f"{library} {name}" for name, library in columns)
    lines = [f"| ops per gradient step | {header} |", "|---|" + "---:|" * len(columns)]
    for row in ("total", "forward", "backward", "autograd nodes"):
        cells = [f"{results[c]['counts'].get(row, 0) / results[c]['gradient_steps']:.1f}" for c in columns]
        lines.append(f"| {row} | {' | '.join(cells)} |")
    lines.append(
        f"| gradient steps profiled | {' | '.join(str(results[c]['gradient_steps']) for c in columns)} |"
    )
    print("\n".join(lines))
    for column in columns if args.top else ():
        steps = results[column]["gradient_steps"]
        top = Counter(results[column]["names"]).most_common(args.top)
        print(f"\n{column[1]} {column[0]}: " + ", ".join(f"{n} {c / steps:.1f}" for n, c in top))


if __name__ == "__main__":
    main()
