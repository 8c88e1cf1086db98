"""``rldojo report RUN_DIR... --out DIR``: learning-curve PNGs and a markdown summary of runs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rldojo_stats.report.curves import Curve, read_curves
from rldojo_stats.report.plots import AXES, plot_rewards
from rldojo_stats.report.summary import summary_table

__all__ = ["write_report"]


def write_report(run_dirs: Sequence[Path], out: Path) -> list[Path]:
    """Write ``reward_vs_<steps|time>_<behavior>.png`` and ``summary.md`` into ``out``; return the paths."""
    curves = [curve for run_dir in run_dirs for curve in read_curves(run_dir)]
    out.mkdir(parents=True, exist_ok=True)
    by_behavior: dict[str, dict[str, list[Curve]]] = {}
    for curve in curves:
        by_behavior.setdefault(curve.behavior, {}).setdefault(curve.group, []).append(curve)
    written = [
        plot_rewards(groups, behavior, kind, out / f"reward_vs_{kind}_{behavior}.png")
        for behavior, groups in sorted(by_behavior.items())
        for kind in AXES
    ]
    summary = out / "summary.md"
    summary.write_text("# rldojo report\n\n" + summary_table(curves))
    return [*written, summary]
