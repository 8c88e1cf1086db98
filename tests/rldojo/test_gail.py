"""The ``gail`` reward signal: its discriminator on real ML-Agents demonstrations (with actions, with VAIL),
GAIL alone improving 3DBall over random play, and its state in checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml

import rldojo_sim
from rldojo.checkpoint import load_checkpoint
from rldojo.reward_signals.gail import EPSILON, GAILRewardSignal
from rldojo.reward_signals.settings import GAILSettings
from rldojo_sim.play import episode_returns

from .expert_demos import BASIC_DEMO, BASIC_SPEC, DEMOS
from .training_runs import CONFIGS, train

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def signal(**settings: object) -> GAILRewardSignal:
    torch.manual_seed(0)
    gail = GAILSettings(demo_path=str(BASIC_DEMO), learning_rate=3e-3, **settings)
    return GAILRewardSignal("gail", gail, BASIC_SPEC, torch.device("cpu"))


def left_walker_batch(size: int = 64) -> dict[str, torch.Tensor]:
    """Transitions of a policy that walks left from the start (the expert walks right)."""
    positions = torch.randint(3, 11, (size,))
    obs = torch.nn.functional.one_hot(positions, 20).float()
    return {
        "obs_0": obs,
        "next_obs_0": torch.nn.functional.one_hot(positions - 1, 20).float(),
        "continuous_actions": torch.zeros(size, 0),
        "discrete_actions": torch.ones(size, 1, dtype=torch.int64),
        "action_masks": torch.ones(size, 3),
        "rewards": torch.full((size,), -0.01),
        "dones": torch.zeros(size),
    }


@pytest.mark.parametrize("settings", [{}, {"use_actions": True}, {"use_actions": True, "use_vail": True}])
def test_discriminator_learns_to_reward_expert_transitions_over_the_policys(settings):
    gail = signal(**settings)
    policy = left_walker_batch()
    expert = gail.discriminator.expert_inputs(gail.expert)
    for _ in range(60):
        stats = gail.update(policy)
    with torch.no_grad():
        expert_estimate, _ = gail.discriminator.estimate(*expert, sample_latent=False)
        policy_rewards = gail.rewards(policy)
    expert_rewards = -torch.log(1.0 - expert_estimate)
    assert expert_rewards.mean() > 2 * policy_rewards.mean()
    assert stats["Policy/GAIL Expert Estimate"] > 0.6 > 0.4 > stats["Policy/GAIL Policy Estimate"]
    assert stats["Losses/GAIL Loss"] < 1.0 and torch.isfinite(stats["Policy/GAIL Grad Mag Loss"])
    assert ("Policy/GAIL Beta" in stats) == bool(settings.get("use_vail"))


def test_vail_beta_follows_the_codes_kl_divergence_over_its_bound():
    gail = signal(use_vail=True)
    beta = 0.0
    for _ in range(40):
        stats = {key: float(value) for key, value in gail.update(left_walker_batch()).items()}
        step = 5e-4 * (stats["Losses/GAIL KL Loss"] - 0.5)
        assert stats["Policy/GAIL Beta"] == pytest.approx(max(0.0, beta + step), abs=1e-6)
        beta = stats["Policy/GAIL Beta"]
    assert beta > 0.0  # the discriminator spread its codes past the bound
    assert gail.discriminator.beta.item() == pytest.approx(beta)  # a buffer: checkpoints keep it


def test_use_actions_tells_apart_transitions_that_differ_only_in_the_action():
    gail = signal(use_actions=True)
    expert = gail.expert
    batch = {"obs_0": expert.observations[0], "continuous_actions": torch.zeros(len(expert), 0),
             "dones": expert.dones}  # fmt: skip
    wrong = batch | {"discrete_actions": torch.ones(len(expert), 1, dtype=torch.int64)}
    for _ in range(60):
        gail.update(wrong)
    right = batch | {"discrete_actions": expert.discrete_actions}
    assert gail.rewards(right).mean() > 3 * gail.rewards(wrong).mean()


def test_the_gradient_penalty_is_on_the_first_observation_only():
    """As in ML-Agents: the actions (and other observations) are interpolated too, but not penalised."""
    gail = signal(use_actions=True)
    discriminator = gail.discriminator
    expert = discriminator.expert_inputs(gail.expert.rows(torch.randint(len(gail.expert), (64,))))
    policy = discriminator.policy_inputs(left_walker_batch())
    first_layer = discriminator.encoder.body[0].weight  # its inputs: 20 observation, 3 + 1 action features
    no_gradient = (EPSILON**0.5 - 1.0) ** 2
    with torch.no_grad():
        first_layer[:, :20] = 0.0  # D no longer reads the observation: its gradient there is 0
    assert discriminator.gradient_penalty(policy, expert).item() == pytest.approx(no_gradient)
    with torch.no_grad():
        first_layer[:, :20] = torch.randn(len(first_layer), 20)
        first_layer[:, 20:] = 0.0
    assert discriminator.gradient_penalty(policy, expert).item() != pytest.approx(no_gradient, abs=1e-3)


@pytest.mark.slow
def test_gail_alone_improves_3dball_over_random_play(tmp_path):
    """No extrinsic reward: the policy learns only from the discriminator of Expert3DBall.demo. Its final
    deterministic evaluation balances the ball far longer than random play does."""
    env = rldojo_sim.make_env("3DBall", seed=0)
    random_play = float(np.mean(episode_returns(env, "3DBall", "random", 2000)["3DBall?team=0"]))
    overrides = {
        "behaviors.3DBall.reward_signals.gail.demo_path": str(DEMOS / "Expert3DBall.demo"),
        "env_settings.seed": 1,
        "eval_settings": {"interval": 20000, "episodes": 12},
    }
    recorder = train(CONFIGS / "imitation" / "3dball_gail.yaml", tmp_path, **overrides)
    evaluation = recorder.summaries["Eval/Cumulative Reward"][20000].mean
    assert evaluation > 5 * random_play, (random_play, evaluation, recorder.rewards)
    assert "Policy/Gail Reward" in recorder.summaries and "Losses/GAIL Loss" in recorder.summaries
    checkpoint = load_checkpoint(tmp_path / "run" / "3DBall" / "checkpoint.pt")
    assert set(checkpoint["reward_signals"]["gail"]) == {"discriminator", "optimizer"}


def test_sac_trains_with_gail_next_to_the_extrinsic_reward(tmp_path):
    config = tmp_path / "sac.yaml"
    config.write_text(
        yaml.safe_dump({
            "behaviors": {"Basic": {
                "trainer_type": "sac",
                "hyperparameters": {"batch_size": 16, "buffer_size": 256},
                "network_settings": {"hidden_units": 16, "num_layers": 1},
                "reward_signals": {"extrinsic": {}, "gail": {"demo_path": str(BASIC_DEMO),
                                                             "use_actions": True}},
                "max_steps": 160,
                "time_horizon": 8,
                "summary_freq": 80,
            }},
            "env_settings": {"env_path": "sim:Basic"},
        })
    )  # fmt: skip
    recorder = train(config, tmp_path)
    estimates = recorder.summaries["Policy/GAIL Expert Estimate"]
    assert sorted(estimates) == [80, 160] and "Policy/Gail Reward" in recorder.summaries
    assert all(np.isfinite(summary.mean) for summary in recorder.summaries["Losses/GAIL Loss"].values())
