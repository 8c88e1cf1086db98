"""rldojo's Adam (rldojo.adam) steps exactly as torch's, without importing the torch compiler."""

from __future__ import annotations

import copy

import pytest
import torch

from rldojo.adam import Adam
from rldojo.trainers.optimizer import adam_step


@pytest.mark.parametrize("fused", [False, True])
def test_adam_takes_torch_adams_steps_and_state(fused):
    torch.manual_seed(0)
    ours, theirs = torch.nn.Linear(4, 3), torch.nn.Linear(4, 3)
    theirs.load_state_dict(ours.state_dict())
    options = {"lr": 1e-2, "eps": 1e-7, "fused": fused}
    our_adam, their_adam = (
        Adam(ours.parameters(), **options),
        torch.optim.Adam(theirs.parameters(), **options),
    )
    for _ in range(5):
        batch = torch.randn(8, 4)
        for network, optimizer in ((ours, our_adam), (theirs, their_adam)):
            optimizer.zero_grad()
            network(batch).square().mean().backward()
            optimizer.step()
    for our_parameter, their_parameter in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.equal(our_parameter, their_parameter)
    assert not torch.equal(ours.weight, torch.nn.Linear(4, 3).weight)
    reloaded = torch.optim.Adam(theirs.parameters(), **options)
    reloaded.load_state_dict(our_adam.state_dict())  # checkpoints hold torch's state layout
    assert torch.equal(
        reloaded.state_dict()["state"][0]["exp_avg"], their_adam.state_dict()["state"][0]["exp_avg"]
    )


def test_adam_step_updates_leaves_in_place_and_returns_the_closures_loss():
    """The update runs with gradients off (in place on a leaf that requires grad fails otherwise)."""
    parameter = torch.nn.Parameter(torch.ones(3))
    optimizer = Adam([parameter], lr=0.1)

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = parameter.square().sum()
        loss.backward()
        return loss

    loss = optimizer.step(closure)
    assert loss is not None and loss.item() == 3.0
    assert parameter.is_leaf and torch.all(parameter < 1.0)


def test_adam_step_is_the_optimizers_own_step_exactly():
    """rldojo.trainers.optimizer.adam_step calls the fused kernel itself: the same weights and state as
    optimizer.step(), through the first step, a parameter without a gradient, a new learning rate and a
    state reloaded from a checkpoint."""
    torch.manual_seed(0)
    ours, theirs = torch.nn.Linear(4, 3), torch.nn.Linear(4, 3)
    theirs.load_state_dict(ours.state_dict())
    frozen = [torch.nn.Parameter(torch.ones(2)) for _ in range(2)]  # never get a gradient
    our_adam = Adam([*ours.parameters(), frozen[0]], lr=1e-2, eps=1e-7, fused=True)
    their_adam = Adam([*theirs.parameters(), frozen[1]], lr=1e-2, eps=1e-7, fused=True)
    for step in range(6):
        batch = torch.randn(8, 4)
        if step == 3:
            our_adam.load_state_dict(copy.deepcopy(their_adam.state_dict()))  # new tensors, as --resume
        for network, optimizer, take_step in ((ours, our_adam, adam_step), (theirs, their_adam, Adam.step)):
            optimizer.param_groups[0]["lr"] = 1e-2 / (step + 1)
            optimizer.zero_grad()
            network(batch).square().mean().backward()
            take_step(optimizer)
    for our_parameter, their_parameter in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.equal(our_parameter, their_parameter)
    ours_state, theirs_state = our_adam.state_dict()["state"], their_adam.state_dict()["state"]
    assert set(ours_state) == set(theirs_state) == {0, 1}  # the frozen parameter has no state
    for index in (0, 1):
        for key in ("step", "exp_avg", "exp_avg_sq"):
            assert torch.equal(ours_state[index][key], theirs_state[index][key])
    assert torch.equal(frozen[0], torch.ones(2))
