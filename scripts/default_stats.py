"""Every summary statistic of short seeded runs of each core trainer type with ML-Agents' defaults, as JSON.

    .venv/bin/python scripts/default_stats.py OUT.json

Run it on two commits and compare the files (``--compare A.json B.json``): a change that adds options
without changing ML-Agents' defaults gives the same numbers for the same seed. The configs are the shipped
configs/{ppo,a2c,sac,dqn}.yaml with small budgets and only ML-Agents' keys.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = {  # config -> overrides: small budgets; sim: scenes in process
    "ppo": {"behaviors.3DBall.max_steps": 4000, "behaviors.3DBall.hyperparameters.buffer_size": 1000,
            "behaviors.3DBall.summary_freq": 1000},
    "a2c": {"behaviors.3DBall.max_steps": 2000, "behaviors.3DBall.hyperparameters.buffer_size": 512,
            "behaviors.3DBall.summary_freq": 500, "env_settings.env_path": "sim:3DBall"},
    "sac": {"behaviors.3DBall.max_steps": 1600, "behaviors.3DBall.hyperparameters.buffer_init_steps": 500,
            "behaviors.3DBall.summary_freq": 400, "env_settings.env_path": "sim:3DBall"},
    "dqn": {"behaviors.Basic.max_steps": 1500, "behaviors.Basic.summary_freq": 500,
            "env_settings.env_path": "sim:Basic"},
}  # fmt: skip
IGNORED = ("Environment/Steps Per Second", "Is Training")


def record(algo: str, results: Path) -> dict[str, list[float]]:
    import torch

    from rldojo.settings import load_run_options
    from rldojo.stats import StatsSummary, StatsWriter
    from rldojo.training import train_run

    class Recorder(StatsWriter):
        def __init__(self) -> None:
            self.values: dict[str, list[float]] = {}

        def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
            for key, summary in sorted(values.items()):
                if not any(key.startswith(ignored) for ignored in IGNORED):
                    self.values.setdefault(f"{category} {key}", []).append(summary.mean)

    torch.set_num_threads(1)
    overrides = {"checkpoint_settings.results_dir": str(results), "checkpoint_settings.run_id": algo,
                 "env_settings.seed": 1, **RUNS[algo]}  # fmt: skip
    options = load_run_options(ROOT / "configs" / f"{algo}.yaml", overrides)
    recorder = Recorder()
    train_run(options, [recorder])
    return recorder.values


def compare(before: dict[str, dict[str, list[float]]], after: dict[str, dict[str, list[float]]]) -> int:
    differences = 0
    for algo, stats in before.items():
        for key, values in stats.items():
            new = after.get(algo, {}).get(key)
            same = (
                new is not None
                and len(new) == len(values)
                and all(
                    math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9) for a, b in zip(values, new, strict=True)
                )
            )
            if not same:
                differences += 1
                print(f"{algo} {key}: {values} -> {new}")
        for key in after.get(algo, {}).keys() - stats.keys():
            print(f"{algo} {key}: new statistic")
    print(f"{differences} statistics differ" if differences else "identical statistics")
    return 1 if differences else 0


def main() -> int:
    parser = argparse.ArgumentParser(
        allow_abbrev=False, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", nargs="?", type=Path)
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    parser.add_argument("--algos", nargs="+", default=list(RUNS), choices=list(RUNS))
    args = parser.parse_args()
    if args.compare:
        before, after = (json.loads(path.read_text()) for path in args.compare)
        return compare(before, after)
    if args.out is None:
        parser.error("give OUT.json or --compare BEFORE AFTER")
    with tempfile.TemporaryDirectory() as scratch:
        stats = {algo: record(algo, Path(scratch)) for algo in args.algos}
    args.out.write_text(json.dumps(stats, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
