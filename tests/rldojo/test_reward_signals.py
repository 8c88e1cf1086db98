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

from rldojo.checkpoint import load_checkpoint, rng_state, save_checkpoint
from rldojo.errors import ConfigError, RldojoError
from rldojo.networks import StreamHeads, ordered_signal_names, reorder_streams
from rldojo.reward_signals import CuriosityRewardSignal, CuriositySettings, RNDRewardSignal, RNDSettings
from rldojo.settings import NetworkSettings, TrainerSettings, run_options_from_dict
from rldojo.trainers.ppo import PPOSettings, PPOTrainer
from rldojo.trainers.sac import SACSettings, SACTrainer

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
    torch.manual_seed(0)
    trainer = PPOTrainer("B", 1, settings, True, False, 0, str(tmp_path))
    trainer.add_policy("B?team=0", trainer.create_policy("B?team=0", SPEC))
    obs, next_obs = [torch.rand(5, 6)], [torch.rand(1, 6)]
    with torch.no_grad():
        last_values = trainer.optimizer.critic(next_obs)

    def critic_value(name: str) -> object:
        """The critic's value of the last observation alone; the estimate values it in one pass with the
        episode's steps, which may round float32 sums differently."""
        return pytest.approx(float(last_values[name]), rel=1e-5, abs=1e-6)

    for terminated in (True, False):
        _, bootstrap = trainer.optimizer.value_estimates(obs, next_obs, terminated)
        assert bootstrap["extrinsic"] == (0.0 if terminated else critic_value("extrinsic"))
        for name in ("curiosity", "rnd"):
            assert bootstrap[name] == critic_value(name) != 0.0


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


SEED = {"env_settings.seed": 3}


def test_the_order_of_reward_signals_in_the_yaml_does_not_change_the_run(tmp_path):
    """The same signals listed in two orders, same seed: the same stats and the same weights of policy,
    critic (value heads by signal) and signals. The heads, the signals' networks and their losses follow one
    order (``extrinsic``, then by name), not the YAML's."""
    results = tmp_path / "results"
    listed = pyramids_with_intrinsic_signals(tmp_path, 500)
    config = yaml.safe_load(listed.read_text())
    signals = config["behaviors"]["Pyramids"]["reward_signals"]
    config["behaviors"]["Pyramids"]["reward_signals"] = dict(reversed(signals.items()))
    reversed_config = tmp_path / "reversed.yaml"
    reversed_config.write_text(yaml.safe_dump(config, sort_keys=False))
    assert list(yaml.safe_load(reversed_config.read_text())["behaviors"]["Pyramids"]["reward_signals"]) == [
        *reversed(signals)
    ]
    runs = {
        "listed": train(listed, results, "listed", **SEED),
        "reversed": train(reversed_config, results, "reversed", **SEED),
    }
    assert len(runs["listed"].lines) > 10 and runs["listed"].lines == runs["reversed"].lines
    ends = [load_checkpoint(results / run / "Pyramids" / "checkpoint.pt") for run in runs]
    for part in ("modules", "reward_signals"):
        first, second = (dict(flatten(end[part])) for end in ends)
        assert first.keys() == second.keys()
        for key, value in first.items():
            if isinstance(value, torch.Tensor):
                assert torch.equal(value, second[key]), key


CONTINUOUS_SPEC = vector_spec(6, ActionSpec(2, ()))


def trainer_with_signals(tmp_path: Path, trainer_type: str, signals: list[str]) -> PPOTrainer | SACTrainer:
    """A trainer of ``trainer_type`` with the reward ``signals`` listed in that order, its Adam moments set
    (one gradient step of every per-signal output, each signal weighted differently)."""
    trainer_class, settings_class = {"ppo": (PPOTrainer, PPOSettings), "sac": (SACTrainer, SACSettings)}[
        trainer_type
    ]
    settings = TrainerSettings.model_validate(
        {
            "trainer_type": trainer_type,
            "network_settings": {"hidden_units": 8, "num_layers": 1},
            "reward_signals": {name: {} for name in signals},
        },
        context={"trainer_settings": {trainer_type: settings_class}},
    )
    trainer = trainer_class("B", 1, settings, True, False, 0, str(tmp_path / f"{trainer_type}-{signals}"))
    trainer.add_policy("B?team=0", trainer.create_policy("B?team=0", CONTINUOUS_SPEC))
    outputs = per_signal_outputs(trainer)
    loss = sum((index + 1.0) * output.square().mean() for index, output in enumerate(outputs.values()))
    for _, optimizer in optimizers_of(trainer):
        optimizer.zero_grad()
    loss.backward()
    for _, optimizer in optimizers_of(trainer):
        optimizer.step()
    return trainer


def optimizers_of(trainer) -> list[tuple[str, torch.optim.Optimizer]]:
    return [(name, m) for name, m in trainer.get_modules().items() if isinstance(m, torch.optim.Optimizer)]


OBS = [torch.linspace(-1.0, 1.0, 18).reshape(3, 6)]


def per_signal_outputs(trainer) -> dict[str, torch.Tensor]:
    """Every per-signal output of the trainer's value networks on :data:`OBS`, keyed by network and signal."""
    optimizer = trainer.optimizer
    if isinstance(trainer, PPOTrainer):
        return {f"critic {name}": value for name, value in optimizer.critic(OBS).items()}
    actions = torch.full((3, 2), 0.5)
    q1, q2 = optimizer.q_networks(OBS, actions)
    named = {
        "value": optimizer.value_network(OBS),
        "target": optimizer.target_network(OBS),
        "q1": q1,
        "q2": q2,
    }
    return {f"{network} {name}": value for network, values in named.items() for name, value in values.items()}


