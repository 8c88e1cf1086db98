"""The trainer-side gRPC server: loopback only, no pickling between threads, bounded waits.

mlagents-envs binds its server to ``[::]`` (every interface, no authentication), hands messages
between threads through a pickling ``multiprocessing.Pipe``, busy-polls when ``timeout_wait`` is
under 10 s, and waits forever for the second handshake message. rldojo's players run on the same
host (or in the same container), so this server listens on 127.0.0.1 alone and fixes the rest.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
from mlagents_envs.communicator import PollCallback
from mlagents_envs.communicator_objects.unity_input_pb2 import UnityInputProto
from mlagents_envs.communicator_objects.unity_message_pb2 import UnityMessageProto
from mlagents_envs.communicator_objects.unity_output_pb2 import UnityOutputProto
from mlagents_envs.communicator_objects.unity_to_external_pb2_grpc import (
    UnityToExternalProtoServicer,
    add_UnityToExternalProtoServicer_to_server,
)
from mlagents_envs.exception import UnityTimeOutException, UnityWorkerInUseException
from mlagents_envs.rpc_communicator import RpcCommunicator

from rldojo_unity.handoff import endpoint_pair

__all__ = ["LOOPBACK_HOST", "MAX_MESSAGE_BYTES", "LoopbackRpcCommunicator"]

LOOPBACK_HOST = "127.0.0.1"
# gRPC's default 4 MiB receive limit truncates large visual observations; Unity sends up to this.
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
# How often a wait for the player wakes up to run the liveness callback (the process check).
POLL_INTERVAL_S = 0.5


class _Servicer(UnityToExternalProtoServicer):
    """Passes each request from the gRPC thread to the trainer and returns the trainer's reply."""

    def __init__(self) -> None:
        self.parent_conn, self.child_conn = endpoint_pair()

    def Exchange(self, request: UnityMessageProto, context: Any) -> UnityMessageProto:
        self.child_conn.send(request)
        return self.child_conn.recv()


class LoopbackRpcCommunicator(RpcCommunicator):
    """``RpcCommunicator`` listening on 127.0.0.1 only, with an in-process handoff and bounded waits."""

    def create_server(self) -> None:
        self.check_port(self.port)
        options = [
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ]
        try:
            self.server = grpc.server(ThreadPoolExecutor(max_workers=2), options=options)
            self.unity_to_external = _Servicer()
            add_UnityToExternalProtoServicer_to_server(self.unity_to_external, self.server)
            bound = self.server.add_insecure_port(f"{LOOPBACK_HOST}:{self.port}")
            if bound != self.port:
                raise OSError(f"gRPC bound port {bound}, expected {self.port}")
            self.server.start()
            self.is_open = True
        except Exception as error:
            raise UnityWorkerInUseException(self.worker_id) from error

    def poll_for_timeout(self, poll_callback: PollCallback | None = None) -> None:
        deadline = time.monotonic() + self.timeout_wait
        while (remaining := deadline - time.monotonic()) > 0:
            if self.unity_to_external.parent_conn.poll(min(POLL_INTERVAL_S, remaining)):
                return
            if poll_callback:
                poll_callback()  # raises if the player process has died
        raise UnityTimeOutException(
            f"the environment sent nothing for {self.timeout_wait} s: it may be hung, waiting for user "
            "input, or built without batch mode; check its Player log, or raise --timeout-wait"
        )

    def initialize(
        self, inputs: UnityInputProto, poll_callback: PollCallback | None = None
    ) -> UnityOutputProto:
        self.poll_for_timeout(poll_callback)
        academy_output = self.unity_to_external.parent_conn.recv().unity_output
        reply = UnityMessageProto()
        reply.header.status = 200
        reply.unity_input.CopyFrom(inputs)
        self.unity_to_external.parent_conn.send(reply)
        self.poll_for_timeout(poll_callback)  # mlagents-envs waits forever for this acknowledgement
        self.unity_to_external.parent_conn.recv()
        return academy_output
