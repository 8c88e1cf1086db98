"""Benchmark every rldojo-sim scene in process and as a launched build over gRPC.

Prints, per scene: agent-steps per second in process and over gRPC, exchanges per second over
gRPC, their ratio, and where one gRPC exchange's time goes:

- player sim / player encode: the Academy step and the FrameEncoder (measured by repeating the
  player's work for the same actions without gRPC),
- protobuf: serialising and parsing the step messages both ways (also replayed offline),
- mlagents_envs: Python-side work in ``UnityEnvironment.step`` outside ``communicator.exchange``
  (building the action message, ``steps_from_proto``, side channels; from mlagents_envs' timers),
- pipe: mlagents_envs hands every message between its gRPC worker thread and its main thread
  through a ``multiprocessing.Pipe`` (pickling the message); measured as a two-thread ping-pong of
  the scene's real step messages. Rows marked ``(rldojo-unity)`` use rldojo-unity's trainer server
  (``LoopbackUnityEnvironment``), whose in-process handoff replaces that pipe (measured the same way),
- gRPC: the rest of ``communicator.exchange``: gRPC on both ends and thread scheduling.

A row ``Basic (minimal player)`` runs a 40-line hand-written player of Basic as the floor that
mlagents_envs and gRPC allow on this machine right now (the issue's anchor: 762 exchanges/s).

Each figure is the fastest of ``--repeats`` measurements, since other work on the machine only
ever slows a run down.

Usage: ``uv run --frozen python scripts/bench_envs.py [--steps 1000] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from mlagents_envs.base_env import ActionTuple, BaseEnv
from mlagents_envs.communicator_objects.agent_action_pb2 import AgentActionProto
from mlagents_envs.communicator_objects.header_pb2 import HeaderProto
from mlagents_envs.communicator_objects.unity_message_pb2 import UnityMessageProto
from mlagents_envs.environment import UnityEnvironment
from mlagents_envs.side_channel.stats_side_channel import StatsSideChannel
from mlagents_envs.timers import get_timer_tree, reset_timers

import rldojo_sim
from rldojo_sim.academy import Academy
from rldojo_sim.wire import FrameEncoder, decode_actions
from rldojo_unity.environment import LoopbackUnityEnvironment
from rldojo_unity.handoff import endpoint_pair
from rldojo_unity.ports import lease_port

MINIMAL_PLAYER = """#!{python}
import sys, grpc
from mlagents_envs.communicator_objects.unity_to_external_pb2_grpc import UnityToExternalProtoStub
from mlagents_envs.communicator_objects.unity_message_pb2 import UnityMessageProto
port = int(sys.argv[sys.argv.index("--mlagents-port") + 1])
exchange = UnityToExternalProtoStub(grpc.insecure_channel(f"localhost:{{port}}")).Exchange
hello = UnityMessageProto()
hello.header.status = 200
init = hello.unity_output.rl_initialization_output
init.name, init.communication_version, init.package_version = "AcademySingleton", "1.5.0", "0"
init.capabilities.baseRLCapabilities = True
exchange(hello, wait_for_ready=True)
empty = UnityMessageProto()
empty.header.status = 200
reply, position, episode, first = exchange(empty), 10, 0, True
while reply.header.status == 200 and reply.unity_input.rl_input.command != 2:
    rl_input, reward, done = reply.unity_input.rl_input, 0.0, False
    if rl_input.command == 1:
        position = 10
    else:
        position += (0, -1, 1)[rl_input.agent_actions["Basic?team=0"].value[0].discrete_actions[0]]
        reward, done = -0.01 + (0.1 if position == 7 else 1.0 if position == 17 else 0.0), position in (7, 17)
    out = UnityMessageProto()
    out.header.status = 200
    infos = out.unity_output.rl_output.agentInfos["Basic?team=0"].value
    for final in ([True, False] if done else [False]):
        info = infos.add(reward=reward if final or not done else 0.0, done=final, id=episode)
        obs = info.observations.add(shape=[20], dimension_properties=[1], name="Basic")
        obs.float_data.data.extend([1.0 if i == position else 0.0 for i in range(20)])
        if final:
            position, episode = 10, episode + 1
    if first:
        brain = out.unity_output.rl_initialization_output.brain_parameters.add(brain_name="Basic?team=0")
        brain.is_training, first = True, False
        brain.action_spec.num_discrete_actions = 1
        brain.action_spec.discrete_branch_sizes.append(3)
    reply = exchange(out)
