"""Reward signals: the ``reward_signals:`` block through the ``rldojo.reward_signal`` plugins, curiosity's and
RND's losses and rewards, their value heads and stats, and their state across ``--resume``."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
import yaml
from mlagents_envs.base_env import (
    ActionSpec,
)

from rldojo.checkpoint import load_checkpoint, save_checkpoint
from rldojo.errors import ConfigError
from rldojo.reward_signals import CuriosityRewardSignal, CuriositySettings, RNDRewardSignal, RNDSettings
from rldojo.settings import NetworkSettings, TrainerSettings, run_options_from_dict
from rldojo.trainers.ppo import PPOSettings, PPOTrainer

from .specs import vector_spec
from .training_runs import CONFIGS, train

SPEC = vector_spec(6, ActionSpec(1, (3,)))
SMALL = NetworkSettings(hidden_units=32, num_layers=1)


def behavior_settings(reward_signals: dict) -> dict:
    options = run_options_from_dict({"behaviors": {"B": {"reward_signals": reward_signals}}}, "test.yaml")
    return options.behaviors["B"].reward_signals


def config_error(reward_signals: dict) -> str:
    with pytest.raises(ConfigError) as error:
        behavior_settings(reward_signals)
    return str(error.value)


@pytest.mark.smoke
def test_each_signal_is_validated_with_its_own_settings_class():
    signals = behavior_settings({"extrinsic": {}, "curiosity": {"strength": 0.02}, "rnd": {"gamma": 0.9}})
    assert isinstance(signals["curiosity"], CuriositySettings) and isinstance(signals["rnd"], RNDSettings)
    assert (signals["curiosity"].learning_rate, signals["rnd"].learning_rate) == (
        3.0e-4,
        1.0e-4,
    )  # ML-Agents'
    deprecated = behavior_settings({"curiosity": {"encoding_size": 96}})["curiosity"]
    assert deprecated.network_settings.hidden_units == 96


@pytest.mark.smoke
def test_bad_reward_signals_are_one_line_naming_the_yaml_path():
    assert "reward_signals.curiousity: unknown reward signal 'curiousity', did you mean 'curiosity'?" in (
        config_error({"curiousity": {}})
    )
    assert "reward_signals.rnd.learning_rat: unknown key 'learning_rat', did you mean 'learning_rate'?" in (
        config_error({"rnd": {"learning_rat": 1e-3}})
    )
    assert "reward_signals.gail.demo_path: Field required" in config_error({"gail": {}})


def transitions(count: int, seed: int) -> dict[str, torch.Tensor]:
    """Transitions whose next observation is a fixed function of the observation and the action."""
    generator = torch.Generator().manual_seed(seed)
    obs = torch.rand(count, 6, generator=generator)
    continuous = torch.rand(count, 1, generator=generator) * 2 - 1
    discrete = torch.randint(3, (count, 1), generator=generator)
    next_obs = torch.roll(obs, 1, dims=1) + 0.1 * continuous + 0.1 * discrete
    actions = {"continuous_actions": continuous, "discrete_actions": discrete}
    return {"obs_0": obs, "next_obs_0": next_obs, **actions, "rewards": torch.zeros(count)}


def test_curiosity_rewards_what_its_models_cannot_predict_yet():
    torch.manual_seed(0)
    settings = CuriositySettings(strength=0.1, network_settings=SMALL, learning_rate=1e-3)
    curiosity = CuriosityRewardSignal("curiosity", settings, SPEC, torch.device("cpu"))
    batch = transitions(256, seed=1)
    assert torch.equal(curiosity.rewards(batch), torch.zeros(256))  # nothing learned: no reward yet
    first = curiosity.update(batch)
    assert set(first) == {"Losses/Curiosity Forward Loss", "Losses/Curiosity Inverse Loss"}
    for _ in range(300):
        last = curiosity.update(batch)
    assert last["Losses/Curiosity Inverse Loss"] < 0.5 * first["Losses/Curiosity Inverse Loss"]
    seen, unseen = (
        curiosity.rewards(batch),
        curiosity.rewards(transitions(256, seed=2) | {"next_obs_0": torch.rand(256, 6)}),
    )
    assert 0 < seen.mean() < unseen.mean() and unseen.max() <= 1 / settings.strength


def test_rnd_rewards_observations_it_was_not_trained_on():
    torch.manual_seed(0)
    rnd = RNDRewardSignal(
        "rnd", RNDSettings(network_settings=SMALL, learning_rate=1e-3), SPEC, torch.device("cpu")
    )
    batch = transitions(256, seed=1)
    first = rnd.update(batch)["Losses/RND Loss"]
    for _ in range(300):
        last = rnd.update(batch)["Losses/RND Loss"]
    assert last < 0.2 * first
    assert rnd.rewards(batch).mean() < 0.2 * rnd.rewards({"obs_0": batch["obs_0"] + 3.0}).mean()


def test_curiosity_and_rnd_values_bootstrap_past_the_end_of_an_episode(tmp_path):
    """As ML-Agents' ``ignore_done``: an episode that terminated ends the extrinsic return, but curiosity's
    and RND's returns go on from the critic's value of the last observation."""
    settings = TrainerSettings.model_validate(
        {
            "network_settings": {"hidden_units": 8, "num_layers": 1},
            "reward_signals": {"extrinsic": {}, "curiosity": {"gamma": 0.9}, "rnd": {}},
        },
        context={"trainer_settings": {"ppo": PPOSettings}},
    )
    trainer = PPOTrainer("B", 1, settings, True, False, 0, str(tmp_path))
    trainer.add_policy("B?team=0", trainer.create_policy("B?team=0", SPEC))
    obs, next_obs = [torch.rand(5, 6)], [torch.rand(1, 6)]
    with torch.no_grad():
        last_values = trainer.optimizer.critic(next_obs)
    for terminated in (True, False):
        _, bootstrap = trainer.optimizer.value_estimates(obs, next_obs, terminated)
        assert bootstrap["extrinsic"] == (
            0.0 if terminated else pytest.approx(float(last_values["extrinsic"]))
        )
        for name in ("curiosity", "rnd"):
            assert bootstrap[name] == pytest.approx(float(last_values[name])) != 0.0


def pyramids_with_intrinsic_signals(tmp_path: Path, max_steps: int) -> Path:
    config = yaml.safe_load((CONFIGS / "pyramids_ppo.yaml").read_text())
    behavior = config["behaviors"]["Pyramids"]
    behavior["reward_signals"] |= {
        "curiosity": {"strength": 0.1, "network_settings": {"hidden_units": 32}},
        "rnd": {"strength": 0.05, "network_settings": {"hidden_units": 32}},
    }
    behavior["hyperparameters"] |= {"buffer_size": 256, "batch_size": 64}
    behavior |= {"max_steps": max_steps, "summary_freq": 500}
    env_args = config["env_settings"]["env_args"]
    env_args[env_args.index("--num-areas") + 1] = "4"  # not 16: the summary every 500 steps follows updates
    path = tmp_path / f"pyramids-{max_steps}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


SIGNAL_STATS = """Policy/Extrinsic Reward, Policy/Extrinsic Value Estimate, Policy/Curiosity Reward,
Policy/Curiosity Value Estimate, Losses/Curiosity Forward Loss, Losses/Curiosity Inverse Loss,
Policy/Rnd Reward, Policy/Rnd Value Estimate, Losses/RND Loss"""
RESUME = {"checkpoint_settings.resume": True}


@pytest.mark.slow
def test_signals_report_ml_agents_stats_and_resume_with_their_state(tmp_path, caplog):
    """1000 steps, then 1000 more after ``--resume``: the curiosity optimizer's step count goes on (a fresh
    one would count the second run's updates only, as many as the first's) and RND's random target network
    is the same; a checkpoint without signal state resumes too, the signals starting afresh."""
    results = tmp_path / "results"
    first = train(pyramids_with_intrinsic_signals(tmp_path, 1000), results, "run")
    assert set(re.split(r",\s*", SIGNAL_STATS)) <= set(first.summaries)
    assert list(first.summaries["Policy/Curiosity Reward"].values())[-1].mean > 0
    checkpoint = results / "run" / "Pyramids" / "checkpoint.pt"
    before = load_checkpoint(checkpoint)
    assert before["modules"]["Optimizer:critic"]["value_heads.weight"].shape[0] == 3  # one head per signal
    curiosity_steps = before["reward_signals"]["curiosity"]["optimizer"]["state"][0]["step"]
    assert curiosity_steps > 0 and before["reward_signals"]["curiosity"]["network"]["has_updated"]

    train(
        pyramids_with_intrinsic_signals(tmp_path, 2000),
        results,
        "run",
        **{"checkpoint_settings.resume": True},
    )
    after = load_checkpoint(checkpoint)
    assert after["step"] > before["step"]
    assert after["reward_signals"]["curiosity"]["optimizer"]["state"][0]["step"] > curiosity_steps
    target = "body.0.weight"
    assert torch.equal(
        after["reward_signals"]["rnd"]["target"][target], before["reward_signals"]["rnd"]["target"][target]
    )

    del after["reward_signals"]  # as written before reward signals had state
    save_checkpoint(checkpoint, after)
    with caplog.at_level(logging.WARNING):
        train(
            pyramids_with_intrinsic_signals(tmp_path, 2500),
            results,
            "run",
            **{"checkpoint_settings.resume": True},
        )
    assert (
        "the checkpoint of Pyramids has no state for reward signal 'curiosity'; it starts afresh"
        in caplog.text
    )
    assert load_checkpoint(checkpoint)["step"] > after["step"]


def test_same_seed_runs_learn_the_same_whatever_their_checkpoints(tmp_path):
    """Two runs with the same seed report the same stats and end with the same weights of policy, critic and
    signals, though one of them checkpoints (and exports ONNX, whose tracing samples actions) every 250
    steps: a run's checkpoints do not change what it learns."""
    results = tmp_path / "results"
    config = pyramids_with_intrinsic_signals(tmp_path, 1000)
    quiet = train(config, results, "quiet", **{"env_settings.seed": 3})
    saving = train(
        config, results, "saving", **{"env_settings.seed": 3, "behaviors.Pyramids.checkpoint_interval": 250}
    )
    assert len(list((results / "saving" / "Pyramids").glob("Pyramids-*.onnx"))) >= 3
    assert len(quiet.lines) > 20 and quiet.lines == saving.lines
    ends = [load_checkpoint(results / run / "Pyramids" / "checkpoint.pt") for run in ("quiet", "saving")]
    for part in ("modules", "reward_signals"):
        first, second = (dict(flatten(end[part])) for end in ends)
        assert first.keys() == second.keys()
        assert all(
            torch.equal(first[key], second[key]) for key in first if isinstance(first[key], torch.Tensor)
        )


def flatten(state: dict, prefix: str = "") -> Iterator[tuple[str, object]]:
    """``(dotted key, value)`` of every leaf of a nested state dict."""
    for key, value in state.items():
        if isinstance(value, dict):
            yield from flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value
