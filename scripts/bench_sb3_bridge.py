"""sb3_ppo inside rldojo against plain Stable-Baselines3 PPO on the same 3DBall scene, same hyperparameters.

Plain SB3 drives rldojo-sim's 3DBall through rldojo_gym's vector env and SB3 adapter (12 slots, one per
agent, ``n_steps`` per slot); rldojo's sb3_ppo gets the same rollout size as rows over all agents
(``n_steps * 12``, SB3 with ``n_envs=1``) and every other hyperparameter unchanged. For each seed both
report the mean episode reward of the episodes that ended in each window of ``--window`` agent steps,
their agent-steps per second after the first window (environment + acting + training; the start-up
and the first window are left out of both), and the CPU time per 1000 agent steps over the same span
outside SB3's ``train()`` and per ``train()``, summed over the process and every process below it (an
env worker, with ``--worker-process``), which a loaded machine distorts far less than wall-clock speed.
Both sides train with the same number of torch threads (rldojo's choice: half the cores). The bridge
steps the scene in its own process (``in_process: true``), as plain SB3 does; ``--worker-process``
puts it in an env worker process instead (rldojo's default for ``sim:`` before ``in_process``).

    .venv/bin/python scripts/bench_sb3_bridge.py --seeds 1 2 3 --steps 24000
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback

from rldojo.settings import load_run_options
from rldojo.stats import StatsSummary, StatsWriter
from rldojo.torch_startup import torch_threads
from rldojo.training import train_run
from rldojo_gym.registration import make_scene_vector_env
from rldojo_gym.sb3 import to_sb3_vec_env

AGENTS = 12  # 3DBall's areas
PPO_ARGS: dict[str, Any] = {
    "batch_size": 64,
    "n_epochs": 10,
    "learning_rate": 3.0e-4,
    "gamma": 0.99,
    "gae_lambda": 0.95,
    "clip_range": 0.2,
    "ent_coef": 0.0,
    "policy_kwargs": {"net_arch": [64, 64]},
}
N_STEPS_PER_AGENT = 176  # 2112 rows per rollout, 33 minibatches of 64


def process_tree_cpu() -> float:
    """CPU seconds (user + system) of this process and every live process below it (Linux /proc)."""
    ticks: dict[int, tuple[int, int]] = {}  # pid -> (parent pid, CPU ticks)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        ticks[int(stat.parent.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    tree, total = {os.getpid()}, 0
    for pid in sorted(ticks):  # children have larger pids than their parents unless pids wrapped
        if pid in tree or ticks[pid][0] in tree:
            tree.add(pid)
            total += ticks[pid][1]
    return total / os.sysconf("SC_CLK_TCK")


class TrainCost:
    """CPU seconds spent in SB3's ``PPO.train`` and its calls, counted for both sides (wraps the class)."""

    seconds = 0.0
    calls = 0

    @classmethod
    def install(cls) -> None:
        train = PPO.train

        def timed_train(model: PPO) -> None:
            start = time.process_time()
            train(model)
            cls.seconds += time.process_time() - start
            cls.calls += 1

        PPO.train = timed_train  # type: ignore[method-assign,assignment]


class Speed:
    """From a first mark: agent steps per wall-clock second, CPU seconds per 1000 agent steps outside
    ``train()`` and CPU seconds per ``train()`` (the two sides may run different numbers of updates)."""

    def __init__(self) -> None:
        self.first: tuple[int, float, float, float, int] | None = None

    def mark(self, steps: int) -> None:
        if self.first is None:
            marks = (time.perf_counter(), process_tree_cpu(), TrainCost.seconds, TrainCost.calls)
            self.first = (steps, *marks)

    def since_first(self, steps: int) -> tuple[float, float, float]:
        assert self.first is not None
        first_steps, first_time, first_cpu, first_train, first_calls = self.first
        done, train = steps - first_steps, TrainCost.seconds - first_train
        outside_train = process_tree_cpu() - first_cpu - train
        per_update = train / max(1, TrainCost.calls - first_calls)
        return done / (time.perf_counter() - first_time), 1000 * outside_train / done, per_update


class WindowRewards(StatsWriter):
    """rldojo: the mean cumulative reward reported at each summary (one per window)."""

    def __init__(self) -> None:
        self.rewards: dict[int, float] = {}
        self.speed = Speed()
        self.measured = (0.0, 0.0, 0.0)  # taken at each summary, while the env worker still runs

    def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
        if self.speed.first is None:
            self.speed.mark(step)
        else:
            self.measured = self.speed.since_first(step)
        if "Environment/Cumulative Reward" in values:
            self.rewards[step] = values["Environment/Cumulative Reward"].mean


