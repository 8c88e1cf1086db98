"""The in-process handoff behaves like the Pipe connection mlagents-envs expects."""

from __future__ import annotations

import threading
import time

import pytest

from rldojo_unity.handoff import endpoint_pair

pytestmark = pytest.mark.smoke


def test_messages_arrive_in_order_in_both_directions():
    trainer, player = endpoint_pair()
    trainer.send("a")
    trainer.send("b")
    player.send(1)
    assert (player.recv(), player.recv(), trainer.recv()) == ("a", "b", 1)


@pytest.mark.timing
def test_poll_waits_at_most_its_timeout_and_does_not_consume():
    trainer, player = endpoint_pair()
    started = time.monotonic()
    assert trainer.poll(0.05) is False
    assert 0.04 < time.monotonic() - started < 1.0
    player.send("reply")
    assert trainer.poll(0.05) is True
    assert trainer.recv() == "reply"


def test_a_blocked_reader_is_woken_by_close_with_eof():
    trainer, player = endpoint_pair()
    errors = []

    def serve() -> None:
        try:
            player.recv()
        except EOFError as error:
            errors.append(error)

    server = threading.Thread(target=serve)
    server.start()
    trainer.close()
    server.join(timeout=5)
    assert not server.is_alive()
    assert len(errors) == 1
    with pytest.raises(BrokenPipeError):
        player.send("late")
