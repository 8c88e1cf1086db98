"""Acting with an exported ONNX model through onnxruntime, as Unity's inference engine would."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from mlagents_envs.base_env import ActionTuple, BehaviorSpec, DecisionSteps

from rldojo.errors import ConfigError
from rldojo.policy import allowed_action_mask

__all__ = ["OnnxPolicy"]


class OnnxPolicy:
    """Feeds ``obs_i``, ``action_masks`` and (a model with memory) ``recurrent_in`` to the model; reads the
    sampled or deterministic actions and ``recurrent_out``."""

    def __init__(self, path: Path, deterministic: bool):
        import onnxruntime

        if not path.is_file():
            raise ConfigError(f"ONNX model not found: {path}")
        self.path = path
        try:
            self.session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own Fail/InvalidProtobuf types
            raise ConfigError(
                f"{path} is not a valid ONNX model ({type(error).__name__}); give a model written by "
                "rldojo learn or rldojo export"
            ) from None
        self.input_shapes = {value.name: value.shape[1:] for value in self.session.get_inputs()}
        memory_shape = self.input_shapes.pop("recurrent_in", [1, 0])
        self.memory_size = int(memory_shape[-1])
        """Floats of memory per agent (0: the model has no memory)."""
        prefix = "deterministic_" if deterministic else ""
        outputs = {value.name for value in self.session.get_outputs()}
        self.continuous_output = f"{prefix}continuous_actions" if "continuous_actions" in outputs else None
        self.discrete_output = f"{prefix}discrete_actions" if "discrete_actions" in outputs else None

    def check(self, behavior_name: str, spec: BehaviorSpec) -> None:
        """Raise a ConfigError when the model's inputs do not fit ``spec``."""
        expected = {f"obs_{i}": list(obs.shape) for i, obs in enumerate(spec.observation_specs)}
        if spec.action_spec.discrete_branches:
            expected["action_masks"] = [sum(spec.action_spec.discrete_branches)]
        if expected != self.input_shapes:
            raise ConfigError(
                f"{self.path} takes inputs {self.input_shapes} but behavior {behavior_name} of the "
                f"environment gives {expected}; export the model from a run of this environment"
            )

    def get_action(self, decision_steps: DecisionSteps, spec: BehaviorSpec) -> ActionTuple:
        """Actions for ``decision_steps`` (a model with memory starts every agent from zeros)."""
        return self.act(decision_steps, spec)[0]

    def act(
        self, decision_steps: DecisionSteps, spec: BehaviorSpec, memories: np.ndarray | None = None
    ) -> tuple[ActionTuple, np.ndarray | None]:
        """Actions for ``decision_steps`` and, with memory, each agent's next memory [n, memory_size]
        from its ``memories`` (zeros when None)."""
        feed = {f"obs_{i}": obs.astype(np.float32) for i, obs in enumerate(decision_steps.obs)}
        if "action_masks" in self.input_shapes:
            feed["action_masks"] = allowed_action_mask(decision_steps, spec.action_spec.discrete_branches)
        names = [name for name in (self.continuous_output, self.discrete_output) if name]
        if self.memory_size:
            if memories is None:
                memories = np.zeros((len(decision_steps), self.memory_size), np.float32)
            feed["recurrent_in"] = memories[:, None, :].astype(np.float32)
            names.append("recurrent_out")
        results = dict(zip(names, self.session.run(names, feed), strict=True))
        action = ActionTuple(
            continuous=results.get(self.continuous_output or ""),
            discrete=results[self.discrete_output].astype(np.int32) if self.discrete_output else None,
        )
        return action, results["recurrent_out"][:, 0, :] if self.memory_size else None
