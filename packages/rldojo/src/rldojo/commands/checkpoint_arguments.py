"""Arguments that pick a run's checkpoint, shared by ``rldojo export`` and ``rldojo evaluate``."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_checkpoint_arguments(parser: argparse.ArgumentParser) -> None:
    """``--step N`` (default: the newest checkpoint) and ``--results-dir`` (default: results)."""
    parser.add_argument("--step", type=int, help="the run's checkpoint at step N (default: the newest)")
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=Path("results"),
        help="folder holding run folders (default: results)",
    )
