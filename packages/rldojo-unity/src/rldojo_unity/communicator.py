"""The trainer-side gRPC server, bound to loopback only.

mlagents-envs binds its server to ``[::]`` (every interface, no authentication). rldojo's players
run on the same host (or in the same container), so the server listens on 127.0.0.1 alone.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import grpc
from mlagents_envs.communicator_objects.unity_to_external_pb2_grpc import (
    add_UnityToExternalProtoServicer_to_server,
)
from mlagents_envs.exception import UnityWorkerInUseException
from mlagents_envs.rpc_communicator import RpcCommunicator, UnityToExternalServicerImplementation

__all__ = ["LOOPBACK_HOST", "MAX_MESSAGE_BYTES", "LoopbackRpcCommunicator"]

LOOPBACK_HOST = "127.0.0.1"
# gRPC's default 4 MiB receive limit truncates large visual observations; Unity sends up to this.
MAX_MESSAGE_BYTES = 256 * 1024 * 1024


class LoopbackRpcCommunicator(RpcCommunicator):
    """``RpcCommunicator`` whose server listens on 127.0.0.1 only, with a large message limit."""

    def create_server(self) -> None:
        self.check_port(self.port)
        options = [
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ]
        try:
            self.server = grpc.server(ThreadPoolExecutor(max_workers=2), options=options)
            self.unity_to_external = UnityToExternalServicerImplementation()
            add_UnityToExternalProtoServicer_to_server(self.unity_to_external, self.server)
            bound = self.server.add_insecure_port(f"{LOOPBACK_HOST}:{self.port}")
            if bound != self.port:
                raise OSError(f"gRPC bound port {bound}, expected {self.port}")
            self.server.start()
            self.is_open = True
        except Exception as error:
            raise UnityWorkerInUseException(self.worker_id) from error
