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

import torch
from torch import nn

from rldojo.networks.encoders import ObservationEncoder

__all__ = ["DenseLayer", "PlainMLP", "Saved"]

ACTIVATION_BACKWARD: dict[type[nn.Module], Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    nn.ReLU: lambda grad, output: torch.ops.aten.threshold_backward(grad, output, 0.0),
    nn.Tanh: lambda grad, output: torch.ops.aten.tanh_backward(grad, output),
}
"""Activation -> (gradient at its output, its output) -> gradient at its input (autograd's own kernels)."""
Saved = tuple[torch.Tensor, torch.Tensor | None]
"""What the backward pass of one layer needs: its input, and its pre-activation when that is SiLU's."""
ACTIVATION_FORWARD: dict[type[nn.Module], Callable[[torch.Tensor], torch.Tensor]] = {
    nn.ReLU: torch.relu_,
    nn.Tanh: torch.tanh_,
    nn.SiLU: nn.functional.silu,
}


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
            below, pre_activation = self.layers[index - 1].activation, saved[index - 1][1]
            if pre_activation is not None:
                gradient = torch.ops.aten.silu_backward(gradient, pre_activation)
            elif below is not None:
                gradient = ACTIVATION_BACKWARD[below](gradient, inputs)