class EpisodeWindows(BaseCallback):
    """Plain SB3: mean return of the episodes that ended in each window of ``window`` agent steps."""

    def __init__(self, window: int):
        super().__init__()
        self.window = window
        self.returns: dict[int, list[float]] = {}
        self.speed = Speed()

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.window:
            self.speed.mark(self.num_timesteps)
        end = (self.num_timesteps + self.window - 1) // self.window * self.window
        for info in self.locals["infos"]:
            if "episode" in info:
                self.returns.setdefault(end, []).append(info["episode"]["r"])
        return True


Measured = tuple[dict[int, float], tuple[float, float, float]]
"""Mean episode reward by window end, and what :meth:`Speed.since_first` measured."""


def run_bridge(seed: int, steps: int, window: int, results: Path, in_process: bool) -> Measured:
    config = {
        "behaviors": {
            "3DBall": {
                "trainer_type": "sb3_ppo",
                "hyperparameters": {
                    "n_steps": N_STEPS_PER_AGENT * AGENTS,
                    **{k: v for k, v in PPO_ARGS.items() if k != "policy_kwargs"},
                },
                "network_settings": {"hidden_units": 64, "num_layers": 2},
                "max_steps": steps,
                "time_horizon": 1000,
                "summary_freq": window,
                "checkpoint_interval": 10 * steps,
            }
        },
        "env_settings": {"env_path": "sim:3DBall", "seed": seed, "in_process": in_process},
        "checkpoint_settings": {"results_dir": str(results), "run_id": f"bridge-{seed}"},
    }
    path = results / f"bridge-{seed}.yaml"
    path.write_text(yaml.safe_dump(config))
    options = load_run_options(path, {})
    recorder = WindowRewards()
    train_run(options, [recorder])
    return recorder.rewards, recorder.measured


def run_plain(seed: int, steps: int, window: int) -> Measured:
    venv = to_sb3_vec_env(make_scene_vector_env("3DBall", seed=seed))
    torch.set_num_threads(torch_threads())  # as rldojo's trainer has them
    model = PPO("MlpPolicy", venv, n_steps=N_STEPS_PER_AGENT, seed=seed, device="cpu", **PPO_ARGS)
    callback = EpisodeWindows(window)
    model.learn(steps, callback=callback)
    speed = callback.speed.since_first(model.num_timesteps)
    venv.close()
    rewards = {end: float(np.mean(r)) for end, r in callback.returns.items() if end <= steps}
    return rewards, speed


def summary(runs: list[dict[int, float]], step: int) -> str:
    values = [run[step] for run in runs if step in run]
    if not values:
        return "—"
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):6.1f} ± {spread:4.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        allow_abbrev=False, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--steps", type=int, default=24000)
    parser.add_argument("--window", type=int, default=6000)
    parser.add_argument(
        "--worker-process",
        action="store_true",
        help="step the bridge's scene in an env worker process (in_process: false) instead of its own",
    )
    args = parser.parse_args()
    TrainCost.install()
    bridge: list[Measured] = []
    plain: list[Measured] = []
    with tempfile.TemporaryDirectory() as scratch:
        for seed in args.seeds:  # interleaved, so a change in the machine's load hits both sides
            bridge.append(run_bridge(seed, args.steps, args.window, Path(scratch), not args.worker_process))
            plain.append(run_plain(seed, args.steps, args.window))
    print(
        f"3DBall, PPO n_steps {N_STEPS_PER_AGENT} x {AGENTS} agents, seeds {args.seeds}: mean episode reward"
    )
    print("(mean ± std over seeds) of the episodes ending in each window of agent steps")
    print()
    print("| agent steps | rldojo sb3_ppo | plain SB3 PPO |")
    print("|---|---|---|")
    rewards = ([run[0] for run in bridge], [run[0] for run in plain])
    for step in range(args.window, args.steps + 1, args.window):
        print(f"| {step} | {summary(rewards[0], step)} | {summary(rewards[1], step)} |")
    means = [[statistics.mean(run[1][i] for run in runs) for runs in (bridge, plain)] for i in range(3)]
    print(f"| agent steps/s after the first window | {means[0][0]:.0f} | {means[0][1]:.0f} |")
    print(f"| CPU s per 1000 agent steps outside train() | {means[1][0]:.3f} | {means[1][1]:.3f} |")
    print(f"| CPU s per train() | {means[2][0]:.3f} | {means[2][1]:.3f} |")
    print()
    for i, what in ((1, "outside train()"), (2, "per train()")):
        ratios = [theirs[1][i] / ours[1][i] for ours, theirs in zip(bridge, plain, strict=True)]
        print(
            f"plain SB3's CPU time / the bridge's, {what}, per seed: {', '.join(f'{r:.2f}' for r in ratios)}"
        )


if __name__ == "__main__":
    main()
