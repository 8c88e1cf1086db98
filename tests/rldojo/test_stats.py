"""StatsReporter, StatsSummary and the console and TensorBoard writers."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from rldojo.stats import (
    STEPS_PER_SECOND_KEY,
    StatsAggregationMethod,
    StatsPropertyType,
    StatsReporter,
    StatsSummary,
    StatsWriter,
    TensorboardWriter,
)
from rldojo.stats.console import summary_line, wrap_phrases

pytestmark = pytest.mark.smoke


class RecordingWriter(StatsWriter):
    def __init__(self) -> None:
        self.summaries: list[tuple[str, dict[str, StatsSummary], int]] = []
        self.added: list[tuple[str, str, float]] = []
        self.properties: list[tuple[str, StatsPropertyType, object]] = []

    def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
        self.summaries.append((category, values, step))

    def on_add_stat(self, category, key, value, aggregation=StatsAggregationMethod.AVERAGE) -> None:
        self.added.append((category, key, value))

    def add_property(self, category, property_type, value) -> None:
        self.properties.append((category, property_type, value))


@pytest.fixture
def writer():
    return RecordingWriter()


@pytest.fixture
def run_reporter(writer):
    """One run's reporter publishing to ``writer``."""
    reporter = StatsReporter()
    reporter.add_writer(writer)
    return reporter


def test_writers_get_floats_for_tensor_and_numpy_values(run_reporter, writer):
    reporter = run_reporter.for_category("Ball")
    reporter.add_stat("Losses/Q1 Loss", torch.tensor(0.5))  # optimizers report 0-d tensors
    reporter.set_stat("Policy/Exploration Epsilon", np.float32(0.25))
    reporter.write_stats(10)
    assert writer.added == [("Ball", "Losses/Q1 Loss", 0.5), ("Ball", "Policy/Exploration Epsilon", 0.25)]
    assert all(type(value) is float for _, _, value in writer.added)
    assert all(type(value) is float for value in writer.summaries[-1][1]["Losses/Q1 Loss"].full_dist)


def test_summary_aggregations():
    values = [1.0, 2.0, 6.0]
    assert StatsSummary(values, StatsAggregationMethod.AVERAGE).aggregated_value == 3.0
    assert StatsSummary(values, StatsAggregationMethod.SUM).aggregated_value == 9.0
    summary = StatsSummary(values, StatsAggregationMethod.HISTOGRAM)
    assert (summary.num, summary.mean, summary.sum) == (3, 3.0, 9.0)
    assert summary.std == pytest.approx(2.1602, abs=1e-4)


def test_reporter_summarises_per_category_and_starts_a_new_period(run_reporter, writer):
    reporter = run_reporter.for_category("Ball")
    other = run_reporter.for_category("Other")
    reporter.add_stat("Losses/Value Loss", 1.0)
    reporter.add_stat("Losses/Value Loss", 3.0)
    reporter.set_stat("Step", 10)
    reporter.set_stat("Step", 20)
    other.add_stat("Losses/Value Loss", 100.0)
    reporter.write_stats(20)
    category, values, step = writer.summaries[-1]
    assert (category, step) == ("Ball", 20)
    assert values["Losses/Value Loss"].mean == 2.0
    assert values["Step"].full_dist == [20.0]
    assert ("Ball", "Step", 20) in writer.added
    reporter.write_stats(40)
    assert set(writer.summaries[-1][1]) == {STEPS_PER_SECOND_KEY}  # nothing left of the first period
    other.write_stats(5)
    assert writer.summaries[-1][1]["Losses/Value Loss"].mean == 100.0


def test_properties_reach_writers(run_reporter, writer):
    run_reporter.for_category("Ball").add_property(StatsPropertyType.HYPERPARAMETERS, {"max_steps": 7})
    assert writer.properties == [("Ball", StatsPropertyType.HYPERPARAMETERS, {"max_steps": 7})]


def test_runs_share_nothing(run_reporter, writer):
    """Two runs in one process: values and writers of one never reach the other."""
    other_run = StatsReporter("Ball")
    other_run.add_stat("Losses/Value Loss", 100.0)
    reporter = run_reporter.for_category("Ball")
    reporter.add_stat("Losses/Value Loss", 1.0)
    reporter.write_stats(10)
    assert writer.summaries[-1][1]["Losses/Value Loss"].full_dist == [1.0]
    assert other_run.writers == [] and ("Ball", "Losses/Value Loss", 100.0) not in writer.added


class FailingWriter(StatsWriter):
    def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
        raise OSError("disk full")


def test_a_writer_that_raises_is_named_once_and_dropped(run_reporter, writer, caplog):
    failing = FailingWriter()
    run_reporter.add_writer(failing, "plugin full-disk (entry point 'full = full:writers')")
    run_reporter.add_writer(second := RecordingWriter())
    reporter = run_reporter.for_category("Ball")
    for step in (10, 20):
        reporter.add_stat("Losses/Value Loss", float(step))
        reporter.write_stats(step)
    assert [step for _, _, step in writer.summaries] == [10, 20] == [step for _, _, step in second.summaries]
    assert run_reporter.writers == [writer, second]
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert warnings == [
        "stats writer FailingWriter from plugin full-disk (entry point 'full = full:writers') raised OSError "
        "in write_stats: disk full; the run goes on without it"
    ]


