"""Behavioral cloning: the loss on real ML-Agents demonstrations, cloning alone solving Basic from
ExpertBasic.demo, SAC with cloning and its state in checkpoints; and, for cloning and GAIL alike, one-line
errors (exit 2) for demonstrations that do not fit the behavior."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from rldojo.checkpoint import load_checkpoint
from rldojo.cli import main
from rldojo.errors import ConfigError
from rldojo.networks import Actor
from rldojo.policy import Policy
from rldojo.settings import BehavioralCloningSettings, NetworkSettings
from rldojo.trainers.behavioral_cloning import LOSS_STAT, BehavioralCloning
from rldojo.value_based_policy import ValueBasedPolicy

from .expert_demos import BASIC_DEMO, BASIC_SPEC, DEMOS
from .training_runs import CONFIGS, train

pytestmark = pytest.mark.usefixtures("one_torch_thread")

RIGHT = 2  # ExpertBasic.demo walks right, to the large goal, at every decision


def basic_policy() -> Policy[Actor]:
    torch.manual_seed(0)
    actor = Actor(
        BASIC_SPEC.observation_specs, NetworkSettings(hidden_units=16, num_layers=1), BASIC_SPEC.action_spec
    )
    return Policy(BASIC_SPEC, actor, torch.device("cpu"))


def cloning(policy: Policy[Actor], **settings: object) -> BehavioralCloning:
    bc = BehavioralCloningSettings(demo_path=str(BASIC_DEMO), **settings)
    return BehavioralCloning(
        bc, policy, "Basic", learning_rate=1e-2, default_batch_size=16, trainer_type="ppo"
    )


def test_updates_fit_the_policy_to_the_demonstrated_actions():
    policy = basic_policy()
    bc = cloning(policy, num_epoch=5)
    demo = bc.demonstration
    first = bc.update(step=0)[LOSS_STAT]
    for _ in range(10):
        last = bc.update(step=0)[LOSS_STAT]
    assert last < first / 5
    with torch.no_grad():
        chosen = policy.actor(demo.observations, None, deterministic=True).discrete[:, 0]
    assert (chosen == RIGHT).all()


def memory_cloning(sequence_length: int, **settings: object) -> BehavioralCloning:
    """Cloning of a Basic policy with an LSTM memory, replayed in sequences of ``sequence_length``."""
    torch.manual_seed(0)
    memory = {"memory_size": 8, "sequence_length": sequence_length}
    network = NetworkSettings(hidden_units=16, num_layers=1, memory=memory)
    actor = Actor(BASIC_SPEC.observation_specs, network, BASIC_SPEC.action_spec)
    bc = BehavioralCloningSettings(demo_path=str(BASIC_DEMO), **settings)
    policy = Policy(BASIC_SPEC, actor, torch.device("cpu"))
    return BehavioralCloning(bc, policy, "Basic", 1e-2, 16, "ppo", sequence_length=sequence_length)


def test_with_memory_it_replays_consecutive_demonstrated_decisions_from_zero_memory():
    """ML-Agents' cloning with memory: sequences of ``sequence_length`` demo rows, each from zero memory."""
    bc = memory_cloning(4, num_epoch=1)
    actor = bc.network
    assert isinstance(actor, Actor) and actor.memory is not None
    replayed = []
    hook = actor.memory.lstm.register_forward_hook(lambda _, inputs, __: replayed.append(inputs))
    with torch.no_grad():
        chunks = actor.encoder(bc.demonstration.observations)[: bc.sequences * 4].reshape(-1, 4, 16)
    bc.update(step=0)
    hook.remove()
    assert len(replayed) == bc.batches_per_epoch == len(bc.demonstration) // 16  # 4 sequences per batch
    for sequences, (hidden, cell) in replayed:
        assert sequences.shape == (4, 4, 16) and not hidden.any() and not cell.any()
    for sequence in replayed[0][0]:  # the first batch went through the encoder before any step
        assert any(torch.allclose(sequence, chunk) for chunk in chunks)


def test_a_demonstration_shorter_than_a_memory_sequence_is_refused():
    with pytest.raises(ConfigError, match=r"fewer than network_settings\.memory\.sequence_length 64"):
        memory_cloning(64)


def test_strength_anneals_to_zero_over_steps_and_samples_per_update_caps_the_batches():
    bc = cloning(basic_policy(), steps=1000, strength=0.5, samples_per_update=16, batch_size=8)
    assert bc.learning_rate(0) == pytest.approx(5e-3)
    assert bc.learning_rate(500) == pytest.approx(2.5e-3)
    assert bc.learning_rate(5000) == pytest.approx(1e-10)
    assert bc.batches_per_epoch == 2 and bc.num_epoch == 3  # ML-Agents' default num_epoch
    assert cloning(basic_policy()).batch_size == 16  # the trainer's batch_size when none is set
    assert cloning(basic_policy(), steps=0).learning_rate(10**6) == pytest.approx(1e-2)


