"""The launched "Unity player": a gRPC client that runs one scene against ``UnityEnvironment``.

Started by a build's launcher as ``<Name>.x86_64 [-nographics -batchmode] --mlagents-port P
[-logFile F] [scene options] [fault options]``. It connects to the trainer's server, performs the
handshake, then answers RESET / STEP until QUIT, a status-400 message, a lost connection, or the
death of the process that launched it.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Sequence

import grpc
from mlagents_envs.communicator_objects.command_pb2 import QUIT, RESET
from mlagents_envs.communicator_objects.unity_message_pb2 import UnityMessageProto
from mlagents_envs.communicator_objects.unity_to_external_pb2_grpc import UnityToExternalProtoStub

from rldojo_sim.academy import Academy, Frame
from rldojo_sim.errors import SimError
from rldojo_sim.faults import Faults
from rldojo_sim.scenes import parse_scene_options, scene_class, scene_options
from rldojo_sim.wire import (
    STATUS_OK,
    FrameEncoder,
    close_message,
    decode_actions,
    initialization_message,
    ok_message,
)

logger = logging.getLogger("rldojo_sim.player")

CONNECT_TIMEOUT_S = 60.0
# gRPC codes meaning the trainer closed or vanished after the handshake: a normal end for a player.
TRAINER_GONE = (grpc.StatusCode.CANCELLED, grpc.StatusCode.UNAVAILABLE)
FAREWELL_TIMEOUT_S = 1.0
PARENT_POLL_S = 0.5


def _log_file_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("-logFile", "-logfile", dest="log_file")
    return parser


def parse_arguments(argv: Sequence[str]) -> tuple[argparse.Namespace, dict[str, object], Faults]:
    """Split a player command line into Unity flags, scene options and faults."""
    parser = argparse.ArgumentParser(
        prog="rldojo-sim player", parents=[_log_file_parser()], allow_abbrev=False
    )
    parser.add_argument("--scene", required=True)
    parser.add_argument("--mlagents-port", type=int, required=True)
    parser.add_argument("-nographics", action="store_true")
    parser.add_argument("-batchmode", action="store_true")
    parser.add_argument("--visual-compression", choices=["png", "none"], default="png")
    parser.add_argument(
        "--step-delay-ms",
        type=float,
        default=0.0,
        metavar="MS",
        help="time each step takes on top of the simulation, as in a heavy Unity scene (benchmarks)",
    )
    Faults.add_arguments(parser)
    known, rest = parser.parse_known_args(argv)
    scene = scene_class(known.scene)
    values, ignored = parse_scene_options(scene, rest)
    if ignored:
        logger.warning("Ignoring unknown arguments: %s", " ".join(ignored))
    scene_options(scene, **values)  # reject bad options before connecting: Python waits for a started player
    return known, values, Faults.from_arguments(known)


class Player:
    """One connection to a trainer, serving one scene."""

    def __init__(self, args: argparse.Namespace, options: dict[str, object], faults: Faults) -> None:
        self._args = args
        self._options = options
        self._faults = faults
        self._steps_done = 0
        self._last_decisions: dict[str, int] | None = None
        self._quit_received = False

    def run(self) -> int:
        """Serve the trainer until it says stop; returns the exit status."""
        self._faults.delay_start()
        with grpc.insecure_channel(f"localhost:{self._args.mlagents_port}") as channel:
            exchange = UnityToExternalProtoStub(channel).Exchange
            connected = False
            try:
                reply = exchange(initialization_message(), wait_for_ready=True, timeout=CONNECT_TIMEOUT_S)
                connected = True
                seed = reply.unity_input.rl_initialization_input.seed
                logger.info("Connected on port %d; seed %d", self._args.mlagents_port, seed)
                reply = exchange(ok_message())  # answered by the trainer's first RESET
                academy = Academy(self._args.scene, seed, **self._options)
                encoder = FrameEncoder(academy.behavior_specs, self._args.visual_compression == "png")
                while (message := self._answer(academy, reply)) is not None:
                    reply = exchange(encoder.encode(message))
                if self._quit_received:
                    self._say_goodbye(exchange)
            except grpc.RpcError as error:
                if connected and error.code() in TRAINER_GONE:
                    # mlagents-envs stops its server right after queueing the closing 400, which can
                    # cancel the call before the reply arrives: the trainer closed the run.
                    logger.info("The trainer went away (%s); exiting", error.code())
                    return 0
                logger.info("Lost the trainer (%s); exiting", error.code())
                return 1
        return 0

    @staticmethod
    def _say_goodbye(exchange: grpc.UnaryUnaryMultiCallable) -> None:
        """Tell the trainer the player is closing; its reply is not needed."""
        with contextlib.suppress(grpc.RpcError):
            exchange(close_message(), timeout=FAREWELL_TIMEOUT_S)

    def _answer(self, academy: Academy, reply: UnityMessageProto) -> Frame | None:
        """The frame answering the trainer's ``reply``, or None when the trainer closes the run."""
        if reply.header.status != STATUS_OK:
            logger.info("Trainer closed the connection (status %d)", reply.header.status)
            return None
        rl_input = reply.unity_input.rl_input
        academy.receive(rl_input.side_channel)
        if rl_input.command == QUIT:
            logger.info("QUIT received")
            self._quit_received = True
            return None
        if rl_input.command == RESET or self._last_decisions is None:
            frame = academy.reset()
        else:
            self._faults.before_step(self._steps_done)
            frame = academy.step(decode_actions(rl_input, academy.behavior_specs, self._last_decisions))
            if self._args.step_delay_ms > 0:
                time.sleep(self._args.step_delay_ms / 1000)
            self._steps_done += 1
            self._faults.corrupt(self._steps_done, frame)
        self._last_decisions = {name: len(b.done) - b.num_terminal for name, b in frame.batches.items()}
        return frame


def _exit_when_orphaned(parent_pid: int) -> None:
    """Exit the process as soon as the process that launched it is gone (no orphan players)."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_POLL_S)
        logger.info("Trainer process %d is gone; exiting", parent_pid)
        logging.shutdown()
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _configure_logging(log_file: str | None) -> None:
    """Log everything to ``-logFile`` like a Unity player; without one, only problems to stderr."""
    handler: logging.Handler = logging.FileHandler(log_file) if log_file else logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO if log_file else logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of a build launcher; exits 2 on bad arguments (the reason goes to the log)."""
    _exit_when_orphaned(os.getppid())
    arguments = list(sys.argv[1:] if argv is None else argv)
    known, _ = _log_file_parser().parse_known_args(arguments)
    _configure_logging(known.log_file)
    logger.info("rldojo-sim player: %s", " ".join(arguments))
    try:
        args, options, faults = parse_arguments(arguments)
    except SimError as error:
        logger.error("%s", error)
        return error.exit_code
    return Player(args, options, faults).run()
