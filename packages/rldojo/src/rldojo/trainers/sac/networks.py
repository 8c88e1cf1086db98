"""SAC networks: a tanh-squashed Gaussian / masked categorical actor and twin action-value networks, the
latter stacked into one batched ensemble where their observations are all vectors and they have no memory."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Sequence
from typing import Any, NamedTuple, cast

import torch
from mlagents_envs.base_env import ActionSpec, ObservationSpec
from torch import nn

from rldojo.networks import (
    ActionSample,
    MemoryNetwork,
    ObservationEncoder,
    PlainMLP,
    PolicyDistribution,
    sample_categorical,
)
from rldojo.networks.action_heads import CONTINUOUS_CLIP, HALF_LOG_2PI, MASKED_LOGIT
from rldojo.networks.encoders import ACTIVATIONS
from rldojo.networks.memory import optional_memory
from rldojo.networks.mlp_gradients import ACTIVATION_FORWARD, DenseLayer, StackedMLP
from rldojo.networks.normalizer import RunningNormalizer
from rldojo.settings import NetworkSettings

__all__ = [
    "ActionValueNetwork",
    "PolicyDistribution",
    "SACActor",
    "SquashedSample",
    "StackedLinear",
    "TwinQEnsemble",
    "TwinQNetworks",
    "squashed_gaussian",
    "twin_q_networks",
]

LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0
SQUASH_EPSILON = 1e-6


class SquashedSample(NamedTuple):
    """A sample of the tanh-squashed Gaussian: the actions tanh(u) [batch, dims], their log-probabilities
    per dimension, and the Gaussian noise and standard deviation that drew u = mean + noise * std."""

    actions: torch.Tensor
    log_probs: torch.Tensor
    noise: torch.Tensor
    std: torch.Tensor


def squashed_gaussian(outputs: torch.Tensor, deterministic: bool = False) -> SquashedSample:
    """A sample (the mean if ``deterministic``) of the policy whose Gaussian head gave ``outputs`` [batch,
    2 * dims]: the means, then the log standard deviations (clamped to [LOG_STD_MIN, LOG_STD_MAX])."""
    mean, log_std = outputs.chunk(2, dim=1)
    log_std = log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)
    noise = torch.zeros_like(mean) if deterministic else torch.randn_like(mean)
    std = log_std.exp()
    actions = torch.tanh(mean + noise * std)
    gaussian_log_probs = -0.5 * noise**2 - log_std - HALF_LOG_2PI
    return SquashedSample(
        actions, gaussian_log_probs - torch.log(1.0 - actions**2 + SQUASH_EPSILON), noise, std
    )


class SACActor(MemoryNetwork):
    """Observations -> policy. Continuous actions are tanh(Gaussian) with a state-dependent std; each
    discrete branch is a categorical over its allowed actions.

    Called like :class:`~rldojo.networks.Actor` so a :class:`~rldojo.policy.Policy` can act with it: its
    continuous output is ``CONTINUOUS_CLIP * tanh(u)``, which the policy's clip maps back to ``tanh(u)``.
    With ``network_settings.memory`` an LSTM follows the encoder (see :class:`~rldojo.networks.Actor`).
    """

    def __init__(
        self, observation_specs: Sequence[ObservationSpec], settings: NetworkSettings, action_spec: ActionSpec
    ):
        super().__init__()
        self.continuous_size = action_spec.continuous_size
        self.branch_sizes = tuple(int(size) for size in action_spec.discrete_branches)
        self.encoder = ObservationEncoder(observation_specs, settings)
        self.memory = optional_memory(self.encoder.output_size, settings)
        hidden = self.memory.output_size if self.memory is not None else self.encoder.output_size
        self.gaussian = nn.Linear(hidden, 2 * self.continuous_size) if self.continuous_size else None
        self.logits = nn.Linear(hidden, sum(self.branch_sizes)) if self.branch_sizes else None

    def distribution(
        self,
        observations: Sequence[torch.Tensor],
        masks: torch.Tensor | None,
        deterministic: bool = False,
        memories: torch.Tensor | None = None,
        sequence_length: int = 1,
    ) -> PolicyDistribution:
        """A squashed continuous sample (the mean if ``deterministic``) and each branch's log-probs."""
        hidden, next_memories = self.remember(self.encoder(observations), memories, sequence_length)
        batch = hidden.shape[0]
        continuous = log_probs = hidden.new_zeros(batch, 0)
        if self.gaussian is not None:
            continuous, log_probs, *_ = squashed_gaussian(self.gaussian(hidden), deterministic)
        branches: list[torch.Tensor] = []
        if self.logits is not None:
            logits = self.logits(hidden)
            if masks is not None:
                logits = logits.masked_fill(masks < 0.5, MASKED_LOGIT)
            branches = [torch.log_softmax(b, dim=1) for b in torch.split(logits, list(self.branch_sizes), 1)]
        return PolicyDistribution(continuous, log_probs, branches, next_memories)

    def forward(
        self,
        observations: Sequence[torch.Tensor],
        masks: torch.Tensor | None,
        deterministic: bool = False,
        memories: torch.Tensor | None = None,
    ) -> ActionSample:
        return self.sample(self.distribution(observations, masks, deterministic, memories), deterministic)

    def act(
        self, observations: Sequence[torch.Tensor], masks: torch.Tensor | None, deterministic: bool = False
    ) -> ActionSample:
        """:meth:`forward` without memories, for acting: the same sample. With continuous actions only and a
        plain MLP, its layers run as plain tensor operations (:class:`~rldojo.networks.PlainMLP`), without a
        module call per layer, which costs more than a small layer does on a few rows."""
        if self._acting_mlp is None:
            return self(observations, masks, deterministic)
        continuous, log_probs, *_ = squashed_gaussian(self._acting_mlp.output(observations), deterministic)
        return self.sample(PolicyDistribution(continuous, log_probs, [], None), deterministic)

    @functools.cached_property
    def _acting_mlp(self) -> PlainMLP | None:
        if type(self).forward is not SACActor.forward or type(self).distribution is not SACActor.distribution:
            return None  # a subclass acts its own way
        if self.memory is not None or self.logits is not None or self.gaussian is None:
            return None
        return PlainMLP.of(self.encoder, self.gaussian)

    @staticmethod
    def sample(policy: PolicyDistribution, deterministic: bool) -> ActionSample:
        """Actions from ``policy`` (discrete ones drawn, or their modes if ``deterministic``), with the
        log-probabilities and entropy a :class:`~rldojo.policy.Policy` reports."""
        discrete = [
            branch.argmax(dim=1, keepdim=True) if deterministic else sample_categorical(branch.exp())
            for branch in policy.branch_log_probs
        ]
        batch = policy.continuous.shape[0]
        actions = torch.cat(discrete, dim=1) if discrete else torch.zeros(batch, 0, dtype=torch.long)
        chosen = [branch.gather(1, actions[:, i : i + 1]) for i, branch in enumerate(policy.branch_log_probs)]
        entropy = -policy.continuous_log_probs.sum(dim=1)
        for branch in policy.branch_log_probs:
            entropy = entropy - (branch.exp() * branch).sum(dim=1)
        return ActionSample(
            continuous=policy.continuous * CONTINUOUS_CLIP,
            discrete=actions.to(policy.continuous.device),
            log_probs=torch.cat([policy.continuous_log_probs, *chosen], dim=1),
            entropy=entropy,
            memories=policy.memories,
        )

    def update_normalization(self, observations: Sequence[torch.Tensor]) -> None:
        self.encoder.update_normalization(observations)


