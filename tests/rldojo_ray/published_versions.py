"""Run inside a loopback-only network namespace by test_runner_acting: a one-node Ray cluster with two env
runners that act themselves (3DBall); the learner publishes three versions of a PPO policy, changing its
weights (the action means) and, for the last, what it keeps besides them (``deterministic``). Writes, per
collect, the policy versions and runners of the pieces and their continuous actions' mean and spread.

Usage: python published_versions.py CONFIG OUTPUT_JSON LOG_FOLDER
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import ray
import torch

from rldojo.envs import EnvLauncher
from rldojo.envs.runner_acting import ActingPolicy
from rldojo.plugins import trainer_class
from rldojo.settings import load_run_options
from rldojo_ray.acting_manager import RayActingEnvManager
from rldojo_ray.loopback import start_local_cluster

BEHAVIOR = "3DBall?team=0"
HORIZON = 10


def main(config: str, output: str, log_folder: str) -> None:
    cluster = start_local_cluster(num_nodes=1, cpus_per_node=2)
    overrides = {
        "env_settings.env_path": "sim:3DBall",
        "ray.address": cluster.address,
        "ray.acting": "runner",
    }
    options = load_run_options(Path(config), overrides)
    launcher = EnvLauncher.from_options(options, seed=3, log_folder=Path(log_folder))
    manager = RayActingEnvManager(launcher, options.env_settings, options.ray)
    manager.reset()
    trainer = trainer_class("ppo")("3DBall", 100, options.behaviors["3DBall"], True, False, 3, log_folder)
    policy = trainer.create_policy(BEHAVIOR, manager.behavior_specs[BEHAVIOR])
    head = policy.actor.action_head
    collected = []
    for version, mean, log_std, deterministic in (
        (0, None, 0.0, False),
        (1, 5.0, -10.0, False),
        (2, -5.0, 0.0, True),
    ):
        if mean is not None:  # an "update": the action means become ``mean``
            with torch.no_grad():
                head.mean.weight.zero_()
                head.mean.bias.fill_(mean)
                head.log_std.fill_(log_std)
            policy.deterministic = deterministic
        manager.publish({BEHAVIOR: ActingPolicy(version, policy, HORIZON)})
        for _ in range(2):  # the second collect acts with the runners' copies of the same version
            reports = manager.collect(wait_for_all=True)
            actions = np.concatenate([p.trajectory.continuous_actions for r in reports for p in r.pieces])
            collected.append(
                {
                    "versions": sorted({p.policy_version for r in reports for p in r.pieces}),
                    "runners": sorted(r.runner for r in reports),
                    "mean": float(actions.mean()),
                    "spread": float(actions.std()),
                }
            )
    manager.close()
    Path(output).write_text(json.dumps(collected))
    ray.shutdown()
    cluster.shutdown()


if __name__ == "__main__":
    main(*sys.argv[1:])