"""


@dataclass
class GrpcRun:
    agent_steps_per_s: float
    exchanges_per_s: float
    step_ms: float
    """mean UnityEnvironment.step time"""
    exchange_ms: float
    """mean communicator.exchange time within it"""


@dataclass
class PlayerCost:
    sim_ms: float
    encode_ms: float
    protobuf_ms: float


def action_plan(scene: str, steps: int) -> list[dict[str, ActionTuple]]:
    """Random actions for every decision of ``steps`` steps (all areas decide at every step)."""
    env = rldojo_sim.make_env(scene)
    env.reset()
    np.random.seed(0)
    return [
        {
            name: spec.action_spec.random_action(len(env.get_steps(name)[0]))
            for name, spec in env.behavior_specs.items()
        }
        for _ in range(steps)
    ]


def play(env: BaseEnv, plan: list[dict[str, ActionTuple]]) -> tuple[float, int]:
    """Seconds to play ``plan`` on a reset ``env``, and the agent steps taken."""
    env.reset()
    agent_steps = 0
    started = time.perf_counter()
    for actions in plan:
        for name, action in actions.items():
            env.set_actions(name, action)
            agent_steps += len(action.continuous)
        env.step()
    return time.perf_counter() - started, agent_steps


def in_process_rate(scene: str, plan: list[dict[str, ActionTuple]], repeats: int) -> float:
    env = rldojo_sim.make_env(scene)
    seconds, agent_steps = min(play(env, plan) for _ in range(repeats))
    return agent_steps / seconds


@dataclass(frozen=True)
class Player:
    """One way of serving a scene over gRPC: a launcher and its extra arguments."""

    label: str
    launcher: Path
    extra_args: tuple[str, ...] = ()
    compress_visual: bool = True
    is_rldojo_sim: bool = True
    environment_class: type[UnityEnvironment] = UnityEnvironment


def grpc_runs(players: list[Player], plan: list[dict[str, ActionTuple]], repeats: int) -> dict[str, GrpcRun]:
    """Play ``plan`` on every player, all launched at once and measured in turns, so that they share load."""
    leases = [lease_port(start=21000 + 10 * index) for index in range(len(players))]
    envs = []
    try:
        for player, lease in zip(players, leases, strict=True):
            envs.append(
                player.environment_class(
                    str(player.launcher),
                    base_port=lease.port,
                    no_graphics=True,
                    side_channels=[StatsSideChannel()],
                    additional_args=list(player.extra_args),
                )
            )
        runs: dict[str, list[tuple[float, int, dict]]] = {player.label: [] for player in players}
        for _ in range(repeats):
            for player, env in zip(players, envs, strict=True):
                reset_timers()
                seconds, agent_steps = play(env, plan)
                runs[player.label].append((seconds, agent_steps, get_timer_tree()["children"]))
    finally:
        for env in envs:
            env.close()
        for lease in leases:
            lease.release()
    return {
        label: _grpc_run(len(plan), *min(measured, key=lambda run: run[0]))
        for label, measured in runs.items()
    }


def _grpc_run(exchanges: int, seconds: float, agent_steps: int, tree: dict) -> GrpcRun:
    step = tree["UnityEnvironment.step"]
    exchange = step["children"]["communicator.exchange"]
    return GrpcRun(
        agent_steps / seconds,
        exchanges / seconds,
        1000 * step["total"] / step["count"],
        1000 * exchange["total"] / exchange["count"],
    )


def step_input(actions: dict[str, ActionTuple]) -> bytes:
    """The serialised STEP message UnityEnvironment sends for ``actions``."""
    message = UnityMessageProto(header=HeaderProto(status=200))
    rl_input = message.unity_input.rl_input
    for name, action in actions.items():
        for row in range(len(action.continuous)):
            rl_input.agent_actions[name].value.append(
                AgentActionProto(
                    continuous_actions=action.continuous[row].tolist(),
                    discrete_actions=action.discrete[row].tolist(),
                )
            )
    return message.SerializeToString()


def player_cost(
    scene: str, plan: list[dict[str, ActionTuple]], compress_visual: bool, repeats: int
) -> PlayerCost:
    """The cheapest of ``repeats`` replays of the player's work for ``plan`` without gRPC."""
    costs = [_replay_player(scene, plan, compress_visual) for _ in range(repeats)]
    return min(costs, key=lambda cost: cost.sim_ms + cost.encode_ms + cost.protobuf_ms)


def _replay_player(scene: str, plan: list[dict[str, ActionTuple]], compress_visual: bool) -> PlayerCost:
    """Parse, decode, step, encode and serialise as the player does for ``plan``."""
    academy = Academy(scene, 0)
    encoder = FrameEncoder(academy.behavior_specs, compress_visual)
    encoder.encode(academy.reset())
    inputs = [step_input(actions) for actions in plan]
    decisions = {name: academy.scene.num_areas for name in academy.behavior_specs}
    sim = encode = protobuf = 0.0
    for data in inputs:
        t0 = time.perf_counter()
        rl_input = UnityMessageProto.FromString(data).unity_input.rl_input
        t1 = time.perf_counter()
        frame = academy.step(decode_actions(rl_input, academy.behavior_specs, decisions))
        t2 = time.perf_counter()
        message = encoder.encode(frame)
        t3 = time.perf_counter()
        UnityMessageProto.FromString(
            message.SerializeToString()
        )  # the player's serialisation + Python's parse
        t4 = time.perf_counter()
        sim, encode, protobuf = sim + t2 - t1, encode + t3 - t2, protobuf + (t1 - t0) * 2 + t4 - t3
    n = len(inputs)
    return PlayerCost(1000 * sim / n, 1000 * encode / n, 1000 * protobuf / n)


