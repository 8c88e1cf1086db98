"""``rldojo sweep SWEEP.yaml``: a hyperparameter sweep of ordinary rldojo runs (an ``rldojo.cli`` plugin)."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="run a hyperparameter sweep (grid, random, Optuna TPE) of rldojo runs (rldojo-ray)",
        description="Run every trial of a sweep file as ordinary rldojo runs (one per seed), then write the "
        "results table, best first, to <results_dir>/<sweep_id>/results.md.",
    )
    parser.add_argument("sweep_file", type=Path, metavar="SWEEP", help="sweep YAML file")
    parser.add_argument(
        "--ray",
        nargs="?",
        const="local",
        metavar="ADDRESS",
        help="run the trials as Ray Tune trials: on a local Ray instance, or on the cluster at ADDRESS",
    )
    parser.add_argument(
        "--results-dir", help="folder for the sweep's folder (default: the file's results_dir)"
    )
    parser.set_defaults(command_function=run)


def run(args: argparse.Namespace) -> int:
    from rldojo_ray.sweep.settings import load_sweep_settings
    from rldojo_ray.sweep.study import run_sweep
    from rldojo_ray.sweep.table import format_table

    overrides = {key: value for key, value in (("ray", args.ray), ("results_dir", args.results_dir)) if value}
    settings = load_sweep_settings(args.sweep_file, overrides)
    print(
        f"Sweep '{settings.sweep_id}' in {settings.sweep_dir}: {settings.trial_budget} trial(s) "
        f"x {len(settings.seeds)} seed(s), {settings.sampler.value} sampler"
        + (f", on Ray ({settings.ray})" if settings.ray else "")
    )
    results = run_sweep(settings)
    print(format_table(results), end="")
    runs = settings.sweep_dir / "runs"
    print(f"Results: {settings.sweep_dir / 'results.md'}; curves by trial: rldojo report {runs}/*/")
    return 0 if any(result.state == "complete" for result in results) else 1
