"""Launching Unity builds: a loopback-only server on a leased port, released when the env closes."""

from __future__ import annotations

import atexit
from typing import Any

from mlagents_envs.environment import UnityEnvironment

from rldojo_unity.communicator import LoopbackRpcCommunicator
from rldojo_unity.ports import PortLease, lease_port

__all__ = ["LoopbackUnityEnvironment", "open_unity_environment"]


class LoopbackUnityEnvironment(UnityEnvironment):
    """``UnityEnvironment`` whose gRPC server listens on 127.0.0.1 only, and which cleans up after itself.

    ``port_lease``, when given, is released once the environment has closed. A launch that fails
    (player crashed, version mismatch, ...) closes the server and the player before raising, which
    mlagents-envs leaves to interpreter exit.
    """

    def __init__(self, *args: Any, port_lease: PortLease | None = None, **kwargs: Any) -> None:
        self.port_lease = port_lease
        try:
            super().__init__(*args, **kwargs)
        except BaseException:
            self._close(0)
            raise

    @staticmethod
    def _get_communicator(worker_id: int, base_port: int, timeout_wait: int) -> LoopbackRpcCommunicator:
        return LoopbackRpcCommunicator(worker_id, base_port, timeout_wait)

    def _close(self, timeout: int | None = None) -> None:
        try:
            if hasattr(self, "_communicator"):  # absent when the server could not be created
                super()._close(timeout)
        finally:
            if self.port_lease is not None:
                self.port_lease.release()
            # UnityEnvironment registers _close with atexit and never unregisters it, which keeps
            # every closed environment alive and closes it again (logging) at interpreter exit.
            atexit.unregister(self._close)


def open_unity_environment(
    file_name: str | None, *, worker_id: int = 0, base_port: int | None = None, **kwargs: Any
) -> LoopbackUnityEnvironment:
    """Launch ``file_name`` (or wait for the Editor when None) and connect to it.

    With ``base_port`` given, the port is ``base_port + worker_id`` as in mlagents-envs, and a taken
    port is a :class:`~rldojo_unity.ports.PortInUseError`. Without it, a free port is leased, so
    concurrent runs never collide. Other keyword arguments go to ``UnityEnvironment``.
    """
    lease = lease_port(None if base_port is None else base_port + worker_id)
    try:
        return LoopbackUnityEnvironment(
            file_name=file_name,
            worker_id=worker_id,
            base_port=lease.port - worker_id,
            port_lease=lease,
            **kwargs,
        )
    except BaseException:
        lease.release()
        raise
