"""Backchannels over the agent's reply are dropped before the session sees them; anything
else, and anything said while the agent is silent, passes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any, cast

import pytest
from livekit.agents import Agent, LanguageCode, stt

from agent.modes.backchannel import drop_backchannels, is_backchannel


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Mm-hm.", "en"),
        ("Okay, yeah.", "en"),
        ("I see.", "en-US"),
        ("Thank you.", "en"),
        ("(coughs)", "en"),
        ("[Music]", "en"),
        ("", "en"),
        ("Sí, vale.", "es"),
        ("De acuerdo.", "es"),
    ],
)
def test_acknowledgements_and_non_speech_are_backchannels(text: str, language: str) -> None:
    assert is_backchannel(text, language)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Okay, but what about Tuesday?", "en"),
        ("Wait, stop.", "en"),
        ("okay so", "en"),
        ("yes yes yes yes yes", "en"),  # a run this long is taking the turn
        ("Sí, quiero cambiar la cita.", "es"),
        ("vale", "en"),  # Spanish words are not English acknowledgements
    ],
)
def test_words_that_take_the_turn_are_not(text: str, language: str) -> None:
    assert not is_backchannel(text, language)


def _event(kind: stt.SpeechEventType, text: str) -> stt.SpeechEvent:
    return stt.SpeechEvent(
        type=kind, alternatives=[stt.SpeechData(language=LanguageCode("en"), text=text)]
    )


async def _filtered(speech: Any, events: list[stt.SpeechEvent]) -> list[str]:
    agent = cast(Agent, SimpleNamespace(session=SimpleNamespace(current_speech=speech)))

    async def source() -> AsyncIterator[stt.SpeechEvent | str]:
        for ev in events:
            yield ev

    out = [ev async for ev in drop_backchannels(agent, source(), "en")]
    return [
        ev.alternatives[0].text if isinstance(ev, stt.SpeechEvent) and ev.alternatives else "-"
        for ev in out
    ]


EVENTS = [
    _event(stt.SpeechEventType.START_OF_SPEECH, ""),
    _event(stt.SpeechEventType.INTERIM_TRANSCRIPT, "Okay"),
    _event(stt.SpeechEventType.FINAL_TRANSCRIPT, "Okay."),
    _event(stt.SpeechEventType.FINAL_TRANSCRIPT, "Stop, that's wrong."),
]


class _Speech:
    def __init__(self, *, interrupted: bool = False, done: bool = False) -> None:
        self.interrupted, self._done = interrupted, done

    def done(self) -> bool:
        return self._done


async def test_backchannels_over_a_playing_reply_are_dropped() -> None:
    assert await _filtered(_Speech(), EVENTS) == ["", "Stop, that's wrong."]


@pytest.mark.parametrize(
    "speech", [None, _Speech(done=True), _Speech(interrupted=True)], ids=["none", "done", "cut"]
)
async def test_everything_passes_when_no_reply_is_playing(speech: _Speech | None) -> None:
    assert await _filtered(speech, EVENTS) == ["", "Okay", "Okay.", "Stop, that's wrong."]
