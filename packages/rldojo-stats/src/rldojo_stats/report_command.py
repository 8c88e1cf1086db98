"""``rldojo report RUN_DIR...``: learning curves and a summary of groups of runs.

Added to ``rldojo`` by this package's ``rldojo.cli`` entry point; the report itself (matplotlib and all)
is imported only when the command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_parser"]

REWARD_KEY = "Environment/Cumulative Reward"


def _group(text: str) -> tuple[str, str]:
    name, equals, pattern = text.partition("=")
    if not equals or not name or not pattern:
        raise argparse.ArgumentTypeError(f"'{text}' is not NAME=RUN_GLOB (e.g. --group ppo='ball_s*')")
    return name, pattern


def _window(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of summaries (1: no smoothing)")
    return int(text)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add ``report`` to the ``rldojo`` subcommands."""
    parser = subparsers.add_parser(
        "report",
        help="plot learning curves and summarise groups of runs (from rldojo-stats)",
        description="Per group of runs: each seed as a thin line, the mean with a bootstrapped 95%% "
        "interval, against trainer steps and wall time; a markdown summary with final scores and, for "
        "groups of 3+ runs, rliable's IQM and probability of improvement. Runs are grouped with --group, "
        "else by their resolved configuration.yaml (seed, run id, device and writers aside).",
    )
    parser.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN_DIR", help="results/<run-id> folders")
    parser.add_argument("--out", type=Path, default=Path("report"), help="output folder (default: report)")
    parser.add_argument(
        "--group",
        dest="groups",
        action="append",
        type=_group,
        default=[],
        metavar="NAME=RUN_GLOB",
        help="runs whose folder name matches RUN_GLOB form group NAME (repeatable)",
    )
    parser.add_argument("--metric", default=REWARD_KEY, help=f"stat to plot (default: {REWARD_KEY})")
    parser.add_argument(
        "--smooth", type=_window, default=1, metavar="N", help="moving average over N summaries"
    )
    parser.add_argument(
        "--x", choices=("steps", "time", "both"), default="both", help="x axis (default: both)"
    )
    parser.add_argument(
        "--format",
        dest="formats",
        nargs="+",
        choices=("png", "svg", "pdf"),
        default=["png", "svg", "pdf"],
        help="figure files to write (default: png at 300 dpi, svg and pdf)",
    )
    parser.set_defaults(command_function=run)


def run(args: argparse.Namespace) -> int:
    from rldojo_stats.report import ReportOptions, write_report

    options = ReportOptions(
        metric=args.metric,
        x_axes=("steps", "time") if args.x == "both" else (args.x,),
        window=args.smooth,
        groups=args.groups,
        formats=args.formats,
    )
    for path in write_report(args.run_dirs, args.out, options):
        print(path)
    return 0