def pipe_round_trip_ms(
    scene: str, repeats: int, connect: Callable[[], tuple] = multiprocessing.Pipe, rounds: int = 1000
) -> float:
    """A step message there and its reply back between two threads through ``connect()``'s ends."""
    academy = Academy(scene, 0)
    encoder = FrameEncoder(academy.behavior_specs)
    encoder.encode(academy.reset())
    actions = action_plan(scene, 1)[0]
    output = encoder.encode(academy.step(actions))
    reply = UnityMessageProto.FromString(step_input(actions))
    parent, child = connect()

    def serve() -> None:
        for _ in range(rounds):
            child.recv()
            child.send(reply)

    best = float("inf")
    for _ in range(repeats):
        server = threading.Thread(target=serve)
        server.start()
        started = time.perf_counter()
        for _ in range(rounds):
            parent.send(output)
            parent.recv()
        best = min(best, time.perf_counter() - started)
        server.join()
    return 1000 * best / rounds


@dataclass
class Row:
    label: str
    agents: int
    in_process: float | None
    grpc: GrpcRun
    cost: PlayerCost | None
    pipe_ms: float


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def format_table(rows: list[Row]) -> str:
    header = (
        f"{'scene':24s} {'agents':>6s} {'in-proc agent-steps/s':>21s} {'gRPC agent-steps/s':>18s} "
        f"{'gRPC exch/s':>11s} {'ratio':>6s} {'ms/exch':>7s} | {'sim':>6s} {'encode':>6s} "
        f"{'protobuf':>8s} {'mlagents':>8s} {'pipe':>6s} {'gRPC':>6s}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        run, cost = row.grpc, row.cost
        player_ms = cost.sim_ms + cost.encode_ms + cost.protobuf_ms if cost else 0.0
        in_process = "-" if row.in_process is None else f"{row.in_process:,.0f}"
        ratio = "-" if row.in_process is None else f"{row.in_process / run.agent_steps_per_s:.1f}"
        sim, encode, protobuf = (
            (cost.sim_ms, cost.encode_ms, cost.protobuf_ms) if cost else (None, None, None)
        )
        lines.append(
            f"{row.label:24s} {row.agents:6d} {in_process:>21s} {run.agent_steps_per_s:18,.0f} "
            f"{run.exchanges_per_s:11,.0f} {ratio:>6s} {run.step_ms:7.3f} | "
            f"{_ms(sim):>6s} {_ms(encode):>6s} {_ms(protobuf):>8s} "
            f"{run.step_ms - run.exchange_ms:8.3f} {row.pipe_ms:6.3f} "
            f"{run.exchange_ms - player_ms - row.pipe_ms:6.3f}"
        )
    lines.append(
        "ratio = in-process / gRPC agent-steps per second; columns after | are ms per exchange: player sim, "
        "player encode, protobuf (both ways), mlagents_envs (Python side), its thread pipe, gRPC (the rest)"
    )
    return "\n".join(lines)


def _minimal_player(folder: Path) -> Path:
    launcher = folder / "minimal" / "Basic.x86_64"
    launcher.parent.mkdir()
    launcher.write_text(MINIMAL_PLAYER.format(python=sys.executable))
    launcher.chmod(0o755)
    return launcher


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--steps", type=int, default=1000, help="decisions per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="measurements per figure; the fastest is kept")
    parser.add_argument("--scenes", nargs="*", default=rldojo_sim.scene_names())
    args = parser.parse_args()
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")  # the minimal player's shutdown chatter
    rows = []
    with tempfile.TemporaryDirectory() as builds:
        for scene in args.scenes:
            launcher = rldojo_sim.build(scene, Path(builds) / scene)
            players = [Player(scene, launcher)]
            if scene == "GridWorld":
                raw = ("--visual-compression", "none")
                players.append(Player(f"{scene} (raw floats)", launcher, raw, compress_visual=False))
            if scene == "Basic":
                players.append(
                    Player("Basic (minimal player)", _minimal_player(Path(builds)), is_rldojo_sim=False)
                )
            players.append(
                Player(f"{scene} (rldojo-unity)", launcher, environment_class=LoopbackUnityEnvironment)
            )
            plan = action_plan(scene, args.steps)
            agents = sum(len(action.continuous) for action in plan[0].values())
            in_process = in_process_rate(scene, plan, args.repeats)
            pipe_ms = {
                UnityEnvironment: pipe_round_trip_ms(scene, args.repeats),
                LoopbackUnityEnvironment: pipe_round_trip_ms(scene, args.repeats, endpoint_pair),
            }
            runs = grpc_runs(players, plan, args.repeats)
            for player in players:
                cost = (
                    player_cost(scene, plan, player.compress_visual, args.repeats)
                    if player.is_rldojo_sim
                    else None
                )
                rows.append(
                    Row(
                        player.label,
                        agents,
                        in_process if cost else None,
                        runs[player.label],
                        cost,
                        pipe_ms[player.environment_class],
                    )
                )
            print(f"measured {scene}", flush=True)
    print(format_table(rows))


if __name__ == "__main__":
    main()