def adam_moments(trainer) -> dict[str, torch.Tensor]:
    """Adam's first moments of every parameter (copies), keyed by optimizer and parameter name."""
    names = {parameter: name for name, parameter in named_parameters(trainer)}
    return {
        f"{optimizer_name} {names[parameter]}": state["exp_avg"].clone()
        for optimizer_name, optimizer in optimizers_of(trainer)
        for parameter, state in optimizer.state.items()
    }


def named_parameters(trainer) -> Iterator[tuple[str, torch.nn.Parameter]]:
    for module_name, module in trainer.get_modules().items():
        if isinstance(module, torch.nn.Module):
            for name, parameter in module.named_parameters():
                yield f"{module_name}.{name}", parameter


@pytest.mark.parametrize("written_by", ["this rldojo", "older rldojo"])
@pytest.mark.parametrize("trainer_type", ["ppo", "sac"])
def test_a_checkpoint_resumes_with_the_reward_signals_listed_in_another_order(
    tmp_path, monkeypatch, trainer_type, written_by
):
    """Written with ``reward_signals`` listed [rnd, extrinsic], resumed listed [extrinsic, rnd]: every value
    and Q head answers for the same signal as before (it answered for the other one), and Adam's moments of
    the heads moved with them. An older rldojo kept the heads in its YAML's order (its checkpoints say so only
    by the order of their ``reward_signals``): they are moved into today's on loading."""
    written_order, resumed_order = ["rnd", "extrinsic"], ["extrinsic", "rnd"]
    with monkeypatch.context() as older:
        if written_by == "older rldojo":  # heads in the YAML's order, which the checkpoint does not name
            older.setattr("rldojo.reward_signals.base.ordered_signal_names", list, raising=False)
        written = trainer_with_signals(tmp_path, trainer_type, written_order)
        state = written.checkpoint_state() | {"step": 0, "rng": rng_state()}
        if written_by == "older rldojo":
            assert list(written.optimizer.reward_signals) == written_order
            del state["value_head_order"]
    with torch.no_grad():
        outputs = per_signal_outputs(written)
    moments = adam_moments(written)

    resumed = trainer_with_signals(tmp_path, trainer_type, resumed_order)
    resumed.load_state(state, full=True)
    with torch.no_grad():
        resumed_outputs = per_signal_outputs(resumed)
    assert resumed_outputs.keys() == outputs.keys()
    for key, output in outputs.items():
        torch.testing.assert_close(resumed_outputs[key], output, rtol=0, atol=0, msg=key)
    moments_by_signal = [heads_by_signal(moments, written), heads_by_signal(adam_moments(resumed), resumed)]
    assert moments_by_signal[0].keys() == moments_by_signal[1].keys() != set()
    for key, moment in moments_by_signal[0].items():
        assert torch.equal(moments_by_signal[1][key], moment), key


def heads_by_signal(moments: dict[str, torch.Tensor], trainer) -> dict[str, torch.Tensor]:
    """The moments of the per-signal parameters, split into their signals' blocks (keyed by signal too)."""
    names = trainer.optimizer.reward_signal_names
    modules = [module for module in trainer.get_modules().values() if isinstance(module, torch.nn.Module)]
    networks = [
        network for module in modules for network in module.modules() if isinstance(network, StreamHeads)
    ]
    heads = {id(parameter): dim for network in networks for parameter, dim in network.stream_parameters()}
    parameters = dict(named_parameters(trainer))
    return {
        f"{key} {name}": block
        for key, moment in moments.items()
        if (dim := heads.get(id(parameters[key.split(" ", 1)[1]]))) is not None
        for name, block in zip(names, moment.chunk(len(names), dim=dim), strict=True)
    }


def test_heads_that_cannot_be_reordered_are_one_error_naming_the_order_to_list():
    """A plugin's per-signal network without stream_parameters() cannot take heads saved in another order:
    one line saying which order to list the signals in, not heads answering for the wrong signals."""

    class PluginCritic(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stream_names = ["extrinsic", "rnd"]
            self.heads = torch.nn.Linear(4, 2)

    with pytest.raises(
        RldojoError, match=r"^PluginCritic has no stream_parameters\(\), .* \['rnd', 'extrinsic'\]"
    ):
        reorder_streams([PluginCritic()], ["rnd", "extrinsic"])
    assert ordered_signal_names(["rnd", "gail", "extrinsic", "curiosity"]) == [
        "extrinsic",
        "curiosity",
        "gail",
        "rnd",
    ]


@pytest.mark.parametrize("trainer_type", ["ppo", "sac"])
def test_resuming_with_other_reward_signals_is_one_error_that_names_both_lists(tmp_path, trainer_type):
    """Value heads answer for one signal each: resuming a [extrinsic, rnd] checkpoint with [extrinsic,
    curiosity] would give curiosity rnd's heads, so it is refused, before any network is loaded."""
    written = trainer_with_signals(tmp_path, trainer_type, ["extrinsic", "rnd"])
    state = written.checkpoint_state() | {"step": 0, "rng": rng_state()}
    renamed = trainer_with_signals(tmp_path, trainer_type, ["extrinsic", "curiosity"])
    before = {name: parameter.clone() for name, parameter in named_parameters(renamed)}
    with pytest.raises(
        RldojoError,
        match=r"reward signals extrinsic, rnd, and this configuration has "
        r"extrinsic, curiosity: .* --resume needs the run's reward_signals",
    ):
        renamed.load_state(state, full=True)
    for name, parameter in named_parameters(renamed):
        assert torch.equal(parameter, before[name]), name