class ActionValueNetwork(MemoryNetwork):
    """Q(s, a) per reward signal, built as ML-Agents builds it: the continuous actions join the processed
    observations at the input of the dense layers, and one linear head gives for each signal one value per
    discrete action of every branch (discrete or hybrid actions) or a single value (continuous only).
    With memory, sequences of ``sequence_length`` start from zero memories."""

    def __init__(
        self,
        stream_names: Sequence[str],
        observation_specs: Sequence[ObservationSpec],
        settings: NetworkSettings,
        action_spec: ActionSpec,
    ):
        super().__init__()
        self.stream_names = list(stream_names)
        continuous = action_spec.continuous_size
        self.encoder = ObservationEncoder(observation_specs, settings, extra_inputs=continuous)
        self.memory = optional_memory(self.encoder.output_size, settings)
        hidden = self.memory.output_size if self.memory is not None else self.encoder.output_size
        self.outputs = sum(action_spec.discrete_branches) or 1
        self.head = nn.Linear(hidden, self.outputs * len(self.stream_names))

    def forward(
        self, observations: Sequence[torch.Tensor], continuous: torch.Tensor, sequence_length: int = 1
    ) -> dict[str, torch.Tensor]:
        """Per signal: [batch, outputs]."""
        hidden, _ = self.remember(self.encoder(observations, continuous), None, sequence_length)
        q_values = self.head(hidden)
        if len(self.stream_names) == 1:  # the head's output as it is: no split (and no backward node for it)
            return {self.stream_names[0]: q_values}
        return dict(zip(self.stream_names, q_values.split(self.outputs, dim=1), strict=True))

    def stream_parameters(self) -> list[tuple[torch.Tensor, int]]:
        """The head's weight and bias, ``outputs`` rows per signal (:class:`~rldojo.networks.StreamHeads`)."""
        return [(self.head.weight, 0), (self.head.bias, 0)]

    def update_normalization(self, observations: Sequence[torch.Tensor]) -> None:
        self.encoder.update_normalization(observations)


