"""``Adam``: torch's Adam, stepped without the wrapper that imports the torch compiler.

``torch.optim.Adam.step`` is wrapped so that ``torch.compile`` breaks its graph around the update; the
wrapper imports ``torch._dynamo`` (with sympy and inductor: about a second of CPU, several seconds of wall
time on a busy machine) at the first step of every process, compiled or not. rldojo never compiles an
optimizer step, so its Adam calls the step's own body with gradients off (unless ``differentiable``),
which is all the wrapper does besides the graph breaks. The arithmetic, the state and its ``state_dict``
are torch's.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, overload

import torch

__all__ = ["Adam"]

_ADAM_STEP: Callable[..., Any] = inspect.unwrap(torch.optim.Adam.step)
"""The body of ``torch.optim.Adam.step``, without its ``_use_grad_for_differentiable`` wrapper."""


class Adam(torch.optim.Adam):
    """``torch.optim.Adam`` whose :meth:`step` never imports ``torch._dynamo`` (see the module docstring)."""

    @overload
    def step(self, closure: None = None) -> None: ...

    @overload
    def step(self, closure: Callable[[], float]) -> float: ...

    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """One Adam step on the parameters' gradients (``closure``: re-evaluates the loss, as torch's)."""
        with torch.set_grad_enabled(self.defaults["differentiable"]):
            result: float | None = _ADAM_STEP(self, closure)
        return result
