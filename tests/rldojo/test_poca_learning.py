"""Whole POCA runs on DungeonEscape (rldojo-sim): the group learns to sacrifice one member for the escape,
which independent PPO learners do not; --resume continues with the learned policy. With LSTM memory POCA
learns too and resumes.

One seed with a margin; scripts/bench_poca.py gives the table over several seeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from rldojo.checkpoint import LATEST_CHECKPOINT, load_checkpoint

from .training_runs import CONFIGS, SummaryRecorder, train

CONFIG = CONFIGS / "poca.yaml"
ESCAPED = "DungeonEscape/Escaped"
GROUP_REWARD = "Environment/Group Cumulative Reward"
EPISODE_LENGTH = "Environment/Episode Length"
BUDGET = 15000


def train_dungeon(
    results: Path, run_id: str, trainer_type: str, max_steps: int, **overrides: object
) -> SummaryRecorder:
    return train(
        CONFIG,
        results,
        run_id,
        **{
            "behaviors.DungeonEscape.trainer_type": trainer_type,
            "behaviors.DungeonEscape.max_steps": max_steps,
            "env_settings.seed": 1,
            **overrides,
        },
    )


def last(recorder: SummaryRecorder, key: str) -> float:
    by_step = recorder.summaries[key]
    return by_step[max(by_step)].mean


@pytest.mark.slow
def test_poca_beats_independent_ppo_on_the_group_reward_and_resumes(tmp_path):
    poca = train_dungeon(tmp_path, "poca", "poca", BUDGET)
    ppo = train_dungeon(tmp_path, "ppo", "ppo", BUDGET)
    poca_escaped, ppo_escaped = last(poca, ESCAPED), last(ppo, ESCAPED)
    assert poca_escaped >= 0.85, poca.summaries[ESCAPED]
    assert poca_escaped >= ppo_escaped + 0.15, (poca.summaries[ESCAPED], ppo.summaries[ESCAPED])
    assert last(poca, GROUP_REWARD) >= 0.85  # every member of an escaping group reports its +1
    assert GROUP_REWARD not in ppo.summaries  # a POCA stat, as in ML-Agents

    resumed = train_dungeon(tmp_path, "poca", "poca", BUDGET + 5000, **{"checkpoint_settings.resume": True})
    assert sorted(resumed.summaries[ESCAPED]) == [BUDGET + 5000]  # the step count went on
    assert last(resumed, ESCAPED) >= 0.85  # with the learned policy, critic and baseline


@pytest.mark.slow
def test_poca_trains_over_grpc_from_a_launched_build(tmp_path, sim_build):
    """Group ids and group rewards arrive over the real protocol (as lists, not arrays) and reach the
    group stats and the baseline."""
    recorder = train_dungeon(
        tmp_path,
        "grpc",
        "poca",
        3000,
        **{
            "env_settings.env_path": str(sim_build("DungeonEscape")),
            "behaviors.DungeonEscape.summary_freq": 3000,
        },
    )
    assert recorder.summaries[GROUP_REWARD][3000].num > 0
    assert recorder.summaries["Losses/Baseline Loss"][3000].num > 0


MEMORY = {"memory_size": 32, "sequence_length": 16}
MEMORY_BUDGET = 12000


@pytest.mark.slow
def test_poca_with_memory_learns_to_escape_faster_and_resumes(tmp_path):
    """With an LSTM in the policy and the group critic, the group escapes every time and in about half the
    steps random play takes (the first summary comes before the first update); --resume goes on from the
    checkpointed LSTM weights and Adam."""
    memory = {"behaviors.DungeonEscape.network_settings.memory": MEMORY}
    frequent = {"behaviors.DungeonEscape.summary_freq": 2000}
    run = train_dungeon(tmp_path, "memory", "poca", MEMORY_BUDGET, **memory, **frequent)
    lengths = run.summaries[EPISODE_LENGTH]
    assert last(run, ESCAPED) >= 0.95, run.summaries[ESCAPED]
    assert lengths[max(lengths)].mean <= 0.75 * lengths[min(lengths)].mean, lengths
    modules = load_checkpoint(tmp_path / "memory" / "DungeonEscape" / LATEST_CHECKPOINT)["modules"]
    assert (
        "memory.lstm.weight_hh_l0" in modules["Policy"]
        and "memory.lstm.weight_hh_l0" in modules["Optimizer:critic"]
    )

    resume = {"checkpoint_settings.resume": True}
    resumed = train_dungeon(tmp_path, "memory", "poca", MEMORY_BUDGET + 2000, **memory, **frequent, **resume)
    assert sorted(resumed.summaries[ESCAPED]) == [MEMORY_BUDGET + 2000]
    assert last(resumed, ESCAPED) >= 0.9  # with the learned policy and critic, memories from zeros
