"""Goals reached on the sparse Pyramids scene: random play, and PPO runs of several configs over several seeds
at the same budget (extrinsic-only vs curiosity vs RND by default).

    .venv/bin/python scripts/bench_sparse.py [--configs configs/pyramids_ppo.yaml ...] [--seeds 1 2 3]
        [--max-steps 30000] [--budgets 30000 50000] [--jobs 1] [--out results/bench_sparse]

Pyramids rewards only the pyramid (+1), so an episode's return is 1 when it reached the pyramid and 0
otherwise. Random play runs in the room of the first config's scene options (``env_settings.env_args``).
Each run goes through ``rldojo learn``; per run the table gives the episodes that reached the pyramid out
of all episodes, and the success rate of the last summary, read back from the run's
TensorBoard events (the episode-return histogram of every summary). With ``--budgets``, each run trains to the
largest and the table has one row per config and budget, counting the summaries up to that step: a run is
deterministic for its seed, so its first 30k steps are those of a 30k run when, as in the Pyramids configs, no
schedule depends on ``max_steps``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import numpy as np
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import rldojo_sim
from rldojo_sim.play import episode_returns
from rldojo_sim.scenes import parse_scene_options, scene_class

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = [ROOT / "configs" / f"pyramids_{name}.yaml" for name in ("ppo", "curiosity", "rnd")]
RETURNS = "Environment/Cumulative Reward_hist"


class RunResult(NamedTuple):
    goals: int
    episodes: int
    last_rate: float


def random_success_rate(config: Path, decisions: int = 10000, num_areas: int = 32) -> tuple[float, int]:
    """Share of random-play episodes that reach the pyramid in ``config``'s room, and how many ended."""
    env_args = yaml.safe_load(config.read_text())["env_settings"].get("env_args") or []
    options, _ = parse_scene_options(scene_class("Pyramids"), env_args)
    env = rldojo_sim.make_env("Pyramids", seed=0, **(options | {"num_areas": num_areas}))
    returns = episode_returns(env, "Pyramids", "random", decisions)["Pyramids?team=0"]
    return float(np.mean(returns)), len(returns)


def run(config: Path, seed: int, max_steps: int, out: Path, budgets: list[int]) -> list[RunResult]:
    """Train ``config`` with ``seed``: per budget (or for the whole run when none), goals reached, episodes,
    and the success rate of the last summary within it."""
    run_id = f"{config.stem}-seed{seed}"
    if max_steps:
        settings = yaml.safe_load(config.read_text())
        for behavior in settings["behaviors"].values():
            behavior["max_steps"] = max_steps
        out.mkdir(parents=True, exist_ok=True)
        config = out / f"{run_id}.yaml"
        config.write_text(yaml.safe_dump(settings, sort_keys=False))  # the order of reward_signals counts
    rldojo = str(Path(sys.executable).with_name("rldojo"))
    command = [rldojo, "learn", str(config), "--run-id", run_id, "--results-dir", str(out),
               "--seed", str(seed), "--force"]  # fmt: skip
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    summaries = []  # (step, histogram)
    for events in sorted((out / run_id).rglob("events.out.tfevents.*")):
        accumulator = EventAccumulator(str(events), size_guidance={"histograms": 0})  # keep every summary
        accumulator.Reload()
        if RETURNS in accumulator.Tags()["histograms"]:
            summaries += [(event.step, event.histogram_value) for event in accumulator.Histograms(RETURNS)]
    results = []
    for budget in budgets or [max(step for step, _ in summaries) if summaries else 0]:
        within = [summary for step, summary in summaries if step <= budget]
        goals = round(sum(summary.sum for summary in within))
        episodes = round(sum(summary.num for summary in within))
        results.append(RunResult(goals, episodes, within[-1].sum / max(within[-1].num, 1) if within else 0.0))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        allow_abbrev=False, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--configs", type=Path, nargs="+", default=CONFIGS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--max-steps", type=int, default=0, help="override the configs' max_steps")
    parser.add_argument(
        "--budgets",
        type=int,
        nargs="+",
        default=[],
        help="report at these steps of each run (it trains to the largest)",
    )
    parser.add_argument("--jobs", type=int, default=1, help="runs at the same time")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench_sparse")
    args = parser.parse_args()
    rate, episodes = random_success_rate(args.configs[0])
    print(f"random play: {round(rate * episodes)}/{episodes} episodes reached the pyramid ({rate:.2%})")
    budgets = sorted(args.budgets)
    max_steps = budgets[-1] if budgets else args.max_steps
    runs = [(config, seed) for config in args.configs for seed in args.seeds]
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda job: run(*job, max_steps, args.out, budgets), runs))
    print("| config | steps | " + " | ".join(f"seed {seed}" for seed in args.seeds) + " | goals in total |")
    print("|---|---|" + "---|" * (len(args.seeds) + 1))
    for budget_index, budget in enumerate(budgets or ["all"]):
        for index, config in enumerate(args.configs):
            row = [r[budget_index] for r in results[index * len(args.seeds) : (index + 1) * len(args.seeds)]]
            cells = [f"{r.goals}/{r.episodes} (last {r.last_rate:.2f})" for r in row]
            total = f"{sum(r.goals for r in row)}/{sum(r.episodes for r in row)}"
            print(f"| {config.stem} | {budget} | " + " | ".join(cells) + f" | {total} |")


if __name__ == "__main__":
    main()
