"""Port leasing across processes, and the loopback-only trainer server."""

from __future__ import annotations

import ipaddress
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from rldojo_unity.communicator import LoopbackRpcCommunicator
from rldojo_unity.ports import PortInUseError, lease_port


@pytest.fixture
def private_lock_dir(base_port, tmp_path, monkeypatch) -> int:
    """A lock folder of the test's own, for tests that plant files in it or need a port to stay unleased by
    others; it leases only ``base_port`` and ``base_port + 1``, which stay leased in the shared folder, so
    no other run (another xdist worker's included) binds them meanwhile. Returns ``base_port``."""
    monkeypatch.setenv("RLDOJO_PORT_LOCK_DIR", str(tmp_path / "locks"))
    return base_port


def _decode_proc_address(hex_address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """/proc/net/tcp* writes addresses as 32-bit words in host (little-endian) byte order."""
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return ipaddress.ip_address(words)


def _listening_sockets() -> dict[str, tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]]:
    """Each TCP socket in LISTEN state, by inode: its local address and port (from /proc/net/tcp{,6})."""
    sockets = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as rows:
            next(rows)
            for row in rows:
                fields = row.split()
                address, port_hex = fields[1].split(":")
                if fields[3] == "0A":
                    sockets[fields[9]] = (_decode_proc_address(address), int(port_hex, 16))
    return sockets


def _listening_addresses(port: int) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Local addresses with a TCP socket in LISTEN state on ``port``."""
    return {address for address, listening_port in _listening_sockets().values() if listening_port == port}


@pytest.mark.smoke
def test_the_lock_folder_is_private_and_planted_links_are_not_followed(
    private_lock_dir, tmp_path, monkeypatch
):
    with lease_port(start=private_lock_dir) as lease:
        assert (tmp_path / "locks").stat().st_mode & 0o777 == 0o700
        assert (tmp_path / "locks" / f"{lease.port}.lock").stat().st_mode & 0o777 == 0o600
    target = tmp_path / "victim"
    target.write_text("keep")
    (tmp_path / "locks" / f"{private_lock_dir + 1}.lock").symlink_to(target)
    with pytest.raises(PortInUseError):  # a planted symlink is refused, not opened
        lease_port(private_lock_dir + 1)
    assert target.read_text() == "keep"
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    monkeypatch.setenv("RLDOJO_PORT_LOCK_DIR", str(shared))
    with pytest.raises(PermissionError, match="others cannot write"):
        lease_port()


@pytest.mark.smoke
def test_two_leases_never_share_a_port():
    with lease_port() as first, lease_port() as second:
        assert first.port != second.port
    assert not first.held


@pytest.mark.smoke
def test_a_released_port_can_be_leased_again(private_lock_dir):
    lease = lease_port(start=private_lock_dir)
    port = lease.port
    lease.release()
    with lease_port(port) as again:
        assert again.port == port


@pytest.mark.smoke
def test_explicit_port_taken_by_another_program_is_a_clear_error():
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        with pytest.raises(PortInUseError, match=rf"port {port} is already in use.*--base-port"):
            lease_port(port)


def test_lease_is_exclusive_across_processes(private_lock_dir):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
                import sys
                from rldojo_unity.ports import lease_port
                lease = lease_port(int(sys.argv[1]))
                print(lease.port, flush=True)
                sys.stdin.read()
                """
            ),
            str(private_lock_dir),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        held_port = int(holder.stdout.readline())
        with pytest.raises(PortInUseError):
            lease_port(held_port)
        with lease_port(start=held_port) as mine:
            assert mine.port == held_port + 1
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    with lease_port(held_port):
        pass  # the lock went away with the process


def test_trainer_server_listens_on_loopback_only():
    with lease_port() as lease:
        communicator = LoopbackRpcCommunicator(worker_id=0, base_port=lease.port, timeout_wait=1)
        try:
            addresses = _listening_addresses(lease.port)
            assert addresses, "the server is listening"
            for address in addresses:
                mapped = getattr(address, "ipv4_mapped", None)
                assert (mapped or address).is_loopback, address
        finally:
            communicator.close()


HANDSHAKE_THEN_HANG = """#!{python}
import sys, time, grpc
from mlagents_envs.communicator_objects.unity_to_external_pb2_grpc import UnityToExternalProtoStub
from mlagents_envs.communicator_objects.unity_message_pb2 import UnityMessageProto
port = int(sys.argv[sys.argv.index("--mlagents-port") + 1])
exchange = UnityToExternalProtoStub(grpc.insecure_channel(f"127.0.0.1:{{port}}")).Exchange
hello = UnityMessageProto()
hello.header.status = 200
hello.unity_output.rl_initialization_output.communication_version = "1.5.0"
exchange(hello, wait_for_ready=True)  # the trainer's reply arrives; the acknowledgement never comes
time.sleep(60)
"""


def test_a_player_silent_after_the_first_handshake_message_times_out(tmp_path):
    """mlagents-envs waits forever for the handshake acknowledgement; rldojo's server does not."""
    from mlagents_envs.exception import UnityTimeOutException

    from rldojo_unity.environment import open_unity_environment

    player = tmp_path / "Silent.x86_64"
    player.write_text(HANDSHAKE_THEN_HANG.format(python=sys.executable))
    player.chmod(0o755)
    started = time.monotonic()
    with pytest.raises(UnityTimeOutException, match="sent nothing for 3 s"):
        open_unity_environment(str(player), timeout_wait=3)
    assert time.monotonic() - started < 20


def test_a_failed_launch_leaves_no_exit_hook_behind(tmp_path):
    """mlagents-envs' atexit hook would keep the environment alive and close it again at exit."""
    import gc
    import weakref

    from mlagents_envs.exception import UnityEnvironmentException

    from rldojo_unity.environment import LoopbackUnityEnvironment, open_unity_environment

    player = tmp_path / "Crash.x86_64"
    player.write_text(f"#!{sys.executable}\nraise SystemExit(3)\n")
    player.chmod(0o755)
    created = []
    original_init = LoopbackUnityEnvironment.__init__

    def recording_init(self, *args, **kwargs):
        created.append(weakref.ref(self))
        original_init(self, *args, **kwargs)

    LoopbackUnityEnvironment.__init__ = recording_init
    try:
        with pytest.raises(UnityEnvironmentException, match="return code 3"):
            open_unity_environment(str(player), timeout_wait=10)
    finally:
        LoopbackUnityEnvironment.__init__ = original_init
    gc.collect()
    assert created and created[0]() is None, "the failed environment is still referenced"
