"""sb3_ppo inside rldojo against plain Stable-Baselines3 PPO on the same 3DBall scene, same hyperparameters.

Plain SB3 drives rldojo-sim's 3DBall through rldojo_gym's vector env and SB3 adapter (12 slots, one per
agent, ``n_steps`` per slot); rldojo's sb3_ppo gets the same rollout size as rows over all agents
(``n_steps * 12``, SB3 with ``n_envs=1``) and every other hyperparameter unchanged. For each seed both
report the mean episode reward of the episodes that ended in each window of ``--window`` agent steps,
and their agent-steps per second after the first window (environment + acting + training; the start-up
of rldojo's env worker process and SB3's first rollout are left out of both).

    .venv/bin/python scripts/bench_sb3_bridge.py --seeds 1 2 3 --steps 24000
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback

from rldojo.settings import load_run_options
from rldojo.stats import StatsSummary, StatsWriter
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


class WindowRewards(StatsWriter):
    """rldojo: the mean cumulative reward reported at each summary (one per window)."""

    def __init__(self) -> None:
        self.rewards: dict[int, float] = {}
        self.times: dict[int, float] = {}

    def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
        self.times[step] = time.perf_counter()
        if "Environment/Cumulative Reward" in values:
            self.rewards[step] = values["Environment/Cumulative Reward"].mean


class EpisodeWindows(BaseCallback):
    """Plain SB3: mean return of the episodes that ended in each window of ``window`` agent steps."""

    def __init__(self, window: int):
        super().__init__()
        self.window = window
        self.returns: dict[int, list[float]] = {}
        self.first_window_end: tuple[int, float] | None = None

    def _on_step(self) -> bool:
        if self.first_window_end is None and self.num_timesteps >= self.window:
            self.first_window_end = (self.num_timesteps, time.perf_counter())
        end = (self.num_timesteps + self.window - 1) // self.window * self.window
        for info in self.locals["infos"]:
            if "episode" in info:
                self.returns.setdefault(end, []).append(info["episode"]["r"])
        return True


def run_bridge(seed: int, steps: int, window: int, results: Path) -> tuple[dict[int, float], float]:
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
        "env_settings": {"env_path": "sim:3DBall", "seed": seed},
        "checkpoint_settings": {"results_dir": str(results), "run_id": f"bridge-{seed}"},
    }
    path = results / f"bridge-{seed}.yaml"
    path.write_text(yaml.safe_dump(config))
    options = load_run_options(path, {})
    recorder = WindowRewards()
    train_run(options, [recorder])
    first, last = min(recorder.times), max(recorder.times)
    return recorder.rewards, (last - first) / (recorder.times[last] - recorder.times[first])


def run_plain(seed: int, steps: int, window: int) -> tuple[dict[int, float], float]:
    venv = to_sb3_vec_env(make_scene_vector_env("3DBall", seed=seed))
    model = PPO("MlpPolicy", venv, n_steps=N_STEPS_PER_AGENT, seed=seed, device="cpu", **PPO_ARGS)
    callback = EpisodeWindows(window)
    model.learn(steps, callback=callback)
    elapsed = time.perf_counter()
    venv.close()
    assert callback.first_window_end is not None
    first_steps, first_time = callback.first_window_end
    rewards = {end: float(np.mean(r)) for end, r in callback.returns.items() if end <= steps}
    return rewards, (model.num_timesteps - first_steps) / (elapsed - first_time)


def summary(runs: list[dict[int, float]], step: int) -> str:
    values = [run[step] for run in runs if step in run]
    if not values:
        return "—"
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):6.1f} ± {spread:4.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--steps", type=int, default=24000)
    parser.add_argument("--window", type=int, default=6000)
    args = parser.parse_args()
    bridge, plain, bridge_speed, plain_speed = [], [], [], []
    with tempfile.TemporaryDirectory() as scratch:
        for seed in args.seeds:
            rewards, speed = run_bridge(seed, args.steps, args.window, Path(scratch))
            bridge.append(rewards)
            bridge_speed.append(speed)
            rewards, speed = run_plain(seed, args.steps, args.window)
            plain.append(rewards)
            plain_speed.append(speed)
    print(
        f"3DBall, PPO n_steps {N_STEPS_PER_AGENT} x {AGENTS} agents, seeds {args.seeds}: mean episode reward"
    )
    print("(mean ± std over seeds) of the episodes ending in each window of agent steps")
    print()
    print("| agent steps | rldojo sb3_ppo | plain SB3 PPO |")
    print("|---|---|---|")
    for step in range(args.window, args.steps + 1, args.window):
        print(f"| {step} | {summary(bridge, step)} | {summary(plain, step)} |")
    print(
        f"| agent steps/s after the first window | {statistics.mean(bridge_speed):.0f} "
        f"| {statistics.mean(plain_speed):.0f} |"
    )


if __name__ == "__main__":
    main()
