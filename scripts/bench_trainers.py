"""rldojo vs Stable-Baselines3 on CartPole-v1: DQN and PPO with RL Zoo's hyperparameters, in one run.

    .venv/bin/python scripts/bench_trainers.py [--seeds 5] [--algos dqn ppo] [--steps N] [--libs rldojo sb3]

rldojo trains with its shipped configs (configs/cartpole/{dqn,ppo}.yaml, RL Zoo's settings in rldojo's
terms); SB3 trains with RL Zoo's hyperparams/{dqn,ppo}.yml entries for CartPole-v1, written out below.
Every (library, algorithm, seed) runs in its own subprocess with one torch thread, so wall time and peak
RSS are those of that run alone. Measured per run:

- env steps/s: environment steps / wall time of training (rldojo: ``train_run``, which includes creating
  the env and networks and writing the final checkpoint and ONNX model; SB3: ``learn()``). Lazy imports
  are done before the clock starts, for both.
- steps to 475: the first step at which the mean return of the last 10 training episodes is >= 475
  (training episodes explore, so this is a conservative measure of when the policy is solved).
- solved: the final policy's mean return over 10 deterministic episodes on a separately seeded
  CartPole-v1 is >= 475 (rldojo: its exported ONNX model through onnxruntime; SB3: ``predict``).
- peak RSS: the subprocess's own maximum resident set size.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ENV_ID = "CartPole-v1"
SOLVED_RETURN = 475.0
RETURN_WINDOW = 10
EVAL_EPISODES = 10
EVAL_SEED_OFFSET = 10_000
RLDOJO_CONFIGS = {algo: ROOT / "configs" / "cartpole" / f"{algo}.yaml" for algo in ("dqn", "ppo")}
RL_ZOO_STEPS = {"dqn": 50_000, "ppo": 100_000}


def steps_to_solve(episodes: list[tuple[int, float]]) -> int | None:
    """The step at which the mean of the last ``RETURN_WINDOW`` episode returns first reaches 475."""
    window: deque[float] = deque(maxlen=RETURN_WINDOW)
    for step, episode_return in episodes:
        window.append(episode_return)
        if len(window) == RETURN_WINDOW and sum(window) / RETURN_WINDOW >= SOLVED_RETURN:
            return step
    return None


# ----- one run, inside its subprocess -----


def train_rldojo(algo: str, seed: int, steps: int, evaluate: bool = True) -> dict[str, Any]:
    import numpy as np
    from mlagents_envs.side_channel.stats_side_channel import StatsSideChannel

    from rldojo.commands.evaluate import run_episodes
    from rldojo.envs import create_env
    from rldojo.export.onnx_policy import OnnxPolicy
    from rldojo.settings import load_run_options
    from rldojo.stats import StatsSummary, StatsWriter
    from rldojo.training import train_run

    class EpisodeRecorder(StatsWriter):
        def __init__(self) -> None:
            self.episodes: list[tuple[int, float]] = []

        def on_episode_end(
            self, category: str, agent_id: str, episode_return: float, episode_length: int, step: int
        ) -> None:
            self.episodes.append((step, episode_return))

        def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
            pass

    results = tempfile.mkdtemp(prefix="bench_trainers_")
    options = load_run_options(
        RLDOJO_CONFIGS[algo],
        {
            "env_settings.seed": seed,
            "checkpoint_settings.results_dir": results,
            "checkpoint_settings.run_id": f"{algo}-{seed}",
        },
        {},
    )
    for settings in options.behaviors.values():
        settings.max_steps = steps
        settings.summary_freq = steps  # one console line at the end
        settings.checkpoint_interval = steps
    recorder = EpisodeRecorder()
    start = time.perf_counter()
    run_dir = train_run(options, [recorder])
    wall = time.perf_counter() - start
    if not evaluate:
        return {"wall_s": wall, "episodes": recorder.episodes}

    env = create_env(f"gym:{ENV_ID}", seed=seed + EVAL_SEED_OFFSET, side_channels=[StatsSideChannel()])
    try:
        env.reset()
        ((behavior_name, spec),) = env.behavior_specs.items()
        model = OnnxPolicy(run_dir.path / f"{behavior_name.partition('?')[0]}.onnx", deterministic=True)
        model.check(behavior_name, spec)
        act = {behavior_name: lambda decision_steps: model.get_action(decision_steps, spec=spec)}
        ((returns, _),) = run_episodes(env, act, EVAL_EPISODES).values()
    finally:
        env.close()
    return {"wall_s": wall, "episodes": recorder.episodes, "eval_return": float(np.mean(returns))}


def sb3_model(algo: str, seed: int) -> Any:
    """RL Zoo's CartPole-v1 settings (hyperparams/dqn.yml, hyperparams/ppo.yml)."""
    from stable_baselines3 import DQN, PPO
    from stable_baselines3.common.env_util import make_vec_env

    def linear(initial: float) -> Callable[[float], float]:
        return lambda progress_remaining: progress_remaining * initial

    if algo == "ppo":
        return PPO(
            "MlpPolicy",
            make_vec_env(ENV_ID, n_envs=8, seed=seed),
            n_steps=32,
            batch_size=256,
            gae_lambda=0.8,
            gamma=0.98,
            n_epochs=20,
            ent_coef=0.0,
            learning_rate=linear(1e-3),
            clip_range=linear(0.2),
            seed=seed,
            device="cpu",
        )
    return DQN(
        "MlpPolicy",
        make_vec_env(ENV_ID, n_envs=1, seed=seed),
        learning_rate=2.3e-3,
        batch_size=64,
        buffer_size=100_000,
        learning_starts=1000,
        gamma=0.99,
        target_update_interval=10,
        train_freq=256,
        gradient_steps=128,
        exploration_fraction=0.16,
        exploration_final_eps=0.04,
        policy_kwargs={"net_arch": [256, 256]},
        seed=seed,
        device="cpu",
    )