def test_a_policy_without_an_action_distribution_is_refused():
    q_network = torch.nn.Linear(20, 3)
    policy = ValueBasedPolicy(BASIC_SPEC, q_network, torch.device("cpu"))
    with pytest.raises(
        ConfigError, match=r"^behavioral_cloning of Basic: trainer_type dqn has no action distribution"
    ):
        BehavioralCloning(
            BehavioralCloningSettings(demo_path=str(BASIC_DEMO)), policy, "Basic", 1e-3, 16, "dqn"
        )


@pytest.mark.slow
def test_cloning_alone_solves_basic_from_expert_basic_demo(tmp_path):
    """No extrinsic reward in the updates (strength 0): the mean reward comes from imitation alone."""
    demo = "behaviors.Basic.behavioral_cloning.demo_path"
    recorder = train(CONFIGS / "imitation" / "basic_bc.yaml", tmp_path, **{demo: str(BASIC_DEMO)})
    last = max(recorder.rewards)
    assert recorder.rewards[last] >= 0.9, recorder.rewards
    losses = recorder.summaries[LOSS_STAT]
    assert losses[max(losses)].mean < losses[min(losses)].mean / 4
    checkpoint = load_checkpoint(tmp_path / "run" / "Basic" / "checkpoint.pt")
    assert checkpoint["behavioral_cloning"]["state"]  # its Adam's moments, for --resume


IMITATION = {  # how a config uses a demonstration
    "behavioral_cloning": lambda demo_path: {"behavioral_cloning": {"demo_path": demo_path}},
    "gail": lambda demo_path: {"reward_signals": {"gail": {"demo_path": demo_path}}},
}


def basic_config(
    folder: Path,
    demo_path: str,
    trainer_type: str = "ppo",
    max_steps: int = 64,
    imitation: str = "behavioral_cloning",
) -> Path:
    config = {
        "behaviors": {
            "Basic": {
                "trainer_type": trainer_type,
                "hyperparameters": {"batch_size": 16, "buffer_size": 32},
                "network_settings": {"hidden_units": 8, "num_layers": 1},
                **IMITATION[imitation](demo_path),
                "max_steps": max_steps,
                "time_horizon": 8,
                "summary_freq": max_steps // 2,
            }
        },
        "env_settings": {"env_path": "sim:Basic"},
    }
    path = folder / "run.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_sac_clones_after_its_updates(tmp_path):
    recorder = train(basic_config(tmp_path, str(BASIC_DEMO), "sac", max_steps=400), tmp_path)
    losses = recorder.summaries[LOSS_STAT]
    assert sorted(losses) == [200, 400]
    assert losses[400].mean < losses[200].mean


@pytest.mark.parametrize("imitation", sorted(IMITATION))
def test_cli_demo_that_does_not_match_the_behavior_exits_2_in_one_line(
    imitation, tmp_path, monkeypatch, capsys
):
    basic_config(tmp_path, str(DEMOS / "Expert3DBall.demo"), imitation=imitation)
    monkeypatch.chdir(tmp_path)
    assert main(["learn", "run.yaml", "--run-id", "r"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "Traceback" not in error
    assert error.startswith(
        f"rldojo: Demonstration {DEMOS / 'Expert3DBall.demo'} has observation shapes [(8,)], but behavior "
        "Basic has [(20,)]; record the demonstration from the same scene as the behavior."
    ), error


@pytest.mark.parametrize("imitation", sorted(IMITATION))
def test_cli_demo_path_that_names_nothing_exits_2_before_anything_is_written(
    imitation, tmp_path, monkeypatch, capsys
):
    basic_config(tmp_path, "demos", imitation=imitation)
    (tmp_path / "demos").mkdir()
    monkeypatch.chdir(tmp_path)
    assert main(["learn", "run.yaml", "--run-id", "r"]) == 2
    assert capsys.readouterr().err == (
        "rldojo: No .demo files in folder demos; record some or point demo_path at a file.\n"
    )
    assert not (tmp_path / "results").exists()


@pytest.mark.slow
def test_cloning_plus_extrinsic_reaches_basics_optimum_before_extrinsic_alone(tmp_path):
    """scripts/bench_imitation.py over five seeds: 1000 steps to a mean reward of 0.9 with cloning, 1750-4750
    without; here one seed and the first 1000 steps."""
    budget = {"env_settings.seed": 1, "behaviors.Basic.max_steps": 1000, "behaviors.Basic.summary_freq": 250}
    settings = {"demo_path": str(BASIC_DEMO), "strength": 1.0, "batch_size": 8}
    cloning = {f"behaviors.Basic.behavioral_cloning.{key}": value for key, value in settings.items()}
    with_cloning = train(CONFIGS / "basic_ppo.yaml", tmp_path, "bc", **budget, **cloning)
    extrinsic_alone = train(CONFIGS / "basic_ppo.yaml", tmp_path, "extrinsic", **budget)
    assert max(with_cloning.rewards.values()) >= 0.9 > max(extrinsic_alone.rewards.values()), (
        with_cloning.rewards, extrinsic_alone.rewards,
    )  # fmt: skip
