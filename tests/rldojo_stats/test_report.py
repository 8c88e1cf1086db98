"""`rldojo report`: groups (explicit or by config), seeds and a bootstrapped mean, figures, the summary."""

from __future__ import annotations

import csv
import json
import logging
import shutil
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image

from rldojo.cli import main
from rldojo_stats.report import human_number
from rldojo_stats.report.aggregate import bootstrap_interval, smooth
from rldojo_stats.report.curves import read_curves

REWARD = "Environment/Cumulative Reward"
STEPS_FIGURE = "environment_cumulative_reward_vs_steps_basic"
TIME_FIGURE = "environment_cumulative_reward_vs_time_basic"


def final_rewards(*folders: Path) -> list[float]:
    finals = []
    for folder in folders:
        with (folder / "summaries.csv").open(newline="") as stream:
            finals.append(float(list(csv.DictReader(stream))[-1][f"{REWARD}/mean"]))
    return finals


def test_an_explicit_group_is_one_mean_with_figures_in_three_formats(trained_runs, tmp_path, capsys):
    out = tmp_path / "report"
    runs = [str(trained_runs.folder(run_id)) for run_id in ("basic_s1", "basic_s2")]
    assert main(["report", *runs, "--group", "basic=basic_s*", "--out", str(out)]) == 0
    printed = capsys.readouterr().out.split()
    figures = [
        out / f"{stem}.{kind}" for stem in (STEPS_FIGURE, TIME_FIGURE) for kind in ("png", "svg", "pdf")
    ]
    assert printed == [str(path) for path in [*figures, out / "summary.md"]]
    for png in (out / f"{STEPS_FIGURE}.png", out / f"{TIME_FIGURE}.png"):
        pixels = image.imread(png)
        assert pixels.shape[0] >= 1350 and pixels.shape[1] >= 2100  # 7 x 4.5 inches at 300 dpi
        assert np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0).shape[0] > 20  # not a blank canvas
    svg = (out / f"{STEPS_FIGURE}.svg").read_text()
    assert svg.count("stroke: #1f77b4") >= 3  # two seed lines and the mean, all in the group's colour
    assert "mean of 2 runs (where all have data), 95% CI" in svg and "1.5k" in svg  # legend, human tick
    summary = (out / "summary.md").read_text()
    (row,) = [line for line in summary.splitlines() if line.startswith("| basic |")]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    finals = final_rewards(trained_runs.folder("basic_s1"), trained_runs.folder("basic_s2"))
    low, high = bootstrap_interval(np.asarray(finals)[:, None])
    assert cells[:3] == ["basic", "2", "1500"]
    assert cells[3] == f"{np.mean(finals):.3f} [{low[0]:.3f}, {high[0]:.3f}]"
    assert "need 3+ runs per group" in summary  # no IQM from two seeds
    shutil.copytree(out, trained_runs.results.parent / "report")  # kept with the runs for inspection


def test_without_groups_runs_are_grouped_by_their_config_not_their_ids(trained_runs, tmp_path):
    """basic_s1 was resumed with max_steps 2100, so it is another experiment than basic_s2."""
    runs = [trained_runs.folder(run_id) for run_id in ("basic_s1", "basic_s2")]
    copy = tmp_path / "other_name"
    shutil.copytree(runs[1], copy)  # same config as basic_s2 under an unrelated id
    assert main(["report", *map(str, [*runs, copy]), "--out", str(tmp_path / "out"), "--format", "png"]) == 0
    summary = (tmp_path / "out" / "summary.md").read_text()
    rows = [line.split("|")[1:3] for line in summary.splitlines() if line.startswith("| ")]
    groups = {name.strip(): int(count) for name, count in rows if count.strip().isdigit()}
    assert groups == {"basic_s1": 1, "basic_s2": 2}


