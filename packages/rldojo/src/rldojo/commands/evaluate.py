"""``rldojo evaluate RUN_ID|MODEL.onnx --env SPEC --episodes N [--video PATH]``: returns and episode
lengths of a policy, and optionally a video of the episodes."""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from mlagents_envs.base_env import ActionTuple, BaseEnv, BehaviorSpec, DecisionSteps

from rldojo.commands.checkpoint_arguments import add_checkpoint_arguments
from rldojo.errors import ConfigError
from rldojo.settings.run import behavior_name_of
from rldojo.video import VideoRecorder

if TYPE_CHECKING:
    from rldojo.export.onnx_policy import OnnxPolicy
    from rldojo.policy import Policy  # imports torch; `rldojo --help` should not


ActFunction = Callable[[DecisionSteps], ActionTuple]
MemoryAct = Callable[[DecisionSteps, "np.ndarray | None"], "tuple[ActionTuple, np.ndarray | None]"]


class AgentMemories:
    """An :data:`ActFunction` for a model with memory (``memory_size`` > 0): it carries each agent's memory
    from one decision to the next and drops it when the agent's episode ends (:meth:`end_episodes`), so
    every episode starts from zeros. ``act(decision_steps, memories)`` returns actions and next memories."""

    def __init__(self, act: MemoryAct, memory_size: int):
        self.act = act
        self.memory_size = memory_size
        self._memories: dict[int, np.ndarray] = {}

    def __call__(self, decision_steps: DecisionSteps) -> ActionTuple:
        agents = [int(agent_id) for agent_id in decision_steps.agent_id]
        zeros = np.zeros(self.memory_size, np.float32)
        memories = np.stack([self._memories.get(agent, zeros) for agent in agents]) if agents else None
        action, next_memories = self.act(decision_steps, memories)
        assert next_memories is not None, "a model with memory returns its next memories"
        self._memories.update(zip(agents, next_memories, strict=True))
        return action

    def end_episodes(self, agent_ids: np.ndarray) -> None:
        for agent_id in agent_ids:
            self._memories.pop(int(agent_id), None)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="run a trained policy (checkpoint or ONNX) and report its returns",
        description="Run a policy for N episodes per behavior, from a run's checkpoint (RUN_ID) or from an "
        "ONNX model through onnxruntime (MODEL.onnx, used for every behavior), and print mean, std, min "
        "and max of the return and of the episode length per behavior.",
    )
    parser.add_argument("model", metavar="RUN_ID|MODEL.onnx", help="a run id or an exported .onnx file")
    parser.add_argument("--env", required=True, help="env spec (sim:Basic, gym:CartPole-v1) or build path")
    parser.add_argument("--episodes", type=_positive, default=10, help="episodes per behavior (default 10)")
    parser.add_argument("--deterministic", action="store_true", help="take the most likely action")
    parser.add_argument("--seed", type=int, default=0, help="environment and sampling seed (default 0)")
    parser.add_argument(
        "--video",
        type=Path,
        metavar="PATH",
        help="also record the episodes as a video (e.g. eval.mp4; 25 frames/s, one per decision) from an "
        "environment that draws frames (sim:<Scene>); needs moviepy: pip install 'rldojo[video]'",
    )
    add_checkpoint_arguments(parser)  # with RUN_ID
    parser.set_defaults(command_function=run)


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {value!r}")
    return int(value)


def _act_functions(args: argparse.Namespace, env: BaseEnv) -> dict[str, ActFunction]:
    """One act function per behavior name of ``env``, from the ONNX model or the run's checkpoints."""
    from rldojo.export.onnx_policy import OnnxPolicy
    from rldojo.export.saved_policy import find_run, load_saved_policies

    specs = env.behavior_specs
    if args.model.endswith(".onnx"):
        model = OnnxPolicy(Path(args.model), args.deterministic)
        for behavior_name, spec in specs.items():
            model.check(behavior_name, spec)
        return {bid: onnx_act_function(model, spec) for bid, spec in specs.items()}
    saved = {
        s.behavior: s.policy
        for s in load_saved_policies(find_run(args.model, args.results_dir), args.step, args.deterministic)
    }
    missing = sorted({behavior_name_of(bid) for bid in specs} - saved.keys())
    if missing:
        raise ConfigError(
            f"the environment has behaviors {missing} that run '{args.model}' has no checkpoint for "
            f"(it has {sorted(saved)}); evaluate it in the environment it was trained in"
        )
    return {bid: policy_act_function(saved[behavior_name_of(bid)]) for bid in specs}


