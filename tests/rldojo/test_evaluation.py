"""``eval_settings``: evaluation episodes, reported as Eval/* stats; the best model kept."""

from __future__ import annotations

import onnx
import pytest
import torch

from rldojo.errors import ConfigError
from rldojo.evaluation import EVAL_LENGTH_KEY, EVAL_REWARD_KEY
from rldojo.settings import load_run_options

from .training_runs import CONFIGS, train


def test_a_short_run_reports_eval_stats_and_keeps_the_best_model(tmp_path):
    eval_settings = {"interval": 500, "episodes": 4}
    recorder = train(
        CONFIGS / "basic_ppo.yaml",
        tmp_path,
        "evaluated",
        **{
            "eval_settings": eval_settings,
            "behaviors.Basic.max_steps": 1500,
            "behaviors.Basic.summary_freq": 500,
        },
    )
    evaluations = recorder.summaries[EVAL_REWARD_KEY]
    assert sorted(evaluations) == [500, 1000, 1500]  # one evaluation per interval, with that summary
    assert all(summary.num == 4 for summary in evaluations.values())  # four episodes each
    assert all(summary.num == 4 for summary in recorder.summaries[EVAL_LENGTH_KEY].values())
    best_return = max(summary.mean for summary in evaluations.values())
    run = tmp_path / "evaluated"
    best = torch.load(run / "Basic" / "Basic-best.pt", weights_only=True)
    best_step = min(step for step, summary in evaluations.items() if summary.mean == best_return)
    assert best_step - 500 < best["step"] <= best_step  # the policy evaluated just before that summary
    onnx.checker.check_model(onnx.load(str(run / "Basic-best.onnx")))


@pytest.mark.smoke
@pytest.mark.parametrize(
    ("eval_settings", "message"),
    [
        ({"intervall": 5}, "eval_settings.intervall: unknown key 'intervall', did you mean 'interval'?"),
        ({"episodes": 0}, "eval_settings.episodes: Input should be greater than or equal to 1"),
    ],
)
def test_bad_eval_settings_are_one_line_config_errors(eval_settings, message, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text(f"behaviors: {{Basic: {{max_steps: 10}}}}\neval_settings: {eval_settings}\n")
    with pytest.raises(ConfigError, match="^" + f"{config}: {message}".replace("?", r"\?")):
        load_run_options(config)


@pytest.mark.parametrize("config", ["basic_ppo.yaml", "dqn.yaml"])  # actions drawn by torch; by numpy
def test_sampling_evaluations_do_not_change_what_a_run_learns(tmp_path, config):
    """Same seed, with and without evaluations that sample their actions: the same training stats and the
    same final weights (the evaluations draw from copies of the run's random streams)."""
    overrides = {
        "env_settings.env_path": "sim:Basic",
        "env_settings.seed": 5,
        "behaviors.Basic.max_steps": 1200,
        "behaviors.Basic.summary_freq": 200,
    }
    plain = train(CONFIGS / config, tmp_path, "plain", **overrides)
    evaluated = train(
        CONFIGS / config,
        tmp_path,
        "evaluated",
        **overrides,
        eval_settings={"interval": 300, "episodes": 2, "deterministic": False},
    )
    assert EVAL_REWARD_KEY in evaluated.summaries, "the evaluations ran"
    training_lines = [line for line in evaluated.lines if " Eval/" not in line]
    assert len(plain.lines) > 10 and training_lines == plain.lines
    ends = [
        torch.load(tmp_path / run / "Basic" / "checkpoint.pt", weights_only=True)
        for run in ("plain", "evaluated")
    ]
    first, second = (end["modules"]["Policy"] for end in ends)
    assert first.keys() == second.keys() and all(torch.equal(first[key], second[key]) for key in first)
