"""Hand-derived gradients of plain MLPs: a forward pass that keeps what the backward pass needs, and a
backward pass that writes the parameters' gradients directly, both without autograd.

For the small dense networks of vector-observation tasks on one CPU thread, a gradient step costs more in
per-operation dispatch and autograd graph bookkeeping than in arithmetic; the same maths written out (one
``addmm`` per layer forward, two ``mm``, a ``sum`` and the activation's backward kernel per layer backward)
skips the graph. A loss that knows its gradient with respect to the network's output (beside each loss: PPO's
in ``trainers/ppo/gradients.py``, DQN's Huber TD error in ``trainers/dqn/trainer.py``) pairs the two.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import torch
from torch import nn

from rldojo.networks.encoders import ObservationEncoder

__all__ = ["DenseLayer", "HandNetwork", "PlainMLP", "Saved", "StackedMLP"]

ACTIVATION_BACKWARD: dict[type[nn.Module], Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    nn.ReLU: lambda grad, output: torch.ops.aten.threshold_backward.grad_input(
        grad, output, 0.0, grad_input=grad
    ),
    nn.Tanh: lambda grad, output: torch.ops.aten.tanh_backward.grad_input(grad, output, grad_input=grad),
}
"""Activation -> (gradient at its output, its output) -> gradient at its input, written over the gradient
(autograd's own kernels, in place: no new tensor, which costs more than the arithmetic for wide layers);
SiLU's backward reads its input instead (:func:`_through_activation`)."""
Saved = tuple[torch.Tensor, torch.Tensor | None]
"""What the backward pass of one layer needs: its input, and its pre-activation when that is SiLU's."""
ACTIVATION_FORWARD: dict[type[nn.Module], Callable[[torch.Tensor], torch.Tensor]] = {
    nn.ReLU: torch.relu_,
    nn.Tanh: torch.tanh_,
    nn.SiLU: nn.functional.silu,
}


class HandNetwork(Protocol):
    """A network whose parameters' gradients are written by hand (:class:`PlainMLP`, :class:`StackedMLP`)."""

    @property
    def parameters(self) -> list[torch.Tensor]: ...

    def backward(self, saved: list[Saved], output_gradient: torch.Tensor) -> object: ...


@dataclass(frozen=True)
class DenseLayer:
    """``activation(inputs @ weight.T + bias)``; no activation for an output layer."""

    weight: torch.Tensor
    bias: torch.Tensor
    activation: type[nn.Module] | None


class PlainMLP:
    """An :class:`~rldojo.networks.ObservationEncoder` of vector observations (normalised or not) and its
    dense layers, then one linear output layer: :meth:`forward` and :meth:`backward` by hand.

    :meth:`of` makes one only for such networks (None otherwise: visual observations, extra inputs).
    """

    def __init__(self, encoder: ObservationEncoder, layers: Sequence[DenseLayer]):
        self.encoder = encoder
        self.layers = list(layers)

    @classmethod
    def of(cls, encoder: ObservationEncoder, output_layer: nn.Linear) -> PlainMLP | None:
        """The plain MLP of ``encoder`` then ``output_layer``, or None when the encoder is not one."""
        if not encoder.vector_only or encoder.extra_inputs:
            return None
        modules = list(encoder.body)
        layers = []
        for linear, activation in zip(modules[::2], modules[1::2], strict=True):
            if not isinstance(linear, nn.Linear) or type(activation) not in ACTIVATION_FORWARD:
                return None
            layers.append(DenseLayer(linear.weight, linear.bias, type(activation)))
        return cls(encoder, [*layers, DenseLayer(output_layer.weight, output_layer.bias, None)])

    @property
    def parameters(self) -> list[torch.Tensor]:
        """Every parameter the network's output depends on (each layer's weight and bias)."""
        return [tensor for layer in self.layers for tensor in (layer.weight, layer.bias)]

    @torch.no_grad()
    def forward(self, observations: Sequence[torch.Tensor]) -> tuple[torch.Tensor, list[Saved]]:
        """The output [batch, outputs] and what :meth:`backward` needs: per layer its input and, for SiLU, its
        pre-activation (SiLU's backward reads its input, ReLU's and Tanh's their output, the next input)."""
        saved: list[Saved] = []
        return self.output(observations, saved), saved

    def output(self, observations: Sequence[torch.Tensor], saved: list[Saved] | None = None) -> torch.Tensor:
        """The output [batch, outputs], the network's own values without a module call per layer (acting
        calls it under ``torch.inference_mode``); ``saved`` gets what :meth:`backward` needs."""
        hidden = self.encoder.body_inputs(observations)
        for layer in self.layers:
            inputs = hidden
            hidden = nn.functional.linear(inputs, layer.weight, layer.bias)
            if saved is not None:
                saved.append((inputs, hidden if layer.activation is nn.SiLU else None))
            if layer.activation is not None:
                hidden = ACTIVATION_FORWARD[layer.activation](hidden)
        return hidden

    @torch.no_grad()
    def backward(self, saved: list[Saved], output_gradient: torch.Tensor) -> None:
        """Write d loss / d parameter into each parameter's ``.grad`` (which must exist: see
        :class:`~rldojo.trainers.optimizer.HandGradients`), given d loss / d output [batch, outputs] and what
        :meth:`forward` saved for this batch."""
        gradient = output_gradient
        for index in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[index]
            inputs, _ = saved[index]
            assert layer.weight.grad is not None and layer.bias.grad is not None
            torch.mm(gradient.t(), inputs, out=layer.weight.grad)
            torch.sum(gradient, 0, out=layer.bias.grad)
            if index == 0:
                break  # the observations need no gradient
            gradient = gradient.mm(layer.weight)
            _through_activation(gradient, self.layers[index - 1].activation, inputs, saved[index - 1][1])


class StackedMLP:
    """Several MLPs of one shape evaluated together, each layer one batched matrix product (the layers of a
    :class:`~rldojo.trainers.sac.networks.TwinQEnsemble`): weights [members, in, out], biases [members, 1,
    out], inputs [batch, in] shared by every member, outputs [members, batch, out]."""

    def __init__(self, layers: Sequence[DenseLayer]):
        self.layers = list(layers)

    @property
    def parameters(self) -> list[torch.Tensor]:
        """Every layer's weight and bias."""
        return [tensor for layer in self.layers for tensor in (layer.weight, layer.bias)]

    @torch.no_grad()
    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, list[Saved]]:
        """The outputs [members, batch, out] and what :meth:`backward` needs (each layer's input)."""
        saved: list[Saved] = []
        hidden = inputs.expand(self.layers[0].weight.shape[0], *inputs.shape)
        for layer in self.layers:
            inputs = hidden
            hidden = torch.baddbmm(layer.bias, inputs, layer.weight)
            saved.append((inputs, hidden if layer.activation is nn.SiLU else None))
            if layer.activation is not None:
                hidden = ACTIVATION_FORWARD[layer.activation](hidden)
        return hidden, saved

    @torch.no_grad()
    def backward(self, saved: list[Saved], output_gradient: torch.Tensor) -> None:
        """Write d loss / d parameter into each parameter's ``.grad``, given d loss / d outputs [members,
        batch, out] and what :meth:`forward` saved for this batch."""
        self._backward(saved, output_gradient, trained_rows=None)

    @torch.no_grad()
    def backward_through(
        self, saved: list[Saved], output_gradient: torch.Tensor, trained_rows: int
    ) -> torch.Tensor:
        """:meth:`backward` from the first ``trained_rows`` rows of the batch only, and d loss / d inputs
        [members, rows, in] of the rows after them: one pass for rows that train the network and rows whose
        loss only flows through it to its inputs (SAC's Q networks scoring the policy's actions)."""
        gradient = self._backward(saved, output_gradient, trained_rows)
        assert gradient is not None
        return gradient

    def _backward(
        self, saved: list[Saved], output_gradient: torch.Tensor, trained_rows: int | None
    ) -> torch.Tensor | None:
        gradient = output_gradient
        for index in range(len(self.layers) - 1, -1, -1):
            layer, (inputs, _) = self.layers[index], saved[index]
            assert layer.weight.grad is not None and layer.bias.grad is not None
            trained, trained_inputs = (
                (gradient, inputs)
                if trained_rows is None
                else (gradient[:, :trained_rows], inputs[:, :trained_rows])
            )
            torch.bmm(trained_inputs.transpose(1, 2), trained, out=layer.weight.grad)
            torch.sum(trained, 1, keepdim=True, out=layer.bias.grad)
            if index == 0:
                break
            gradient = torch.bmm(gradient, layer.weight.transpose(1, 2))
            _through_activation(gradient, self.layers[index - 1].activation, inputs, saved[index - 1][1])
        if trained_rows is None:
            return None  # the inputs need no gradient
        return torch.bmm(gradient[:, trained_rows:], self.layers[0].weight.transpose(1, 2))


def _through_activation(
    gradient: torch.Tensor,
    activation: type[nn.Module] | None,
    output: torch.Tensor,
    pre_activation: torch.Tensor | None,
) -> None:
    """Turn ``gradient``, at the output of ``activation``, into the gradient at its input, in place (from
    the activation's ``output``, or its input ``pre_activation`` for SiLU)."""
    if pre_activation is not None:
        torch.ops.aten.silu_backward.grad_input(gradient, pre_activation, grad_input=gradient)
    elif activation is not None:
        ACTIVATION_BACKWARD[activation](gradient, output)