class TwinQNetworks(nn.Module):
    """Two independently initialised action-value networks; SAC uses their minimum against overestimation."""

    def __init__(
        self,
        stream_names: Sequence[str],
        observation_specs: Sequence[ObservationSpec],
        settings: NetworkSettings,
        action_spec: ActionSpec,
    ):
        super().__init__()
        self.q1 = ActionValueNetwork(stream_names, observation_specs, settings, action_spec)
        self.q2 = ActionValueNetwork(stream_names, observation_specs, settings, action_spec)

    def forward(
        self, observations: Sequence[torch.Tensor], continuous: torch.Tensor, sequence_length: int = 1
    ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        q1 = self.q1(observations, continuous, sequence_length)
        return q1, self.q2(observations, continuous, sequence_length)

    def update_normalization(self, observations: Sequence[torch.Tensor]) -> None:
        self.q1.update_normalization(observations)
        self.q2.update_normalization(observations)


def stack_members(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    """One tensor of :class:`StackedLinear` from the matching tensor of each member's ``nn.Linear`` (a weight
    [out, in], its bias [out], or Adam's moments of either): [members, in, out] or [members, out]."""
    return torch.stack([tensor.t() if tensor.dim() == 2 else tensor for tensor in tensors])


class StackedLinear(nn.Module):
    """Several dense layers of one shape evaluated as one batched matrix product: inputs [members, batch, in],
    or [batch, in] shared by all members, to outputs [members, batch, out].

    Made from one ``nn.Linear`` per member, so each member starts exactly as that layer did; ``weight`` is
    [members, in, out] (``inputs @ weight``), ``bias`` [members, 1, out].
    """

    def __init__(self, layers: Sequence[nn.Linear]):
        super().__init__()
        self.members = len(layers)
        self.weight = nn.Parameter(stack_members([layer.weight.detach() for layer in layers]).contiguous())
        self.bias = nn.Parameter(stack_members([layer.bias.detach() for layer in layers]).unsqueeze(1))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.dim() == 2:
            inputs = inputs.expand(self.members, *inputs.shape)
        return torch.baddbmm(self.bias, inputs, self.weight)


_MEMBER_KEY = re.compile(
    r"q(?P<member>\d+)\.(?P<module>encoder\.body\.(?P<layer>\d+)|head)\.(?P<name>weight|bias)$"
)
_MEMBER_NORMALIZER_KEY = re.compile(
    r"q(?P<member>\d+)\.encoder\.processors\.(?P<index>\d+)\.normalizer\.(?P<name>.+)$"
)


class TwinQEnsemble(nn.Module):
    """The twin action-value networks of :class:`TwinQNetworks` (same layers, same initial weights, same
    outputs) with each dense layer of the pair stacked into one :class:`StackedLinear`: one batched matrix
    product per layer instead of one per network, forward and backward. For vector observations without
    memory.

    The two networks' observation normalizers saw the same observations, so one is kept. Checkpoints written
    by :class:`TwinQNetworks` (keys ``q1.…``, ``q2.…``) load into it.
    """

    MEMBERS = 2

    def __init__(
        self,
        stream_names: Sequence[str],
        observation_specs: Sequence[ObservationSpec],
        settings: NetworkSettings,
        action_spec: ActionSpec,
    ):
        super().__init__()
        self.stream_names = list(stream_names)
        self.outputs = sum(action_spec.discrete_branches) or 1
        sizes = [int(spec.shape[0]) for spec in observation_specs]
        self.normalizers = (
            nn.ModuleList(RunningNormalizer(size, settings.clip_obs) for size in sizes)
            if settings.normalize
            else None
        )
        widths = [sum(sizes) + action_spec.continuous_size] + [settings.hidden_units] * settings.num_layers
        heads = len(self.stream_names) * self.outputs
        members = [  # made network by network, layer by layer, as ActionValueNetwork makes them
            [
                *(nn.Linear(i, o) for i, o in itertools.pairwise(widths)),
                nn.Linear(widths[-1], heads),
            ]
            for _ in range(self.MEMBERS)
        ]
        self.body = nn.ModuleList(StackedLinear(layers) for layers in list(zip(*members, strict=True))[:-1])
        self.head = StackedLinear([layers[-1] for layers in members])
        self.activation = ACTIVATIONS[settings.activation]()
        self.register_load_state_dict_pre_hook(_load_twin_q_networks_keys)

    def forward(
        self, observations: Sequence[torch.Tensor], continuous: torch.Tensor, sequence_length: int = 1
    ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """Per network, per signal: [batch, outputs] (``sequence_length`` is 1: no memory)."""
        hidden = self.body_inputs(observations, continuous)
        for layer in self.body:
            hidden = self.activation(layer(hidden))
        q1, q2 = self.head(hidden).unbind(0)
        return self._per_stream(q1), self._per_stream(q2)

    def body_inputs(self, observations: Sequence[torch.Tensor], continuous: torch.Tensor) -> torch.Tensor:
        """What the first dense layer takes [batch, in]: the (normalised) observations, then the actions."""
        inputs = [obs.reshape(obs.shape[0], -1) for obs in observations]
        if self.normalizers is not None:
            inputs = [normalizer(x) for normalizer, x in zip(self.normalizers, inputs, strict=True)]
        return torch.cat([*inputs, continuous], dim=1)

    def stacked_mlp(self) -> StackedMLP | None:
        """Its dense layers for gradients by hand (:class:`~rldojo.networks.StackedMLP`), or None where the
        activation has no hand-written backward."""
        activation = type(self.activation)
        if activation not in ACTIVATION_FORWARD:
            return None
        body = [cast(StackedLinear, layer) for layer in self.body]
        layers = [DenseLayer(layer.weight, layer.bias, activation) for layer in body]
        return StackedMLP([*layers, DenseLayer(self.head.weight, self.head.bias, None)])

    def stream_parameters(self) -> list[tuple[torch.Tensor, int]]:
        """The stacked head's weight and bias, ``outputs`` columns per signal
        (:class:`~rldojo.networks.StreamHeads`)."""
        return [(self.head.weight, 2), (self.head.bias, 2)]

    def _per_stream(self, q_values: torch.Tensor) -> dict[str, torch.Tensor]:
        if len(self.stream_names) == 1:
            return {self.stream_names[0]: q_values}
        return dict(zip(self.stream_names, q_values.split(self.outputs, dim=1), strict=True))

    def update_normalization(self, observations: Sequence[torch.Tensor]) -> None:
        if self.normalizers is not None:
            for normalizer, obs in zip(self.normalizers, observations, strict=True):
                cast(RunningNormalizer, normalizer).update(obs.reshape(obs.shape[0], -1))

    def stack_adam_state(self, state: dict[str, Any], others: int) -> dict[str, Any]:
        """Adam's ``state_dict`` over [*TwinQNetworks parameters, ``others`` more] as one over
        [*this ensemble's parameters, the same ``others``]; any other state as it is."""
        parameters = list(self.parameters())
        (group,) = state["param_groups"]
        if len(group["params"]) != self.MEMBERS * len(parameters) + others:
            return state
        old = [state["state"].get(index) for index in group["params"]]
        new: list[dict[str, Any] | None] = []
        for index, parameter in enumerate(parameters):
            pair = [old[member * len(parameters) + index] for member in range(self.MEMBERS)]
            if any(member_state is None for member_state in pair):
                new.append(None)
                continue
            first = pair[0]
            assert first is not None
            new.append(
                {
                    key: value
                    if key == "step"
                    else stack_members([member_state[key] for member_state in pair]).reshape_as(parameter)
                    for key, value in first.items()
                }
            )
        new += old[self.MEMBERS * len(parameters) :]
        return {
            "state": {index: s for index, s in enumerate(new) if s is not None},
            "param_groups": [{**group, "params": list(range(len(new)))}],
        }


def _load_twin_q_networks_keys(module: nn.Module, state_dict: dict[str, Any], prefix: str, *_: Any) -> None:
    """Rewrites a :class:`TwinQNetworks` state (``q1.…``, ``q2.…``) in ``state_dict`` as
    :class:`TwinQEnsemble`'s: each layer's pair stacked, the first network's normalizers kept."""
    members: dict[str, dict[int, torch.Tensor]] = {}
    for key in [k for k in state_dict if k.startswith(prefix + "q")]:
        name = key[len(prefix) :]
        if match := _MEMBER_NORMALIZER_KEY.match(name):
            value = state_dict.pop(key)
            if match["member"] == "1":
                state_dict[f"{prefix}normalizers.{match['index']}.{match['name']}"] = value
        elif match := _MEMBER_KEY.match(name):
            layer = f"body.{int(match['layer']) // 2}" if match["layer"] else "head"
            members.setdefault(f"{prefix}{layer}.{match['name']}", {})[int(match["member"])] = state_dict.pop(
                key
            )
    for key, pair in members.items():
        stacked = stack_members([pair[member] for member in sorted(pair)])
        state_dict[key] = stacked.unsqueeze(1) if key.endswith("bias") else stacked


def twin_q_networks(
    stream_names: Sequence[str],
    observation_specs: Sequence[ObservationSpec],
    settings: NetworkSettings,
    action_spec: ActionSpec,
) -> TwinQEnsemble | TwinQNetworks:
    """SAC's twin Q networks: a :class:`TwinQEnsemble` for vector observations without memory, otherwise
    two separate :class:`ActionValueNetwork` (visual encoders and LSTMs are not stacked)."""
    stackable = settings.memory is None and all(len(spec.shape) == 1 for spec in observation_specs)
    kind = TwinQEnsemble if stackable else TwinQNetworks
    return kind(stream_names, observation_specs, settings, action_spec)
