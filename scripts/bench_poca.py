"""MA-POCA against independent PPO on DungeonEscape (rldojo-sim, in process): group reward per budget.

    .venv/bin/python scripts/bench_poca.py [--seeds 1 2 3 4 5] [--max-steps 30000] [--out results/bench_poca]

Trains configs/poca.yaml as it is (trainer_type poca) and with trainer_type ppo (the same hyperparameters;
each agent learns alone from its own reward plus the group reward), and prints per seed the share of group
episodes that escaped (the group reward, +1 per escape) in the first and the last summary period, then the
mean over seeds. Learning results do not depend on the machine's load; the seconds column does.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from rldojo.settings import load_run_options
from rldojo.stats import StatsSummary, StatsWriter
from rldojo.training import train_run

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "poca.yaml"
ESCAPED = "DungeonEscape/Escaped"
"""The scene's stat: 1 for a group episode that escaped, 0 otherwise (its mean is the group reward)."""
TRAINERS = ("poca", "ppo")


class EscapeRate(StatsWriter):
    """The mean of :data:`ESCAPED` at each summary."""

    def __init__(self) -> None:
        self.rates: list[float] = []

    def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
        if ESCAPED in values:
            self.rates.append(values[ESCAPED].mean)


def run(trainer_type: str, seed: int, max_steps: int, out: Path) -> tuple[EscapeRate, float]:
    options = load_run_options(
        CONFIG,
        {
            "behaviors.DungeonEscape.trainer_type": trainer_type,
            "behaviors.DungeonEscape.max_steps": max_steps,
            "env_settings.seed": seed,
            "checkpoint_settings.results_dir": str(out),
            "checkpoint_settings.run_id": f"{trainer_type}-seed{seed}",
            "checkpoint_settings.force": True,
        },
    )
    rates = EscapeRate()
    start = time.perf_counter()
    train_run(options, [rates])
    return rates, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        allow_abbrev=False, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--max-steps", type=int, default=30000)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench_poca")
    args = parser.parse_args()
    finals: dict[str, list[float]] = {trainer: [] for trainer in TRAINERS}
    print(f"DungeonEscape, {args.max_steps} steps: share of group episodes that escaped")
    print("| trainer | seed | first summary | last summary | seconds |")
    print("|---|---|---|---|---|")
    for trainer in TRAINERS:
        for seed in args.seeds:
            rates, seconds = run(trainer, seed, args.max_steps, args.out)
            finals[trainer].append(rates.rates[-1])
            print(
                f"| {trainer} | {seed} | {rates.rates[0]:.3f} | {rates.rates[-1]:.3f} | {seconds:.0f} |",
                flush=True,
            )
    for trainer, values in finals.items():
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        print(f"| {trainer} | mean of {len(values)} | | {statistics.mean(values):.3f} ± {spread:.3f} | |")


if __name__ == "__main__":
    main()
