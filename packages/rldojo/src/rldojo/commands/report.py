"""``rldojo report RUN_DIR... [--out DIR]``: learning curves and a summary table (from rldojo-stats)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rldojo.errors import ConfigError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="plot learning curves and summarise runs (needs rldojo-stats)",
        description="Reward vs steps and vs wall time per behavior (mean and spread over seeds when run "
        "ids differ only by a trailing number) and a markdown summary, from the runs' summaries.csv or "
        "TensorBoard events.",
    )
    parser.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN_DIR", help="results/<run-id> folders")
    parser.add_argument("--out", type=Path, default=Path("report"), help="output folder (default: report)")
    parser.set_defaults(command_function=run)


def run(args: argparse.Namespace) -> int:
    try:
        from rldojo_stats.report import write_report
    except ImportError as error:
        raise ConfigError(
            f"rldojo report needs the rldojo-stats package ({error}); install it: pip install rldojo-stats"
        ) from None
    for path in write_report(args.run_dirs, args.out):
        print(path)
    return 0