def train_sb3(algo: str, seed: int, steps: int, evaluate: bool = True) -> dict[str, Any]:
    import gymnasium
    import numpy as np
    from stable_baselines3.common.callbacks import BaseCallback

    class EpisodeRecorder(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.episodes: list[tuple[int, float]] = []

        def _on_step(self) -> bool:
            for info in self.locals["infos"]:
                if "episode" in info:
                    self.episodes.append((self.num_timesteps, float(info["episode"]["r"])))
            return True

    model = sb3_model(algo, seed)
    recorder = EpisodeRecorder()
    start = time.perf_counter()
    model.learn(total_timesteps=steps, callback=recorder)
    wall = time.perf_counter() - start
    if not evaluate:
        return {"wall_s": wall, "episodes": recorder.episodes}

    env = gymnasium.make(ENV_ID)
    returns = []
    for episode in range(EVAL_EPISODES):
        obs, _ = env.reset(seed=seed + EVAL_SEED_OFFSET + episode)
        total, done = 0.0, False
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, reward, terminated, truncated, _ = env.step(int(action))
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    return {"wall_s": wall, "episodes": recorder.episodes, "eval_return": float(np.mean(returns))}


TRAINERS = {"rldojo": train_rldojo, "sb3": train_sb3}


def warm_up_imports() -> None:
    """Import what the libraries import lazily, so neither library's wall time includes it: torch's first
    optimizer imports ``torch._dynamo`` and rldojo's final ONNX export imports ``torch.onnx`` (seconds
    each when Python writes no bytecode cache)."""
    import onnx  # noqa: F401
    import torch
    import torch.onnx

    torch.optim.Adam([torch.zeros(1, requires_grad=True)])


def run_one(library: str, algo: str, seed: int, steps: int, out: Path) -> None:
    import torch

    torch.set_num_threads(1)
    warm_up_imports()
    result = TRAINERS[library](algo, seed, steps)
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.write_text(json.dumps(result))


# ----- the driver -----


def launch(library: str, algo: str, seed: int, steps: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "result.json"
        command = [sys.executable, __file__, "--run-one", library, algo, str(seed), str(steps), str(out)]
        environment = {**os.environ, "OMP_NUM_THREADS": "1"}
        completed = subprocess.run(command, capture_output=True, text=True, env=environment)
        if completed.returncode != 0:
            raise SystemExit(f"{library} {algo} seed {seed} failed:\n{completed.stderr[-3000:]}")
        return json.loads(out.read_text())


def _mean(values: list[float]) -> str:
    return f"{statistics.fmean(values):,.0f}" if values else "-"


def table_rows(algo: str, library: str, steps: int, runs: list[dict[str, Any]]) -> list[str]:
    rates = [steps / run["wall_s"] for run in runs]
    solve_steps = [s for s in (steps_to_solve(run["episodes"]) for run in runs) if s is not None]
    solved = sum(run["eval_return"] >= SOLVED_RETURN for run in runs)
    return [
        f"| {algo} | {library} | {steps:,} | {_mean(rates)} ({min(rates):,.0f}-{max(rates):,.0f}) "
        f"| {_mean([run['wall_s'] for run in runs])} "
        f"| {_mean([float(s) for s in solve_steps])} ({len(solve_steps)}/{len(runs)}) "
        f"| {solved}/{len(runs)} | {statistics.fmean(run['eval_return'] for run in runs):.1f} "
        f"| {max(run['peak_rss_mib'] for run in runs):,.0f} |"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--seeds", type=int, default=5, help="seeds 1..N per library and algorithm (default 5)"
    )
    parser.add_argument("--algos", nargs="+", choices=sorted(RL_ZOO_STEPS), default=["ppo", "dqn"])
    parser.add_argument("--libs", nargs="+", choices=sorted(TRAINERS), default=sorted(TRAINERS))
    parser.add_argument("--steps", type=int, help="env steps per run (default: RL Zoo's, 50k DQN, 100k PPO)")
    parser.add_argument(
        "--run-one", nargs=5, metavar=("LIB", "ALGO", "SEED", "STEPS", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.run_one:
        library, algo, seed, steps, out = args.run_one
        run_one(library, algo, int(seed), int(steps), Path(out))
        return

    lines = [
        "| algo | library | steps | env steps/s mean (min-max) | wall s | steps to 475, mean (runs) "
        "| solved (eval >= 475) | eval return | peak RSS MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rates: dict[tuple[str, str], float] = {}
    for algo in args.algos:
        steps = args.steps or RL_ZOO_STEPS[algo]
        runs: dict[str, list[dict[str, Any]]] = {library: [] for library in args.libs}
        for seed in range(1, args.seeds + 1):
            for library in args.libs:  # interleaved, so a busy spell of the machine hits both libraries
                run = launch(library, algo, seed, steps)
                print(
                    f"{algo} {library} seed {seed}: {steps / run['wall_s']:,.0f} steps/s, "
                    f"steps to 475 {steps_to_solve(run['episodes'])}, eval {run['eval_return']:.1f}, "
                    f"peak RSS {run['peak_rss_mib']:,.0f} MiB",
                    flush=True,
                )
                runs[library].append(run)
        for library, library_runs in runs.items():
            rates[algo, library] = statistics.fmean(steps / run["wall_s"] for run in library_runs)
            lines += table_rows(algo, library, steps, library_runs)
    print("\n".join(lines))
    for algo in args.algos:
        if (algo, "rldojo") in rates and (algo, "sb3") in rates:
            print(f"{algo}: rldojo / SB3 env steps/s = {rates[algo, 'rldojo'] / rates[algo, 'sb3']:.2f}")


if __name__ == "__main__":
    main()
