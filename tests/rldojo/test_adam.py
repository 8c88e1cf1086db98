"""rldojo's Adam (rldojo.adam) steps exactly as torch's, without importing the torch compiler."""

from __future__ import annotations

import pytest
import torch

from rldojo.adam import Adam


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
