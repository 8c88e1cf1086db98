"""CPU time and torch operations per gradient step, hand-derived gradients against autograd, with the networks
and hyperparameters of scripts/bench_trainers.py's rows (configs/cartpole/*.yaml, configs/acrobot/ppo.yaml).

    .venv/bin/python scripts/time_gradient_steps.py [--workloads ppo-cartpole ...] [--rounds 20] [--steps 50]

Each workload's optimizer takes gradient steps on random minibatches of its batch size, one torch thread, in
alternating blocks of ``--steps`` steps: autograd (rldojo's general path), then by hand (PlainMLP backward),
``--rounds`` times, after ``--warm-up`` steps on each (Adam's state settles: with dead ReLU units its moments
decay towards denormal floats); the table gives the median CPU ms per step of each path and their ratio
(alternating keeps a busy machine's load about the same for both). Torch is set up as a training run sets
it up (``configure_torch``: denormals flushed to zero) unless ``--keep-denormals``. Operations per step are
counted under torch.profiler as scripts/count_update_ops.py counts them (they do not depend on the load).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from count_update_ops import count_operations

ROOT = Path(__file__).resolve().parents[1]
WORKLOADS = {  # config, observation size, actions
    "dqn-cartpole": (ROOT / "configs/cartpole/dqn.yaml", 4, 2),
    "ppo-cartpole": (ROOT / "configs/cartpole/ppo.yaml", 4, 2),
    "ppo-acrobot": (ROOT / "configs/acrobot/ppo.yaml", 6, 3),
}


def build(name: str, folder: str) -> tuple[Any, dict[str, Any]]:
    """The workload's optimizer, and a random minibatch of its batch size (a DQN burst's, TD targets in)."""
    import torch
    from mlagents_envs.base_env import (
        ActionSpec,
        BehaviorSpec,
        DimensionProperty,
        ObservationSpec,
        ObservationType,
    )

    from rldojo.settings import load_run_options
    from rldojo.trainers.dqn import DQNTrainer
    from rldojo.trainers.ppo import PPOTrainer

    config, obs_size, actions = WORKLOADS[name]
    ((behavior, settings),) = load_run_options(config).behaviors.items()
    trainer_class = {"dqn": DQNTrainer, "ppo": PPOTrainer}[settings.trainer_type]
    trainer = trainer_class(behavior, 1, settings, True, False, 0, Path(folder) / behavior)
    obs_spec = ObservationSpec((obs_size,), (DimensionProperty.NONE,), ObservationType.DEFAULT, "obs")
    spec = BehaviorSpec([obs_spec], ActionSpec.create_discrete((actions,)))
    trainer.add_policy(f"{behavior}?team=0", trainer.create_policy(f"{behavior}?team=0", spec))
    optimizer = trainer.optimizer
    rows = settings.hyperparameters.batch_size
    obs = torch.randn(rows, obs_size)
    chosen = torch.randint(actions, (rows, 1))
    if settings.trainer_type == "dqn":
        batch = {
            "obs_0": obs,
            "next_obs_0": torch.randn(rows, obs_size),
            "discrete_actions": chosen,
            "rewards": torch.ones(rows),
            "dones": (torch.rand(rows) < 0.05).float(),
            "next_action_masks": torch.ones(rows, actions),
        }
        return optimizer, optimizer.prepare_burst(batch, steps=2)
    with torch.no_grad():
        log_probs, _ = optimizer.policy.actor.evaluate([obs], None, torch.zeros(rows, 0), chosen)
        values = optimizer.critic([obs])["extrinsic"]
    optimizer.actions_masked = False
    return optimizer, {
        "obs_0": obs,
        "continuous_actions": torch.zeros(rows, 0),
        "discrete_actions": chosen,
        "log_probs": log_probs + 0.1 * torch.randn_like(log_probs),
        "action_masks": torch.ones(rows, actions),
        "advantages": torch.randn(rows),
        "values_extrinsic": values,
        "returns_extrinsic": values + torch.randn(rows),
    }


def measure(name: str, rounds: int, steps: int, warm_up: int) -> dict[str, Any]:
    import torch
    import torch.profiler

    with tempfile.TemporaryDirectory() as folder:
        optimizer, batch = build(name, folder)
        paths = {"autograd": None, "by hand": optimizer.by_hand}
        if paths["by hand"] is None:
            raise SystemExit(f"{name}: its networks take the autograd path only")
        cpu_ms: dict[str, list[float]] = {path: [] for path in paths}
        ops: dict[str, dict[str, float]] = {}
        step = 0
        for path, by_hand in paths.items():
            optimizer.by_hand = by_hand
            for _ in range(warm_up):
                optimizer.update(batch, step)
            with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profiler:
                for _ in range(5):
                    optimizer.update(batch, step)
            counts = count_operations(profiler.events())["counts"]
            ops[path] = {row: counts.get(row, 0) / 5 for row in ("total", "autograd nodes")}
        for _ in range(rounds):
            for path, by_hand in paths.items():
                optimizer.by_hand = by_hand
                start = time.process_time()
                for _ in range(steps):
                    optimizer.update(batch, step)
                cpu_ms[path].append((time.process_time() - start) * 1000 / steps)
        return {"cpu_ms": {path: statistics.median(times) for path, times in cpu_ms.items()}, "ops": ops}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False
    )
    parser.add_argument("--workloads", nargs="+", choices=sorted(WORKLOADS), default=list(WORKLOADS))
    parser.add_argument("--rounds", type=int, default=20, help="alternations of the two paths")
    parser.add_argument("--steps", type=int, default=50, help="gradient steps per path and round")
    parser.add_argument("--warm-up", type=int, default=1000, help="gradient steps per path before timing")
    parser.add_argument("--keep-denormals", action="store_true", help="do not flush denormals to zero")
    args = parser.parse_args()

    import torch

    from rldojo.torch_startup import configure_torch

    configure_torch(0, "cpu")
    torch.set_flush_denormal(not args.keep_denormals)
    torch.set_num_threads(1)
    print(
        "| workload | autograd CPU ms/step | by hand CPU ms/step | autograd / by hand | ops/step autograd "
        "| ops/step by hand | autograd nodes/step |\n|---|---:|---:|---:|---:|---:|---:|"
    )
    for name in args.workloads:
        result = measure(name, args.rounds, args.steps, args.warm_up)
        ms, ops = result["cpu_ms"], result["ops"]
        print(
            f"| {name} | {ms['autograd']:.3f} | {ms['by hand']:.3f} | {ms['autograd'] / ms['by hand']:.2f} "
            f"| {ops['autograd']['total']:.0f} | {ops['by hand']['total']:.0f} "
            f"| {ops['autograd']['autograd nodes']:.0f} -> {ops['by hand']['autograd nodes']:.0f} |"
        )


if __name__ == "__main__":
    main()
