"""rldojo's Adam (rldojo.adam) steps exactly as torch's, without importing the torch compiler."""

from __future__ import annotations

import copy
import functools
import importlib
import inspect
import logging

import pytest
import torch

import rldojo.adam
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


def _changed_kernel(params, grads, exp_avgs, exp_avg_sqs, steps, *, lr):
    raise AssertionError("called with arguments it does not take")  # torch rejects them before this


@pytest.mark.parametrize("kernel", [None, _changed_kernel], ids=["missing", "changed"])
def test_adam_step_falls_back_to_torchs_step_with_one_warning_without_the_fused_kernel(
    kernel, monkeypatch, caplog
):
    """A torch without ``torch._fused_adam_`` (or whose kernel takes other arguments) still trains: adam_step
    takes torch's own step, the same weights and state, and says so once."""
    if kernel is None:  # as if a torch version had renamed it (torch's own step uses the new name)
        monkeypatch.setattr(rldojo.adam, "FUSED_KERNEL", "_fused_adam_renamed_", raising=False)
    else:
        torchs_adam = importlib.import_module("torch.optim.adam")
        torchs_update = _with_kernel(torchs_adam._fused_adam, torch._fused_adam_)
        monkeypatch.setattr(torch, "_fused_adam_", functools.partial(_reject_unknown_arguments, kernel))
        monkeypatch.setattr(torchs_adam, "_fused_adam", torchs_update)  # torch's step knows its kernel
    monkeypatch.setattr(rldojo.adam, "_fused_kernel_rejected", False, raising=False)
    monkeypatch.setattr(rldojo.adam, "_fell_back", False, raising=False)
    torch.manual_seed(0)
    ours, theirs = torch.nn.Linear(4, 3), torch.nn.Linear(4, 3)
    theirs.load_state_dict(ours.state_dict())
    our_adam = Adam(ours.parameters(), lr=1e-2, fused=True)
    their_adam = torch.optim.Adam(theirs.parameters(), lr=1e-2, fused=True)
    with caplog.at_level(logging.WARNING, logger="rldojo.adam"):
        for _ in range(4):
            batch = torch.randn(8, 4)
            for network, optimizer, take_step in ((ours, our_adam, adam_step), (theirs, their_adam, None)):
                optimizer.zero_grad()
                network(batch).square().mean().backward()
                take_step(optimizer) if take_step else optimizer.step()
    for our_parameter, their_parameter in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.equal(our_parameter, their_parameter)
    assert {int(state["step"]) for state in our_adam.state.values()} == {4}
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1 and "torch._fused_adam_" in warnings[0], warnings


def _with_kernel(update, kernel):
    """``update`` (torch's fused Adam update) calling ``kernel`` as ``torch._fused_adam_``."""

    def update_with_kernel(*args, **kwargs):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(torch, "_fused_adam_", kernel)
            return update(*args, **kwargs)

    return update_with_kernel


def _reject_unknown_arguments(function, *args, **kwargs):
    """Calls ``function`` as torch calls a builtin: arguments it does not take are a TypeError up front."""
    inspect.signature(function).bind(*args, **kwargs)
    return function(*args, **kwargs)


def test_adam_steps_through_the_public_step_if_the_step_body_takes_other_arguments(monkeypatch, caplog):
    """If torch's Adam.step wraps a body that no longer takes ``(self, closure)``, rldojo's Adam keeps the
    public step (warned once) instead of calling the body wrongly."""
    public_step = torch.optim.Adam.step

    def body(self, closure, scale):  # a future torch's body
        raise AssertionError("the changed body is never called")

    @functools.wraps(body)
    def wrapped(self, closure=None):
        return public_step(self, closure)

    monkeypatch.setattr(torch.optim.Adam, "step", wrapped)
    monkeypatch.setattr(rldojo.adam, "_fell_back", False)
    with caplog.at_level(logging.WARNING, logger="rldojo.adam"):
        step = rldojo.adam._step_body()
        rldojo.adam._step_body()
    assert step is wrapped
    assert len(caplog.records) == 1 and "Adam.step body" in caplog.records[0].getMessage()
    parameter = torch.nn.Parameter(torch.ones(3))
    monkeypatch.setattr(rldojo.adam, "_ADAM_STEP", step)
    optimizer = Adam([parameter], lr=0.1)
    parameter.square().sum().backward()
    optimizer.step()
    assert torch.all(parameter < 1.0)
