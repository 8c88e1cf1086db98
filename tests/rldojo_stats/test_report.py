"""`rldojo report`: PNGs and a summary table for two seeds, from CSV or from TensorBoard events."""

from __future__ import annotations

import csv
import shutil

import numpy as np
import pytest
from matplotlib import image

from rldojo.cli import main
from rldojo_stats.report.curves import group_name, read_curves

REWARD = "Environment/Cumulative Reward"


def test_report_on_two_seeds_writes_curves_and_a_summary(trained_runs, tmp_path, capsys):
    out = tmp_path / "report"
    runs = [str(trained_runs.folder(run_id)) for run_id in ("basic_s1", "basic_s2")]
    assert main(["report", *runs, "--out", str(out)]) == 0
    printed = capsys.readouterr().out.split()
    expected = [out / "reward_vs_steps_Basic.png", out / "reward_vs_time_Basic.png", out / "summary.md"]
    assert printed == [str(path) for path in expected]
    for png in expected[:2]:
        pixels = image.imread(png)
        assert pixels.shape[0] > 400 and pixels.shape[1] > 700
        assert np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0).shape[0] > 20  # not a blank canvas
    table = (out / "summary.md").read_text().splitlines()
    (row,) = [line for line in table if line.startswith("| basic |")]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    finals = []
    for run_id in ("basic_s1", "basic_s2"):
        with (trained_runs.folder(run_id) / "summaries.csv").open(newline="") as stream:
            finals.append(float(list(csv.DictReader(stream))[-1][f"{REWARD}/mean"]))
    assert cells[:4] == ["basic", "Basic", "2", "1500"]
    assert cells[4] == f"{np.mean(finals):.3f} ± {np.std(finals):.3f}"
    shutil.copytree(out, trained_runs.results.parent / "report")  # kept with the runs for inspection


def test_tensorboard_events_give_the_same_curve_as_the_csv(trained_runs, tmp_path):
    events_only = tmp_path / "basic_s2"
    shutil.copytree(
        trained_runs.folder("basic_s2"), events_only, ignore=shutil.ignore_patterns("summaries.*")
    )
    (from_csv,) = read_curves(trained_runs.folder("basic_s2"))
    (from_events,) = read_curves(events_only)
    assert from_events.behavior == "Basic"
    assert from_events.steps.tolist() == from_csv.steps.tolist() == [300, 600, 900, 1200, 1500]
    np.testing.assert_allclose(from_events.rewards, from_csv.rewards, rtol=1e-6, atol=1e-7)
    assert np.all(np.diff(from_events.elapsed) > 0) and from_events.elapsed[0] > 0


@pytest.mark.smoke
@pytest.mark.parametrize(
    ("run_id", "group"),
    [("basic_s1", "basic"), ("3dball-seed12", "3dball"), ("ppo.2", "ppo"), ("run", "run"), ("42", "42")],
)
def test_runs_that_differ_by_a_trailing_seed_share_a_group(run_id, group):
    assert group_name(run_id) == group


@pytest.mark.smoke
def test_report_on_a_folder_without_stats_says_so(tmp_path, capsys):
    (tmp_path / "empty_run").mkdir()
    assert main(["report", str(tmp_path / "empty_run"), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert "no episode rewards found" in error and "summaries.csv" in error and error.count("\n") == 1
