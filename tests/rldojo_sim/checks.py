"""Checks shared by the rldojo-sim tests."""

from __future__ import annotations

from mlagents_envs.base_env import DecisionSteps, TerminalSteps


class EpisodeChecker:
    """Checks that successive DecisionSteps/TerminalSteps of one behavior tell a consistent story."""

    def __init__(self, num_agents: int, max_steps: int, agents_join_late: bool = False) -> None:
        self.num_agents = num_agents
        self.max_steps = max_steps
        self.agents_join_late = agents_join_late
        """An agent may join a running group episode, and be interrupted with it before max_steps."""
        self.lengths: dict[int, int] = {}
        self.terminated = self.interrupted = 0

    def check(self, decisions: DecisionSteps, terminals: TerminalSteps) -> None:
        assert len(decisions) == self.num_agents
        previous = set(self.lengths)
        ended = set(terminals.agent_id.tolist())
        assert ended <= previous, "a terminal agent must have requested a decision before"
        current = set(decisions.agent_id.tolist())
        assert previous - ended <= current, "a running agent disappeared"
        if previous:
            assert len(current - previous) == len(ended), "each ended episode starts exactly one new one"
        for agent, interrupted in zip(
            terminals.agent_id.tolist(), terminals.interrupted.tolist(), strict=True
        ):
            length = self.lengths.pop(agent) + 1  # decisions taken in the episode, counting this last one
            assert length <= self.max_steps
            assert length == self.max_steps or not interrupted or self.agents_join_late
            self.interrupted += interrupted
            self.terminated += not interrupted
        for agent in current:
            self.lengths[agent] = self.lengths.get(agent, -1) + 1
