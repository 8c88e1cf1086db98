"""``rldojo evaluate RUN_ID|MODEL.onnx --env SPEC --episodes N [--video PATH]``: returns and episode
lengths of a policy, and optionally a video of the episodes."""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from mlagents_envs.base_env import ActionTuple, BaseEnv, DecisionSteps

from rldojo.commands.checkpoint_arguments import add_checkpoint_arguments
from rldojo.errors import ConfigError
from rldojo.video import VideoRecorder

if TYPE_CHECKING:
    from rldojo.policy import Policy  # imports torch; `rldojo --help` should not


ActFunction = Callable[[DecisionSteps], ActionTuple]


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
        return {bid: partial(model.get_action, spec=spec) for bid, spec in specs.items()}
    saved = {
        s.behavior: s.policy
        for s in load_saved_policies(find_run(args.model, args.results_dir), args.step, args.deterministic)
    }
    missing = sorted({bid.partition("?")[0] for bid in specs} - saved.keys())
    if missing:
        raise ConfigError(
            f"the environment has behaviors {missing} that run '{args.model}' has no checkpoint for "
            f"(it has {sorted(saved)}); evaluate it in the environment it was trained in"
        )
    return {bid: partial(policy_env_action, saved[bid.partition("?")[0]]) for bid in specs}


def policy_env_action(policy: Policy, decision_steps: DecisionSteps) -> ActionTuple:
    """The actions ``policy`` takes for ``decision_steps``, as the env takes them."""
    return policy.get_action(decision_steps).env_action


def run_episodes(
    env: BaseEnv,
    act_functions: dict[str, ActFunction],
    episodes: int,
    after_step: Callable[[], None] | None = None,
) -> dict[str, tuple[list[float], list[int]]]:
    """Returns and lengths (decisions) of the first ``episodes`` finished episodes of each behavior name.

    ``after_step`` runs once before the first step and after each ``env.step()`` (to record frames).
    """
    finished: dict[str, tuple[list[float], list[int]]] = defaultdict(lambda: ([], []))
    running_return: dict[tuple[str, int], float] = defaultdict(float)
    running_length: dict[tuple[str, int], int] = defaultdict(int)
    names = {bid.partition("?")[0] for bid in act_functions}
    if after_step is not None:
        after_step()
    while any(len(finished[name][0]) < episodes for name in names):
        for behavior_name, act in act_functions.items():
            decision_steps, terminal_steps = env.get_steps(behavior_name)
            returns, lengths = finished[behavior_name.partition("?")[0]]
            for agent_id in terminal_steps.agent_id:
                key = (behavior_name, int(agent_id))
                returns.append(running_return.pop(key, 0.0) + float(terminal_steps[agent_id].reward))
                lengths.append(running_length.pop(key, 0))
            for agent_id in decision_steps.agent_id:
                key = (behavior_name, int(agent_id))
                running_return[key] += float(decision_steps[agent_id].reward)
                running_length[key] += 1
            if len(decision_steps):
                env.set_actions(behavior_name, act(decision_steps))
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