def test_runs_without_a_common_wall_time_range_warn_and_still_draw_their_seeds(
    trained_runs, tmp_path, caplog
):
    """A seed that ran ten times slower (another machine, a loaded one) shares no wall-time range."""
    fast = trained_runs.folder("basic_s2")
    slow = tmp_path / "basic_slow"
    shutil.copytree(fast, slow)
    start = datetime.fromisoformat(
        json.loads((slow / "run_manifest.json").read_text())["started_at"]
    ).timestamp()
    with (slow / "summaries.csv").open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    for row in rows:
        row["wall_time"] = str(start + 10 * (float(row["wall_time"]) - start))
    with (slow / "summaries.csv").open("w", newline="") as stream:
        writer = csv.DictWriter(stream, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "out"
    with caplog.at_level(logging.WARNING):
        assert main(["report", str(fast), str(slow), "--group", "basic=basic_*", "--out", str(out)]) == 0
    assert "its 2 runs share no wall time since launch (s) range, so no mean is drawn" in caplog.text
    time_svg = (out / f"{TIME_FIGURE}.svg").read_text()
    assert (
        time_svg.count("stroke: #1f77b4") >= 2 and "no common range" in time_svg
    )  # seeds, not an empty axis
    steps_svg = (out / f"{STEPS_FIGURE}.svg").read_text()
    assert "mean of 2 runs (where all have data), 95% CI" in steps_svg  # the steps figure still has its mean


def test_tensorboard_events_give_the_same_curve_as_the_csv(trained_runs, tmp_path):
    events_only = tmp_path / "basic_s2"
    shutil.copytree(
        trained_runs.folder("basic_s2"), events_only, ignore=shutil.ignore_patterns("summaries.*")
    )
    (from_csv,) = read_curves(trained_runs.folder("basic_s2"))
    (from_events,) = read_curves(events_only)
    assert from_events.behavior == "Basic"
    assert from_events.steps.tolist() == from_csv.steps.tolist() == [300, 600, 900, 1200, 1500]
    np.testing.assert_allclose(from_events.values, from_csv.values, rtol=1e-6, atol=1e-7)
    assert np.all(np.diff(from_events.elapsed) > 0) and from_events.elapsed[0] > 0


@pytest.mark.smoke
@pytest.mark.parametrize(
    ("value", "label"), [(7500, "7.5k"), (10000, "10k"), (1_500_000, "1.5M"), (250, "250"), (-0.5, "-0.5")]
)
def test_tick_labels_are_human(value, label):
    assert human_number(value) == label


@pytest.mark.smoke
def test_smoothing_is_a_trailing_moving_average():
    assert smooth(np.asarray([0.0, 2.0, 4.0, 6.0]), 2).tolist() == [0.0, 1.0, 3.0, 5.0]
    assert smooth(np.asarray([1.0, 5.0]), 1).tolist() == [1.0, 5.0]


@pytest.mark.smoke
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--group", "nothing"], "argument --group: 'nothing' is not NAME=RUN_GLOB"),
        (["--smooth", "0"], "argument --smooth: '0' is not a number of summaries"),
    ],
)
def test_bad_report_flags_are_one_line(args, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["report", str(tmp_path), *args])
    assert exit_.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.smoke
def test_a_group_glob_that_matches_nothing_says_so(tmp_path, capsys):
    (tmp_path / "run_a").mkdir()
    assert main(["report", str(tmp_path / "run_a"), "--group", "x=ball_*", "--out", str(tmp_path / "o")]) == 2
    assert "--group x=ball_*: matches none of the runs given (run_a)" in capsys.readouterr().err


@pytest.mark.smoke
def test_report_on_a_folder_without_stats_says_so(tmp_path, capsys):
    (tmp_path / "empty_run").mkdir()
    arguments = [
        "report",
        str(tmp_path / "empty_run"),
        "--group",
        "g=empty_run",
        "--out",
        str(tmp_path / "out"),
    ]
    assert main(arguments) == 2
    error = capsys.readouterr().err
    assert f"no '{REWARD}' found in" in error and "summaries.csv" in error and error.count("\n") == 1
