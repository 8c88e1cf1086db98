"""OffPolicyTrainer: a replay buffer of transitions, and updates every ``steps_per_update`` environment steps
(ML-Agents) or in bursts of ``gradient_steps`` every ``train_freq`` steps or episodes (SB3)."""

from __future__ import annotations

from typing import Any, TypeVar

from rldojo.buffer import ReplayBuffer, padded_sequences
from rldojo.settings import OffPolicyHyperparamSettings, TrainFrequencyUnit
from rldojo.trainers.optimizer import PolicyT
from rldojo.trainers.rl_trainer import RLTrainer
from rldojo.trajectory import Trajectory

__all__ = ["OffPolicySettingsT", "OffPolicyTrainer"]

OffPolicySettingsT = TypeVar("OffPolicySettingsT", bound=OffPolicyHyperparamSettings)


class OffPolicyTrainer(RLTrainer[OffPolicySettingsT, PolicyT]):
    """Base of off-policy trainers (SAC, DQN). :meth:`transitions` of each trajectory go to a preallocated
    :class:`ReplayBuffer` (saved in checkpoints when ``save_replay_buffer``); once ``buffer_init_steps``
    are collected, the optimizer gets one sampled batch of ``batch_size`` per ``steps_per_update`` steps, or
    ``gradient_steps`` of them at the end of every ``train_freq`` period.

    With ``network_settings.memory`` the buffer holds whole sequences of ``sequence_length`` (each
    trajectory padded, ``sequence_mask`` marking its real steps, ``memories`` the policy's memory per step;
    its capacity rounded down to whole sequences) and a batch is ``batch_size // sequence_length`` sampled
    sequences.

    A subclass implements :meth:`create_policy` and :meth:`create_optimizer`, and may extend
    :meth:`transitions` with columns of its own.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        memory = self.trainer_settings.network_settings.memory
        self.sequence_length = memory.sequence_length if memory is not None else 1
        capacity = max(self.hyperparameters.buffer_size // self.sequence_length, 1) * self.sequence_length
        self.replay_buffer = ReplayBuffer(capacity)
        self.update_steps = 1
        self.reward_signal_update_steps = 1
        self.train_periods = 0
        """``train_freq`` periods whose burst is done (or skipped: ended before ``buffer_init_steps``)."""
        self.episodes_since_start = 0
        """Episodes finished after ``buffer_init_steps`` (what ``train_freq`` in episodes counts)."""
        self.last_burst_step = 0
        self.checked_step = -1
        """The step at the last :meth:`_update_policy`: until more steps are counted, none is due."""

    def _process_trajectory(self, trajectory: Trajectory) -> None:
        """Normalizers follow the observations; the trajectory's transitions join the replay buffer. Reward
        signals are evaluated for the episode stats only: updates evaluate them on each sampled batch."""
        assert self.policy is not None and self.optimizer is not None
        columns = self.transitions(trajectory) if self.is_training else None
        self.evaluate_reward_signals(trajectory, columns)
        if trajectory.done_reached and self._step > self.hyperparameters.buffer_init_steps:
            self.episodes_since_start += 1
        if self.is_training:
            self.policy.update_normalization(trajectory.obs)
            self.optimizer.update_normalization(self.policy.to_tensors(trajectory.obs))
            assert columns is not None
            if trajectory.memories is not None:
                columns["memories"] = trajectory.memories
                columns = padded_sequences(columns, self.sequence_length)
            self.replay_buffer.add(columns)

    def transitions(self, trajectory: Trajectory) -> dict[str, Any]:
        """Replay-buffer columns of one trajectory, each [T, ...]: ``obs_<i>``, ``next_obs_<i>``,
        ``continuous_actions``, ``discrete_actions``, ``action_masks``, ``rewards`` and ``dones`` (1 only
        where the episode terminated, never where it was truncated). Override to add columns (while
        training, the reward signals read their columns from these too)."""
        return trajectory.transitions()

    def _is_ready_update(self) -> bool:
        """Steps were counted since the last update, a batch is in the replay buffer and
        ``buffer_init_steps`` were collected."""
        return (
            self._step != self.checked_step
            and self.replay_buffer.num_experiences >= self.hyperparameters.batch_size
            and self._step >= self.hyperparameters.buffer_init_steps
        )

    def _update_policy(self) -> bool:
        """The updates that are due (:meth:`_due_updates`), each one sampled batch to ``optimizer.update``;
        reward signals other than ``extrinsic`` learn from their own batches, one per
        ``reward_signal_steps_per_update`` steps."""
        assert self.policy is not None and self.optimizer is not None
        hp = self.hyperparameters
        self.checked_step = self._step
        stats = []
        for batch in self._sample_burst(self._due_updates()):
            stats.append(self.optimizer.update(batch, self._step))
            self.update_steps += 1
        self._report_update_stats(stats)
        if self.optimizer.has_intrinsic_signals:
            signal_stats = []
            steps = self._step - hp.buffer_init_steps
            while steps / self.reward_signal_update_steps > hp.reward_signal_steps_per_update:
                signal_stats.append(self.optimizer.update_reward_signals(self._sample()))
                self.reward_signal_update_steps += 1
            self._report_update_stats(signal_stats)
        return bool(stats)

    def _sample(self, count: int = 1) -> dict[str, Any]:
        """``count`` batches in one: ``count * batch_size`` transitions, or with memory ``count *
        (batch_size // sequence_length)`` whole sequences."""
        assert self.policy is not None
        batch_size = self.hyperparameters.batch_size
        if self.policy.memory_size:
            sequences = max(batch_size // self.sequence_length, 1)
            sample = self.replay_buffer.sample_sequences(count * sequences, self.sequence_length)
        else:
            sample = self.replay_buffer.sample(count * batch_size)
        if self.policy.device.type == "cpu":  # where the replay buffer is: no .to() per column
            return sample
        return {key: column.to(self.policy.device) for key, column in sample.items()}

    def _sample_burst(self, count: int) -> list[dict[str, Any]]:
        """The batches of ``count`` gradient steps, drawn together: one index draw and one gather per column
        for the burst (the replay buffer does not change within it, so each batch is drawn as if on its
        own), passed once through the optimizer's :meth:`~rldojo.trainers.Optimizer.prepare_burst`, then
        split into ``count`` batches (views)."""
        assert self.optimizer is not None
        if count == 0:
            return []
        burst = self.optimizer.prepare_burst(self._sample(count), count)
        parts = {key: column.chunk(count) for key, column in burst.items()}
        return [{key: column[index] for key, column in parts.items()} for index in range(count)]

    def _due_updates(self) -> int:
        """Without ``train_freq``: one per ``steps_per_update`` steps since ``buffer_init_steps``. With it:
        ``gradient_steps`` per ``train_freq`` period completed since the last burst; periods that ended before
        ``buffer_init_steps`` have none (SB3 trains only past ``learning_starts``)."""
        hp = self.hyperparameters
        if hp.train_freq is None:
            since_start = self._step - hp.buffer_init_steps
            # the smallest count with since_start / (update_steps + count) <= steps_per_update
            due = 0
            while since_start / (self.update_steps + due) > hp.steps_per_update:
                due += 1
            return due
        if hp.train_freq.unit is TrainFrequencyUnit.EPISODE:
            periods = self.episodes_since_start // hp.train_freq.every
        else:
            periods = max(0, self._step // hp.train_freq.every - hp.buffer_init_steps // hp.train_freq.every)
        bursts, self.train_periods = periods - self.train_periods, periods
        if bursts <= 0:
            return 0
        steps_in_bursts = self._step - max(self.last_burst_step, hp.buffer_init_steps)
        self.last_burst_step = self._step
        return steps_in_bursts if hp.gradient_steps == -1 else bursts * (hp.gradient_steps or 1)

    def _trainer_state(self) -> dict[str, Any]:
        """The update count and, with ``save_replay_buffer``, the replay buffer; extend with ``super()``."""
        buffer = self.replay_buffer.state_dict() if self.hyperparameters.save_replay_buffer else None
        return {
            "update_steps": self.update_steps,
            "reward_signal_update_steps": self.reward_signal_update_steps,
            "train_periods": self.train_periods,
            "episodes_since_start": self.episodes_since_start,
            "last_burst_step": self.last_burst_step,
            "replay_buffer": buffer,
        }

    def _load_trainer_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`_trainer_state` saved; extend with ``super()``."""
        self.update_steps = int(state["update_steps"])
        self.reward_signal_update_steps = int(state.get("reward_signal_update_steps", self.update_steps))
        # checkpoints written before train_freq existed lack the last three
        self.train_periods = int(state.get("train_periods", 0))
        self.episodes_since_start = int(state.get("episodes_since_start", 0))
        self.last_burst_step = int(state.get("last_burst_step", 0))
        if state.get("replay_buffer") is not None:
            self.replay_buffer.load_state_dict(state["replay_buffer"])
