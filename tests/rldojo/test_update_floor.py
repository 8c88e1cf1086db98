"""scripts/update_floor.py's arithmetic floor counts the matrix products rldojo's gradient step does."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from mlagents_envs.base_env import ActionSpec, BehaviorSpec

from .specs import observation
from .test_sac_twin_q import make_trainer, replay_batch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
update_floor = pytest.importorskip("update_floor")

pytestmark = pytest.mark.smoke

PRODUCTS = {"aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm"}


def multiply_adds(name: str, shapes: list[list[int]]) -> int:
    """Multiply-adds of one matrix product from its profiled input shapes ([bias,] left, right, ...)."""
    left, right = shapes[1:3] if name in ("aten::addmm", "aten::baddbmm") else shapes[:2]
    return (left[0] if len(left) == 3 else 1) * left[-2] * left[-1] * right[-1]


def test_the_sac_floor_is_the_matrix_arithmetic_of_rldojos_sac_step(tmp_path):
    """Pendulum's shapes (3 observations, 1 action) with smaller layers: the products the profiler sees in
    one SAC gradient step add up to the floor's."""
    hidden, batch = 16, 32
    passes = [  # the row's networks with hidden layers of 16
        update_floor.Pass(tuple(hidden if w == 256 else w for w in p.widths), p.weight_grads, p.input_grad)
        for p in update_floor.FLOOR_PASSES["sac-pendulum"]
    ]
    spec = BehaviorSpec([observation(3)], ActionSpec.create_continuous(1))
    optimizer = make_trainer(tmp_path, spec, hidden_units=hidden).optimizer
    data = replay_batch(spec, batch)
    optimizer.update(data, step=0)  # Adam's state exists: the profiled step is a steady one
    with torch.profiler.profile(record_shapes=True) as profile:
        optimizer.update(data, step=1)
    profiled = [multiply_adds(e.name, e.input_shapes) for e in profile.events() if e.name in PRODUCTS]
    assert sum(profiled) == sum(m * k * n for m, k, n in update_floor.matmul_shapes(passes, batch))