def test_console_line_matches_mlagents():
    rewards = StatsSummary([1.0, 3.0], StatsAggregationMethod.HISTOGRAM)
    line = summary_line("3DBall", {"Environment/Cumulative Reward": rewards}, 12000, 9.5)
    assert (
        line
        == "3DBall. Step: 12000. Time Elapsed: 9.500 s. Mean Reward: 2.000. Std of Reward: 1.000. Training."
    )
    groups = {
        "Environment/Cumulative Reward": StatsSummary([0.0], StatsAggregationMethod.HISTOGRAM),
        "Environment/Group Cumulative Reward": StatsSummary([1.0, 0.0], StatsAggregationMethod.HISTOGRAM),
    }
    assert summary_line("DungeonEscape", groups, 5, 1.0) == (
        "DungeonEscape. Step: 5. Time Elapsed: 1.000 s. Mean Reward: 0.000. Mean Group Reward: 0.500. "
        "Training."
    )
    not_training = {"Is Training": StatsSummary([0.0], StatsAggregationMethod.AVERAGE)}
    assert summary_line("B", not_training, 5, 1.0) == (
        "B. Step: 5. Time Elapsed: 1.000 s. No episode was completed since last summary. Not Training."
    )


def test_tensorboard_writer_writes_scalars_histograms_and_hides_keys(tmp_path):
    writer = TensorboardWriter(tmp_path, hidden_keys=["Step"])
    writer.write_stats(
        "Ball",
        {
            "Environment/Cumulative Reward": StatsSummary([1.0, 3.0], StatsAggregationMethod.HISTOGRAM),
            "Step": StatsSummary([10.0], StatsAggregationMethod.MOST_RECENT),
        },
        10,
    )
    writer.close()
    events = EventAccumulator(str(tmp_path / "Ball"))
    events.Reload()
    assert events.Tags()["scalars"] == ["Environment/Cumulative Reward"]
    assert [(e.step, e.value) for e in events.Scalars("Environment/Cumulative Reward")] == [(10, 2.0)]
    assert "Environment/Cumulative Reward_hist" in events.Tags()["histograms"]


def test_console_progress_bar_shows_steps_per_second_and_eta():
    import io

    from rich.console import Console

    from rldojo.stats import ConsoleWriter

    output = io.StringIO()
    writer = ConsoleWriter(Console(file=output, force_terminal=True, width=150))
    writer.add_property("Ball", StatsPropertyType.HYPERPARAMETERS, {"max_steps": 1000})
    for step in (100, 200, 300):
        writer.on_add_stat("Ball", "Step", step, StatsAggregationMethod.MOST_RECENT)
    writer.progress.refresh()
    writer.close()
    assert "300/1000" in output.getvalue() and "steps/s" in output.getvalue() and "ETA" in output.getvalue()


def test_every_summary_but_the_first_has_steps_per_second():
    class Recorder(StatsWriter):
        def __init__(self) -> None:
            self.summaries: list[tuple[int, dict[str, StatsSummary]]] = []

        def write_stats(self, category: str, values: dict[str, StatsSummary], step: int) -> None:
            self.summaries.append((step, values))

    recorder = Recorder()
    reporter = StatsReporter()
    reporter.add_writer(recorder)
    ball = reporter.for_category("Ball")
    started = time.perf_counter()
    for step in (100, 300):
        ball.add_stat("Losses/Value Loss", 1.0)
        ball.write_stats(step)
    elapsed = time.perf_counter() - started
    (_, first), (_, second) = recorder.summaries
    assert STEPS_PER_SECOND_KEY not in first
    assert second[STEPS_PER_SECOND_KEY].mean >= 200 / elapsed  # 200 steps in at most that time


def test_console_bar_stops_at_max_steps_and_the_run_ends_with_a_closing_summary(tmp_path):
    import io

    from rich.console import Console

    from rldojo.stats import ConsoleWriter

    output = io.StringIO()
    writer = ConsoleWriter(Console(file=output, force_terminal=True, width=150), run_folder=tmp_path)
    writer.add_property("Ball", StatsPropertyType.HYPERPARAMETERS, {"max_steps": 1000})
    writer.on_add_stat("Ball", "Step", 1022, StatsAggregationMethod.MOST_RECENT)
    assert writer.progress.tasks[0].completed == 1000
    rewards = StatsSummary([1.0, 2.0], StatsAggregationMethod.HISTOGRAM)
    writer.write_stats("Ball", {"Environment/Cumulative Reward": rewards}, 1000)
    writer.write_stats("Ball", {}, 1022)
    writer.close()
    text = output.getvalue()
    assert "Run ended after" in text and "Ball: step 1022, last mean reward 1.500" in text
    assert f"run folder: {tmp_path}" in text


def test_summary_lines_are_cut_between_phrases_on_a_narrow_terminal():
    line = "3DBall. Step: 12000. Time Elapsed: 9.500 s. Mean Reward: 2.000. Std of Reward: 1.000. Training."
    assert wrap_phrases(line, 80) == [
        "3DBall. Step: 12000. Time Elapsed: 9.500 s. Mean Reward: 2.000.",
        "  Std of Reward: 1.000. Training.",
    ]
    assert wrap_phrases(line, 200) == [line]
