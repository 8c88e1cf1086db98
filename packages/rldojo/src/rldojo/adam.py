"""``Adam``: torch's Adam, stepped without the wrapper that imports the torch compiler.

``torch.optim.Adam.step`` is wrapped so that ``torch.compile`` breaks its graph around the update; the
wrapper imports ``torch._dynamo`` (with sympy and inductor: about a second of CPU, several seconds of wall
time on a busy machine) at the first step of every process, compiled or not. rldojo never compiles an
optimizer step, so its Adam calls the step's own body with gradients off (unless ``differentiable``),
which is all the wrapper does besides the graph breaks. The arithmetic, the state and its ``state_dict``
are torch's.

Both torch internals used here (the step's unwrapped body and the fused kernel that
:func:`rldojo.trainers.optimizer.adam_step` calls through :func:`fused_adam`) are checked before use: where a
torch version lacks them or gives them other arguments, rldojo steps through ``torch.optim.Adam.step``
instead (the same results, a little slower) and says so in one warning per process.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any, overload

import torch

__all__ = ["Adam", "fused_adam"]

logger = logging.getLogger(__name__)

_fell_back = False
"""Whether this process has warned that it steps through ``torch.optim.Adam.step`` (it warns once)."""


def _fall_back(internal: str, cause: object) -> None:
    global _fell_back
    if not _fell_back:
        _fell_back = True
        logger.warning(
            "rldojo.adam: this torch's %s is not what rldojo expects (%s); Adam steps go through "
            "torch.optim.Adam.step instead (the same results, a little slower)",
            internal,
            cause,
        )


def _step_body() -> Callable[..., Any]:
    """The body of ``torch.optim.Adam.step`` without its ``_use_grad_for_differentiable`` wrapper, if it still
    takes ``(self, closure)``; else the public step."""
    body = inspect.unwrap(torch.optim.Adam.step)
    try:
        inspect.signature(body).bind(None, None)
    except TypeError as error:
        _fall_back("Adam.step body", error)
        return torch.optim.Adam.step
    return body


_ADAM_STEP: Callable[..., Any] = _step_body()

FUSED_KERNEL = "_fused_adam_"
"""The name of torch's fused Adam kernel in the ``torch`` module (an internal: torch may rename it)."""
_fused_kernel_rejected = False
"""Whether :data:`FUSED_KERNEL` rejected the arguments :func:`fused_adam` gives it (it is not tried again)."""


def fused_adam(
    params: list[torch.Tensor],
    exp_avgs: list[torch.Tensor],
    exp_avg_sqs: list[torch.Tensor],
    steps: list[torch.Tensor],
    *,
    lr: float,
    betas: tuple[float, float],
    eps: float,
) -> bool:
    """One Adam step of ``params`` from their gradients by torch's fused kernel, in place: ``steps`` counted,
    moments and parameters updated. False, with nothing changed, where this torch has no such kernel or it
    takes other arguments: the caller then steps through ``torch.optim.Adam.step``."""
    global _fused_kernel_rejected
    kernel = None if _fused_kernel_rejected else getattr(torch, FUSED_KERNEL, None)
    if kernel is None:
        _fall_back(f"torch.{FUSED_KERNEL}", "rejected its arguments" if _fused_kernel_rejected else "missing")
        return False
    torch._foreach_add_(steps, 1)
    try:
        kernel(
            params,
            [p.grad for p in params],
            exp_avgs,
            exp_avg_sqs,
            [],
            steps,
            amsgrad=False,
            lr=lr,
            beta1=betas[0],
            beta2=betas[1],
            weight_decay=0.0,
            eps=eps,
            maximize=False,
            grad_scale=None,
            found_inf=None,
        )
    except TypeError as error:  # arguments rejected before the kernel runs
        torch._foreach_sub_(steps, 1)
        _fused_kernel_rejected = True
        _fall_back(f"torch.{FUSED_KERNEL}", error)
        return False
    return True


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
