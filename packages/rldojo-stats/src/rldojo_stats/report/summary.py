"""The markdown summary table of a report: one row per run group and behavior."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rldojo_stats.report.curves import Curve

__all__ = ["summary_table"]

HEADER = (
    "| group | behavior | runs | steps (shortest run) | final reward (mean ± std) | best reward "
    "| wall time (s) |\n"
    "|---|---|---:|---:|---:|---:|---:|"
)


def _row(group: str, behavior: str, curves: Sequence[Curve]) -> str:
    finals = np.asarray([curve.rewards[-1] for curve in curves])
    best = max(float(curve.rewards.max()) for curve in curves)
    steps = min(int(curve.steps[-1]) for curve in curves)
    seconds = np.mean([curve.elapsed[-1] for curve in curves])
    return (
        f"| {group} | {behavior} | {len(curves)} | {steps} | {finals.mean():.3f} ± {finals.std():.3f} "
        f"| {best:.3f} | {seconds:.1f} |"
    )


def summary_table(curves: Sequence[Curve]) -> str:
    """Markdown table: per group and behavior, final and best mean reward over its runs."""
    grouped: dict[tuple[str, str], list[Curve]] = {}
    for curve in curves:
        grouped.setdefault((curve.group, curve.behavior), []).append(curve)
    rows = [_row(group, behavior, members) for (group, behavior), members in sorted(grouped.items())]
    return "\n".join([HEADER, *rows]) + "\n"
