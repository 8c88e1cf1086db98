"""The markdown summary of a report: final scores per group, and IQM / probability of improvement.

IQM (interquartile mean) and probability of improvement come from rliable, with stratified bootstrap
95% intervals, for groups with at least ``MIN_SEEDS_FOR_RLIABLE`` runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import permutations

import numpy as np

from rldojo_stats.report.aggregate import bootstrap_interval
from rldojo_stats.report.curves import Curve

__all__ = ["MIN_SEEDS_FOR_RLIABLE", "summary_markdown"]

MIN_SEEDS_FOR_RLIABLE = 3
RLIABLE_REPETITIONS = 2000


def _final_scores(curves: Sequence[Curve]) -> np.ndarray:
    """Each run's last value of the metric, as a (runs, 1) score matrix (one task)."""
    return np.asarray([[curve.values[-1]] for curve in curves], dtype=float)


def _interval_text(value: float, low: float, high: float) -> str:
    return f"{value:.3f} [{low:.3f}, {high:.3f}]"


def _final_table(metric: str, groups: Mapping[str, Sequence[Curve]]) -> list[str]:
    lines = [
        f"### Final {metric}",
        "",
        "Each run's last summary; mean over runs with its bootstrapped 95% interval.",
        "",
        "| group | runs | steps (shortest run) | final (mean [95% CI]) | best | wall time (s) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, curves in groups.items():
        finals = _final_scores(curves)[:, 0]
        low, high = bootstrap_interval(finals[:, None])
        lines.append(
            f"| {name} | {len(curves)} | {min(int(curve.steps[-1]) for curve in curves)} "
            f"| {_interval_text(float(finals.mean()), float(low[0]), float(high[0]))} "
            f"| {max(float(curve.values.max()) for curve in curves):.3f} "
            f"| {np.mean([curve.elapsed[-1] for curve in curves]):.1f} |"
        )
    return lines


def _rliable_tables(metric: str, groups: Mapping[str, Sequence[Curve]]) -> list[str]:
    from rliable import library, metrics

    scores = {name: _final_scores(curves) for name, curves in groups.items()}
    scores = {name: matrix for name, matrix in scores.items() if len(matrix) >= MIN_SEEDS_FOR_RLIABLE}
    if not scores:
        return [f"IQM and probability of improvement need {MIN_SEEDS_FOR_RLIABLE}+ runs per group."]
    lines = [
        f"### IQM of the final {metric} (rliable)",
        "",
        "| group | runs | IQM [95% CI] |",
        "|---|---:|---:|",
    ]
    points, intervals = library.get_interval_estimates(
        scores, lambda matrix: np.asarray([metrics.aggregate_iqm(matrix)]), reps=RLIABLE_REPETITIONS
    )
    for name in scores:
        interval = intervals[name][:, 0]
        lines.append(
            f"| {name} | {len(scores[name])} | {_interval_text(points[name][0], interval[0], interval[1])} |"
        )
    names = {f"{x_index},{y_index}": (x, y) for x_index, y_index in permutations(range(len(scores)), 2)
             for x, y in [(list(scores)[x_index], list(scores)[y_index])]}  # fmt: skip
    pairs = {key: (scores[x], scores[y]) for key, (x, y) in names.items()}
    if pairs:
        probabilities, pair_intervals = library.get_interval_estimates(
            pairs, metrics.probability_of_improvement, reps=RLIABLE_REPETITIONS
        )
        lines += ["", "### Probability of improvement (rliable): P(X > Y) on the final score", "",
                  "| X | Y | P(X > Y) [95% CI] |", "|---|---|---:|"]  # fmt: skip
        for pair, probability in probabilities.items():
            x, y = names[pair]
            low, high = np.ravel(pair_intervals[pair])
            lines.append(f"| {x} | {y} | {_interval_text(float(probability), float(low), float(high))} |")
    return lines


def summary_markdown(metric: str, behavior: str, groups: Mapping[str, Sequence[Curve]]) -> str:
    """Markdown sections for one behavior: final scores per group, then rliable's IQM and P(X > Y)."""
    lines = [
        f"## {behavior}: {metric}",
        "",
        *_final_table(metric, groups),
        "",
        *_rliable_tables(metric, groups),
    ]
    return "\n".join(lines) + "\n"
