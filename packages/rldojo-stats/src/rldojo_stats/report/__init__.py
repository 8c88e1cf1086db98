"""``rldojo report RUN_DIR...``: learning-curve figures and a markdown summary of groups of runs."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rldojo.errors import ConfigError
from rldojo_stats.report.curves import EVAL_REWARD_KEY, REWARD_KEY, Curve, read_curves
from rldojo_stats.report.grouping import group_runs
from rldojo_stats.report.plots import AXES, FORMATS, human_number, plot_curves
from rldojo_stats.report.summary import summary_markdown

__all__ = ["EVAL_REWARD_KEY", "REWARD_KEY", "ReportOptions", "human_number", "write_report"]


@dataclass(frozen=True)
class ReportOptions:
    """What ``rldojo report`` draws: the metric, the x axes, smoothing, groups and file formats."""

    metric: str = REWARD_KEY
    x_axes: Sequence[str] = tuple(AXES)
    window: int = 1
    """Moving-average window over summaries (1: no smoothing)."""
    groups: Sequence[tuple[str, str]] = field(default_factory=tuple)
    """Explicit ``(name, run glob)`` groups; other runs are grouped by their resolved config."""
    formats: Sequence[str] = FORMATS


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()


def _curves_by_behavior(groups: dict[str, list[Path]], metric: str) -> dict[str, dict[str, list[Curve]]]:
    by_behavior: dict[str, dict[str, list[Curve]]] = {}
    for name, run_dirs in groups.items():
        for run_dir in run_dirs:
            for curve in read_curves(run_dir, metric):
                by_behavior.setdefault(curve.behavior, {}).setdefault(name, []).append(curve)
    return by_behavior


def write_report(run_dirs: Sequence[Path], out: Path, options: ReportOptions | None = None) -> list[Path]:
    """Write the figures (``<metric>_vs_<x>_<behavior>.<format>``, also for ``Eval/`` curves when the runs
    have them) and ``summary.md`` into ``out``; return the paths written."""
    options = options or ReportOptions()
    groups = group_runs(run_dirs, options.groups)
    curves = _curves_by_behavior(groups, options.metric)
    if not curves:
        raise ConfigError(
            f"no '{options.metric}' found in {', '.join(str(path) for path in run_dirs)} (neither "
            "summaries.csv nor TensorBoard events); are they rldojo run folders that completed episodes?"
        )
    metrics = {options.metric: curves}
    if options.metric == REWARD_KEY:
        eval_curves = _curves_by_behavior(groups, EVAL_REWARD_KEY)
        metrics.update({EVAL_REWARD_KEY: eval_curves} if eval_curves else {})
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    summary = ["# rldojo report", "", "Groups: " + "; ".join(
        f"{name} = {', '.join(run_dir.name for run_dir in members)}" for name, members in groups.items()
    ), ""]  # fmt: skip
    for metric, by_behavior in metrics.items():
        for behavior, behavior_groups in sorted(by_behavior.items()):
            for x in options.x_axes:
                stem = out / f"{_slug(metric)}_vs_{x}_{_slug(behavior)}"
                title = f"{behavior}: {metric}"
                written += plot_curves(
                    behavior_groups, title, metric, x, stem, options.window, options.formats
                )
            summary.append(summary_markdown(metric, behavior, behavior_groups))
    path = out / "summary.md"
    path.write_text("\n".join(summary))
    return [*written, path]
