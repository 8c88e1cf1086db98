"""CPU milliseconds per gradient step, one torch thread, for each row of scripts/bench_trainers.py: the
arithmetic floor, rldojo's full gradient step and Stable-Baselines3's, and what 2x SB3 would need.

    .venv/bin/python scripts/update_floor.py [--workloads ppo-cartpole ...] [--iterations 300]
    .venv/bin/python scripts/update_floor.py --trees OLD_CHECKOUT NEW_CHECKOUT [--rounds 3] [--workloads ...]

- floor: only the matrix products of one gradient step of rldojo's algorithm with the row's shapes (batch,
  layer sizes), into preallocated outputs: each network pass forward, and backward the weight gradients of
  the networks the step trains and the input gradients the chain rule needs (SAC's Q networks scoring the
  policy's actions: input gradients only). No activations, losses, optimizer or Python around them.
- rldojo: its gradient step as training runs it, on batches from a short real run (the trainer's replay
  buffer or its last minibatch): off-policy, a burst drawn from the replay buffer and its updates (DQN:
  ``gradient_steps`` 128 per burst, the TD targets computed once per burst) divided by its gradient steps;
  PPO, ``optimizer.update`` of one minibatch.
- SB3: its own ``train()`` after a short ``learn()``: off-policy ``train(gradient_steps=1)`` on the filled
  buffer (replay sampling included); PPO one ``train()`` (every epoch and minibatch of the rollout buffer)
  divided by its gradient steps.

Each workload runs in its own subprocess; times are ``time.process_time()`` over ``--iterations`` steps after
a warm-up. "2x SB3 needs" is half of SB3's time; where the floor is above it, 2x SB3 per gradient step is out
of reach for this algorithm on this machine whatever the overhead. Timings on a busy machine are inflated:
compare the columns of one run, and rerun on an idle machine for numbers to quote.

``--trees`` times only rldojo's column, once per checkout (its ``packages/*/src`` imported ahead of this
one's; the configs and this script stay this checkout's), alternating the checkouts ``--rounds`` times: a
speed change's ratio, before and after.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_trainers


@dataclass(frozen=True)
class Pass:
    """One network evaluated on a batch: its layer widths, and what the backward pass needs from it."""

    widths: tuple[int, ...]  # input, hidden..., output
    weight_grads: bool  # trained by this gradient step
    input_grad: bool = False  # gradients flow on to its input (SAC: the policy's actions)


ROW_BATCH = {"ppo-cartpole": 256, "dqn-cartpole": 64, "sac-pendulum": 256, "ppo-acrobot": 64}
"""Rows per gradient step (PPO Acrobot: 16 envs x 256 steps in 64 minibatches)."""

FLOOR_PASSES = {
    "ppo-cartpole": [Pass((4, 64, 64, 2), True), Pass((4, 64, 64, 1), True)],  # actor, critic
    "ppo-acrobot": [Pass((6, 64, 64, 3), True), Pass((6, 64, 64, 1), True)],
    "dqn-cartpole": [Pass((4, 256, 256, 2), False), Pass((4, 256, 256, 2), True)],  # target, online
    "sac-pendulum": [  # ML-Agents' SAC: target V, twin Q on stored actions, actor, twin Q on its actions, V
        Pass((3, 256, 256, 1), False),
        *[Pass((4, 256, 256, 1), True)] * 2,
        Pass((3, 256, 256, 2), True),
        *[Pass((4, 256, 256, 1), False, input_grad=True)] * 2,
        Pass((3, 256, 256, 1), True),
    ],
}
RUN_STEPS = {"ppo-cartpole": 600, "dqn-cartpole": 1_400, "sac-pendulum": 400, "ppo-acrobot": 4_200}
"""Env steps of the short runs that fill the buffers (past DQN's learning_starts and first burst)."""


def matmul_shapes(passes: list[Pass], batch: int) -> list[tuple[int, int, int]]:
    """(m, k, n) of every matrix product [m, k] @ [k, n] of the passes, forward and backward."""
    shapes = []
    for network in passes:
        layers = list(zip(network.widths, network.widths[1:], strict=False))
        shapes += [(batch, inputs, outputs) for inputs, outputs in layers]
        if not (network.weight_grads or network.input_grad):
            continue
        for index, (inputs, outputs) in enumerate(layers):
            if network.weight_grads:
                shapes.append((outputs, batch, inputs))  # dL/dW = dL/dY^T @ X
            if index > 0 or network.input_grad:
                shapes.append((batch, outputs, inputs))  # dL/dX = dL/dY @ W
    return shapes


def cpu_ms(step: Callable[[], Any], iterations: int, warm_up: int = 10) -> float:
    """CPU milliseconds per call of ``step``."""
    for _ in range(warm_up):
        step()
    start = time.process_time()
    for _ in range(iterations):
        step()
    return 1000 * (time.process_time() - start) / iterations


def floor_ms(name: str, iterations: int) -> float:
    import torch

    operands = [
        (torch.randn(m, k), torch.randn(k, n), torch.empty(m, n))
        for m, k, n in matmul_shapes(FLOOR_PASSES[name], ROW_BATCH[name])
    ]

    def products() -> None:
        for left, right, out in operands:
            torch.mm(left, right, out=out)

    return cpu_ms(products, iterations)


def capture(owner: type, method: str, into: dict[str, Any]) -> None:
    """Record the latest ``owner.method`` call's arguments in ``into`` (``self`` included)."""
    original = getattr(owner, method)

    @functools.wraps(original)
    def recorded(*args: Any, **kwargs: Any) -> Any:
        into[method] = args
        return original(*args, **kwargs)

    setattr(owner, method, recorded)


def rldojo_ms(name: str, iterations: int) -> float:
    from rldojo.trainers.dqn import DQNOptimizer
    from rldojo.trainers.off_policy import OffPolicyTrainer
    from rldojo.trainers.ppo import PPOOptimizer
    from rldojo.trainers.sac import SACOptimizer

    workload = bench_trainers.WORKLOADS[name]
    calls: dict[str, Any] = {}
    capture(OffPolicyTrainer, "_update_policy", calls)
    for optimizer_type in (PPOOptimizer, DQNOptimizer, SACOptimizer):
        capture(optimizer_type, "update", calls)
    bench_trainers.train_rldojo(workload, 1, RUN_STEPS[name], evaluate=False)
    optimizer, batch, step = calls["update"]
    if workload.algo == "ppo":
        return cpu_ms(lambda: optimizer.update(batch, step), iterations)
    (trainer,) = calls["_update_policy"]
    burst = max(trainer.hyperparameters.gradient_steps or 1, 1)

    def burst_of_steps() -> None:
        for drawn in trainer._sample_burst(burst):
            optimizer.update(drawn, step)

    return cpu_ms(burst_of_steps, max(iterations // burst, 2), warm_up=1) / burst


def sb3_ms(name: str, iterations: int) -> float:
    workload = bench_trainers.WORKLOADS[name]
    model = bench_trainers.sb3_model(workload, 1)
    if workload.algo == "ppo":
        model.learn(model.n_steps * model.env.num_envs)
        steps = model.n_epochs * (model.n_steps * model.env.num_envs // model.batch_size)
        return cpu_ms(model.train, max(iterations // steps, 2), warm_up=1) / steps
    model.learn(RUN_STEPS[name])
    return cpu_ms(lambda: model.train(gradient_steps=1, batch_size=model.batch_size), iterations)


COLUMNS: dict[str, Callable[[str, int], float]] = {"floor": floor_ms, "rldojo": rldojo_ms, "sb3": sb3_ms}


def run_one(name: str, iterations: int, columns: list[str], out: Path) -> None:
    import torch

    torch.set_num_threads(1)
    bench_trainers.warm_up_imports("rldojo")
    out.write_text(json.dumps({column: COLUMNS[column](name, iterations) for column in columns}))


def launch(name: str, iterations: int, columns: list[str], tree: Path | None = None) -> dict[str, float]:
    """``columns`` of ``name`` timed in a subprocess; with ``tree``, rldojo imported from that checkout."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "times.json"
        command = [sys.executable, __file__, "--run-one", name, str(out), "--iterations", str(iterations)]
        command += ["--columns", *columns]
        environment = {**os.environ, "OMP_NUM_THREADS": "1"}
        if tree is not None:  # its packages' sources ahead of this checkout's editable installs
            sources = [str(source) for source in sorted(tree.glob("packages/*/src"))]
            environment["PYTHONPATH"] = os.pathsep.join([*sources, environment.get("PYTHONPATH", "")])
        completed = subprocess.run(command, capture_output=True, text=True, env=environment)
        if completed.returncode != 0:
            raise SystemExit(f"{name} failed:\n{completed.stderr[-3000:]}")
        result: dict[str, float] = json.loads(out.read_text())
        return result


def compare_trees(workloads: list[str], trees: list[Path], iterations: int, rounds: int) -> str:
    """A table of rldojo's CPU ms per gradient step in each checkout (medians of ``rounds``, the checkouts
    alternating within each round) and each one's ratio to the first."""
    header = " | ".join(str(tree) for tree in trees)
    lines = [
        f"| rldojo CPU ms per gradient step | {header} | ratios to the first |",
        "|---|" + "---:|" * (len(trees) + 1),
    ]
    for name in workloads:
        times: list[list[float]] = [[] for _ in trees]
        for _ in range(rounds):
            for index, tree in enumerate(trees):
                times[index].append(launch(name, iterations, ["rldojo"], tree)["rldojo"])
        medians = [statistics.median(tree_times) for tree_times in times]
        ratios = ", ".join(f"{median / medians[0]:.3f}" for median in medians[1:])
        lines.append(f"| {name} | {' | '.join(f'{median:.3f}' for median in medians)} | {ratios} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False
    )
    parser.add_argument("--workloads", nargs="+", choices=sorted(FLOOR_PASSES), default=list(FLOOR_PASSES))
    parser.add_argument("--iterations", type=int, default=300, help="gradient steps timed per column")
    parser.add_argument(
        "--trees",
        nargs="+",
        type=Path,
        metavar="CHECKOUT",
        help="instead: time rldojo's gradient step of each checkout (git worktrees), alternating them",
    )
    parser.add_argument("--rounds", type=int, default=3, help="with --trees: alternations (medians shown)")
    parser.add_argument("--run-one", nargs=2, metavar=("WORKLOAD", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--columns", nargs="+", choices=sorted(COLUMNS), default=list(COLUMNS), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.iterations < 1 or args.rounds < 1:
        parser.error("--iterations and --rounds must be at least 1")
    for tree in args.trees or []:
        if not (tree / "packages" / "rldojo" / "src").is_dir():
            parser.error(
                f"--trees {tree}: not an rldojo checkout (no packages/rldojo/src); give a git worktree"
            )
    if args.run_one:
        name, out = args.run_one
        run_one(name, args.iterations, args.columns, Path(out))
        return
    if args.trees:
        print(compare_trees(args.workloads, args.trees, args.iterations, args.rounds))
        return

    lines = [
        "| CPU ms per gradient step | floor | rldojo | SB3 | 2x SB3 needs | rldojo / floor | 2x reachable |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name in args.workloads:
        times = launch(name, args.iterations, list(COLUMNS))
        needed = times["sb3"] / 2
        reachable = "yes" if times["floor"] < needed else "no: floor above"
        lines.append(
            f"| {name} | {times['floor']:.3f} | {times['rldojo']:.3f} | {times['sb3']:.3f} | {needed:.3f} | "
            f"{times['rldojo'] / times['floor']:.1f} | {reachable} |"
        )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
