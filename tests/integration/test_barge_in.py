"""Barge-in through the real server, with the `conversation` preset: a sentence said over the
agent's reply stops it at once and drops the rest; "okay" and a cough do not stop it.
(``scripts/bench barge_in`` measures the same exchanges many times, beside livekit's stock
settings.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stack.fakes import FakeProviders
from stack.livekit_server import LiveKitServer
from stack.over_talk import REPLY, room_config, talk_over
from stack.rooms import joined_room
from stack.worker import WorkerProcess

from .rooms import MEASUREMENTS


@pytest.fixture
def long_reply(fakes: FakeProviders) -> Iterator[None]:
    with fakes.replying(REPLY):
        yield


async def test_barge_in_stops_the_reply_and_backchannels_do_not(
    livekit_server: LiveKitServer, worker: WorkerProcess, fakes: FakeProviders, long_reply: None
) -> None:
    async with joined_room(
        livekit_server, worker.agent_name, dispatch_metadata=room_config("conversation")
    ) as user:
        await talk_over(user, fakes, "none", "")  # past livekit-agents' AEC warm-up (3 s)
        barge = await talk_over(user, fakes, "barge-in", "asterisk:privacy-unident")
        okay = await talk_over(user, fakes, "backchannel", "piper:Okay.")
        cough = await talk_over(user, fakes, "cough", "synthetic:cough")

    assert barge.stopped_after_s is not None, "the agent talked on through the whole sentence"
    assert barge.stopped_after_s < 1.0
    assert barge.played_while_talking_s < 0.1, "queued reply audio played after the stop"
    assert barge.new_replies == 1, "the sentence said over the reply was not answered"
    MEASUREMENTS.append(f"barge-in stop (conversation preset): {barge.stopped_after_s:.3f} s")
    for over in (okay, cough):
        assert over.new_replies == 0, f"{over.said} was answered as a turn"
        assert over.resumed, f"the reply did not go on after {over.said}"
        MEASUREMENTS.append(f"reply paused by {over.said}: {over.longest_silence_s:.2f} s")
