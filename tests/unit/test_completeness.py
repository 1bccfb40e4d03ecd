"""The transcript completeness check that holds the end-of-turn model back on unfinished
sentences, and its wrapper around the model's stream."""

from __future__ import annotations

import asyncio

import pytest
from livekit.agents.llm import ChatMessage
from livekit.agents.voice.events import (
    ConversationItemAddedEvent,
    UserInputTranscribedEvent,
    UserStateChangedEvent,
)
from livekit.agents.voice.turn import TurnDetectionEvent

from agent.pipeline.completeness import (
    HOLD,
    WAIT_FOR_FINAL_S,
    TranscriptTail,
    _HeldStream,
    unfinished,
)


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("You have", "en", True),
        ("Please enter your", "en", True),
        ("If this is correct, press...", "en", True),
        ("You have five new messages.", "en", False),
        ("Yeah.", "en", False),
        ("", "en", False),
        ("Por favor introduzca su", "es", True),
        ("Nadie está disponible.", "es-MX", False),
        ("Pour un nouveau message, appuyez sur", "fr", True),
        ("Vous avez cinq messages.", "fr-CA", False),
        ("Per ascoltare i messaggi premere", "it", True),
        ("Hai tre messaggi.", "it", False),
        ("У вас", "ru", True),
        ("Спасибо.", "ru", False),
        ("Bom dia", "pt", False),  # no list for the language: never holds
    ],
)
def test_unfinished(text: str, lang: str, expected: bool) -> None:
    assert unfinished(text, lang) is expected


def test_tail_follows_the_turn() -> None:
    tail = TranscriptTail("en")
    tail.on_transcribed(UserInputTranscribedEvent(transcript="You have", is_final=True))
    tail.on_transcribed(UserInputTranscribedEvent(transcript="five new", is_final=False))
    assert tail.text == "You have five new"
    item = ChatMessage(role="user", content=["You have five new messages"])
    tail.on_item(ConversationItemAddedEvent(item=item))
    assert tail.text == ""


class _Inner:
    def __init__(self) -> None:
        self.future: asyncio.Future[TurnDetectionEvent] | None = None
        self.model = "v1-mini"

    def predict(self) -> asyncio.Future[TurnDetectionEvent]:
        self.future = asyncio.get_running_loop().create_future()
        return self.future


@pytest.mark.parametrize(("said", "factor"), [("please enter your", HOLD), ("it hurts here.", 1)])
async def test_held_stream_scales_the_probability(said: str, factor: float) -> None:
    tail = TranscriptTail("en")
    tail.on_transcribed(UserInputTranscribedEvent(transcript=said, is_final=True))
    inner = _Inner()
    stream = _HeldStream(inner, tail)
    assert stream.model == "v1-mini"  # everything else goes to the model's own stream
    held = stream.predict()
    assert inner.future is not None
    inner.future.set_result(
        TurnDetectionEvent(type="eot_prediction", end_of_turn_probability=0.8, last_speaking_time=1)
    )
    event = await held
    assert event.end_of_turn_probability == pytest.approx(0.8 * factor)
    cancelled = stream.predict()
    cancelled.cancel()
    await asyncio.sleep(0)
    assert inner.future.cancelled()  # the session cancelling a prediction reaches the model


def _state(new: str, old: str) -> UserStateChangedEvent:
    return UserStateChangedEvent(old_state=old, new_state=new)


async def test_the_prediction_waits_for_the_final_of_the_latest_speech() -> None:
    tail = TranscriptTail("en")
    tail.on_user_state(_state("speaking", "listening"))
    tail.on_transcribed(UserInputTranscribedEvent(transcript="please enter", is_final=False))
    assert tail.unheard
    inner = _Inner()
    held = _HeldStream(inner, tail).predict()
    assert inner.future is not None
    inner.future.set_result(
        TurnDetectionEvent(type="eot_prediction", end_of_turn_probability=0.8, last_speaking_time=1)
    )
    await asyncio.sleep(0.05)
    assert not held.done(), "judged before the words were transcribed"
    tail.on_transcribed(UserInputTranscribedEvent(transcript="please enter your", is_final=True))
    event = await asyncio.wait_for(held, 1)
    assert event.end_of_turn_probability == pytest.approx(0.8 * HOLD)
    assert not tail.unheard


async def test_a_final_that_never_comes_delays_the_prediction_boundedly() -> None:
    tail = TranscriptTail("en")
    tail.on_user_state(_state("speaking", "listening"))
    inner = _Inner()
    held = _HeldStream(inner, tail).predict()
    assert inner.future is not None
    inner.future.set_result(
        TurnDetectionEvent(type="eot_prediction", end_of_turn_probability=0.8, last_speaking_time=1)
    )
    event = await asyncio.wait_for(held, WAIT_FOR_FINAL_S + 0.3)
    assert event.end_of_turn_probability == pytest.approx(0.8)
