"""One behavior of an mlagents_envs ``BaseEnv``: the env (or its seeded factory) and that behavior's spaces.

Both Gymnasium wrappers drive a behavior through this class. A Unity environment takes its seed
when it starts (``UnityEnvironment(seed=...)``), so ``reset(seed=...)`` reaches the environment by
starting a fresh one from the factory; a ready-made ``BaseEnv`` can only be reset unseeded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeAlias

import numpy as np
from gymnasium import logger
from mlagents_envs.base_env import ActionTuple, BaseEnv, BehaviorSpec, DecisionSteps, TerminalSteps

from rldojo_gym.errors import GymEnvError
from rldojo_gym.spaces import VisualFormat, behavior_layouts

__all__ = ["RENDER_MODES", "BehaviorLink", "EnvSource", "SeededEnvFactory", "checked_render_mode"]

SeededEnvFactory = Callable[[int], BaseEnv]
"""Starts a fresh environment with the given seed."""

UNITY_SEED_RANGE = 2**31
"""Unity seeds are int32 (the handshake's ``seed`` field); larger Gymnasium seeds wrap into range."""

EnvSource: TypeAlias = BaseEnv | SeededEnvFactory

RENDER_MODES = ("rgb_array",)
"""What the wrappers' ``render()`` offers: the environment's picture, when its ``BaseEnv`` draws one."""


def checked_render_mode(render_mode: str | None) -> str | None:
    """``render_mode`` if the wrappers offer it (or ``None``); a ``GymEnvError`` otherwise."""
    if render_mode is not None and render_mode not in RENDER_MODES:
        raise GymEnvError(f"render_mode must be None or one of {list(RENDER_MODES)}, got {render_mode!r}")
    return render_mode


def select_behavior(specs: Mapping[str, BehaviorSpec], requested: str | None) -> str:
    """The fully qualified behavior name to drive (``requested`` may omit the ``?team=`` suffix).

    Without a request it is the first behavior the environment reports (``Tennis?team=0``); the
    agents of the other behaviors then get empty (all-zero) actions.
    """
    names = list(specs)
    if not names:
        raise GymEnvError("the environment reported no behaviors after reset; is any agent active?")
    if requested is None:
        return names[0]
    matches = [name for name in names if requested in (name, name.split("?", 1)[0])]
    if not matches:
        raise GymEnvError(f"behavior {requested!r} not found; the environment has {names}")
    return matches[0]


class BehaviorLink:
    """Drives one behavior of a ``BaseEnv``; owns the env and closes it."""

    def __init__(
        self,
        source: EnvSource,
        *,
        behavior_name: str | None = None,
        seed: int = 0,
        visual_format: VisualFormat | str = VisualFormat.CHW,
    ):
        self._factory: SeededEnvFactory | None = None if isinstance(source, BaseEnv) else source
        self.env: BaseEnv = source if isinstance(source, BaseEnv) else source(seed % UNITY_SEED_RANGE)
        self._seed = seed
        try:
            self.env.reset()
            self.behavior_name = select_behavior(self.env.behavior_specs, behavior_name)
            self.spec: BehaviorSpec = self.env.behavior_specs[self.behavior_name]
            self.observations, self.actions = behavior_layouts(self.spec, VisualFormat(visual_format))
            self.num_agents = len(self.steps()[0])
        except BaseException:
            self.env.close()  # a launched build must not outlive a wrapper that failed to start
            raise
        self._untouched = True  # freshly reset: the next unseeded reset() need not reset again
        self._warned_unseedable = False
        self._closed = False

    def steps(self) -> tuple[DecisionSteps, TerminalSteps]:
        """The agents of this behavior that reported since the last step."""
        return self.env.get_steps(self.behavior_name)

    def reset(self, seed: int | None = None) -> DecisionSteps:
        """Reset the environment (restarting it with ``seed`` when one is given and a factory is known)."""
        if seed is not None and self._factory is not None:
            if not (self._untouched and seed == self._seed):
                self._restart(seed)
        elif not self._untouched:
            self.env.reset()
        if seed is not None and self._factory is None and not self._warned_unseedable:
            logger.warn(
                "reset(seed=...) cannot reseed a BaseEnv that is already running; give the wrapper a "
                "factory `seed -> BaseEnv` instead of an env so the seed reaches the environment"
            )
            self._warned_unseedable = True
        self._untouched = False
        return self.steps()[0]

    def _restart(self, seed: int) -> None:
        assert self._factory is not None
        self.env.close()
        self.env = self._factory(seed % UNITY_SEED_RANGE)
        self._seed = seed
        self.env.reset()
        if self.env.behavior_specs.get(self.behavior_name) != self.spec:
            raise RuntimeError(
                f"the environment restarted with seed {seed} no longer has behavior "
                f"{self.behavior_name!r} with the same spec; the factory must build the same scene"
            )

    def act(self, action: ActionTuple) -> None:
        """Set the actions of the agents of the last ``DecisionSteps``, in their order."""
        self.env.set_actions(self.behavior_name, action)

    def advance(self) -> tuple[DecisionSteps, TerminalSteps]:
        """Step the simulation and return what this behavior's agents reported."""
        self._untouched = False
        self.env.step()
        return self.steps()

    def render(self) -> np.ndarray:
        """The environment's picture, ``uint8 [H, W, 3]``, when its ``BaseEnv`` draws one (``render()``)."""
        render = getattr(self.env, "render", None)
        if not callable(render):
            raise NotImplementedError(
                f"{type(self.env).__name__} draws no frames: rgb_array rendering needs an environment "
                "with render(), such as the in-process rldojo/<Scene>-v0 scenes (not launch=True)"
            )
        return np.asarray(render())

    @property
    def can_render(self) -> bool:
        """Whether :meth:`render` gives frames."""
        return callable(getattr(self.env, "render", None))

    def usable_render_mode(self, render_mode: str | None) -> str | None:
        """``render_mode`` when this environment can serve it, else ``None`` with a warning.

        Stable-Baselines3 asks every env for ``"rgb_array"``, so an environment that draws no
        frames (a launched build) must still start; it renders nothing, as Gymnasium's
        ``render_mode=None`` says.
        """
        if render_mode is not None and not self.can_render:
            logger.warn(
                f"render_mode={render_mode!r} is ignored: {type(self.env).__name__} draws no frames "
                "(in-process rldojo/<Scene>-v0 scenes do; launched builds do not)"
            )
            return None
        return render_mode

    def close(self) -> None:
        """Close the environment (once; closing again does nothing, as Gymnasium requires)."""
        if not self._closed:
            self._closed = True
            self.env.close()