def policy_act_function(policy: Policy) -> ActFunction:
    """The actions ``policy`` takes, as the env takes them (memories carried per agent, if it has any)."""

    def act(
        decision_steps: DecisionSteps, memories: np.ndarray | None
    ) -> tuple[ActionTuple, np.ndarray | None]:
        info = policy.get_action(decision_steps, memories)
        return info.env_action, info.next_memories

    return AgentMemories(act, policy.memory_size) if policy.memory_size else lambda steps: act(steps, None)[0]


def onnx_act_function(model: OnnxPolicy, spec: BehaviorSpec) -> ActFunction:
    """The actions of an ONNX ``model`` for a behavior of ``spec`` (memories carried, if it has any)."""

    def act(
        decision_steps: DecisionSteps, memories: np.ndarray | None
    ) -> tuple[ActionTuple, np.ndarray | None]:
        return model.act(decision_steps, spec, memories)

    return AgentMemories(act, model.memory_size) if model.memory_size else lambda steps: act(steps, None)[0]


def run_episodes(
    env: BaseEnv,
    act_functions: dict[str, ActFunction],
    episodes: int,
    after_step: Callable[[], None] | None = None,
) -> dict[str, tuple[list[float], list[int]]]:
    """Returns and lengths (decisions) of the first ``episodes`` finished episodes of each behavior name
    (an agent's memory, with :class:`AgentMemories`, is dropped when its episode ends).

    ``after_step`` runs once before the first step and after each ``env.step()`` (to record frames).
    """
    finished: dict[str, tuple[list[float], list[int]]] = defaultdict(lambda: ([], []))
    running_return: dict[tuple[str, int], float] = defaultdict(float)
    running_length: dict[tuple[str, int], int] = defaultdict(int)
    names = {behavior_name_of(bid) for bid in act_functions}
    if after_step is not None:
        after_step()
    while any(len(finished[name][0]) < episodes for name in names):
        for behavior_id, act in act_functions.items():
            decision_steps, terminal_steps = env.get_steps(behavior_id)
            returns, lengths = finished[behavior_name_of(behavior_id)]
            for agent_id in terminal_steps.agent_id:
                key = (behavior_id, int(agent_id))
                returns.append(running_return.pop(key, 0.0) + float(terminal_steps[agent_id].reward))
                lengths.append(running_length.pop(key, 0))
            if isinstance(act, AgentMemories):
                act.end_episodes(terminal_steps.agent_id)
            for agent_id in decision_steps.agent_id:
                key = (behavior_id, int(agent_id))
                running_return[key] += float(decision_steps[agent_id].reward)
                running_length[key] += 1
            if len(decision_steps):
                env.set_actions(behavior_id, act(decision_steps))
        env.step()
        if after_step is not None:
            after_step()
    return {name: (finished[name][0][:episodes], finished[name][1][:episodes]) for name in sorted(names)}


def summary_lines(results: dict[str, tuple[list[float], list[int]]]) -> list[str]:
    header = (
        f"{'behavior':<16} {'quantity':<14} {'episodes':>8} {'mean':>10} {'std':>10} {'min':>10} {'max':>10}"
    )
    lines = [header]
    for name, (returns, lengths) in results.items():
        for quantity, values in (("return", returns), ("episode length", lengths)):
            array = np.asarray(values, dtype=np.float64)
            lines.append(
                f"{name:<16} {quantity:<14} {len(array):>8} {array.mean():>10.4f} {array.std():>10.4f} "
                f"{array.min():>10.4f} {array.max():>10.4f}"
            )
    return lines


def run(args: argparse.Namespace) -> int:
    import torch
    from mlagents_envs.side_channel.stats_side_channel import StatsSideChannel

    from rldojo.envs import create_env

    torch.manual_seed(args.seed)
    recorder = VideoRecorder(args.video) if args.video else None
    # the environment's custom stats are not part of the report; the channel only receives them
    env = create_env(args.env, seed=args.seed, side_channels=[StatsSideChannel()], no_graphics=True)
    try:
        env.reset()
        record = None if recorder is None else _frame_recorder(env, args.env, recorder)
        results = run_episodes(env, _act_functions(args, env), args.episodes, after_step=record)
    finally:
        env.close()
        if recorder is not None:
            recorder.close()
    print("\n".join(summary_lines(results)))
    if recorder is not None and recorder.size is not None:
        width, height = recorder.size
        print(f"video: {recorder.path} ({recorder.frames} frames of {width}x{height} pixels)")
    return 0


def _frame_recorder(env: BaseEnv, spec: str, recorder: VideoRecorder) -> Callable[[], None]:
    """A function adding the environment's current picture to the video."""
    render = getattr(env, "render", None)
    if not callable(render):
        raise ConfigError(
            f"--video needs an environment that draws frames, such as sim:<Scene>; {spec} draws none"
        )
    return lambda: recorder.add(np.asarray(render()))
