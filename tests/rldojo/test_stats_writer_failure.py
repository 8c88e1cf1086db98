"""A stats-writer plugin that raises mid-run: the run finishes, the other writers get every summary, and
one warning names the plugin."""

from __future__ import annotations

import logging

from .test_plugins import site, unique, write_distribution  # noqa: F401 (site is a fixture)
from .training_runs import CONFIGS, train

FLAKY_WRITER = """
from rldojo.stats import StatsWriter

class FlakyWriter(StatsWriter):
    def __init__(self):
        self.calls = 0

    def write_stats(self, category, values, step):
        self.calls += 1
        if self.calls == 2:
            raise ValueError("lost the connection")

def writers(run_options):
    return [FlakyWriter()]
"""


def test_a_plugin_writer_that_raises_mid_run_is_named_and_dropped(site, request, tmp_path, caplog):  # noqa: F811
    module = unique("flaky", request)
    write_distribution(site, "flaky-writer", f"[rldojo.stats_writer]\nflaky = {module}:writers\n",
                       {module: FLAKY_WRITER})  # fmt: skip
    with caplog.at_level(logging.WARNING):
        recorder = train(
            CONFIGS / "basic_ppo.yaml",
            tmp_path,
            **{"behaviors.Basic.max_steps": 1200, "behaviors.Basic.summary_freq": 300},
        )
    assert sorted(recorder.summaries["Step"]) == [300, 600, 900, 1200]
    assert (tmp_path / "run" / "Basic" / "checkpoint.pt").is_file()
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert warnings == [
        f"stats writer FlakyWriter from plugin flaky-writer (entry point 'flaky = {module}:writers') raised "
        "ValueError in write_stats: lost the connection; the run goes on without it"
    ]
