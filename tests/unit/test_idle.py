"""The quiet between turns stays out of a local realtime turn (agent/pipeline/idle.py): at the
user's start of speech the provider's buffer is cleared and only the last half second heard
since the last commit is sent again."""

from __future__ import annotations

import base64
from typing import Any, cast

from livekit import rtc
from livekit.plugins import openai

from agent.pipeline.idle import PADDING_S, IdleTrim

RATE = 24_000


class _Session:
    def __init__(self) -> None:
        self.sent: list[Any] = []
        self._pushed_duration_s = 0.0

    def send_event(self, event: Any) -> None:
        self.sent.append(event if isinstance(event, dict) else event.model_dump())


def _frames(seconds: float, value: int) -> list[rtc.AudioFrame]:
    n = int(seconds / 0.05)
    samples = RATE // 20
    return [rtc.AudioFrame(bytes([value, 0]) * samples, RATE, 1, samples) for _ in range(n)]


def _resent_s(sent: list[Any]) -> tuple[float, set[int]]:
    """Seconds of audio appended after the clear, and the sample values they carry."""
    clear = max(i for i, e in enumerate(sent) if e["type"] == "input_audio_buffer.clear")
    pcm = b"".join(base64.b64decode(e["audio"]) for e in sent[clear + 1 :])
    return len(pcm) / 2 / RATE, set(pcm[::2])


def test_the_buffer_starts_just_before_the_speech() -> None:
    s = _Session()
    trim = IdleTrim(cast(openai.realtime.RealtimeSession, s))
    trim.appended(_frames(2.0, 1))  # the wait before the user spoke
    trim.speech_started()
    seconds, _ = _resent_s(s.sent)
    assert PADDING_S <= seconds <= PADDING_S + 0.051  # at most one frame more
    assert abs(s._pushed_duration_s - seconds) < 1e-6, (
        "what the plugin counts toward its 100 ms minimum"
    )
    before = len(s.sent)
    trim.speech_started()  # the user pauses and goes on: the buffer is theirs
    assert len(s.sent) == before


def test_only_what_came_after_the_last_commit_is_sent_again() -> None:
    s = _Session()
    trim = IdleTrim(cast(openai.realtime.RealtimeSession, s))
    trim.appended(_frames(1.0, 1))
    trim.speech_started()
    trim.appended(_frames(1.0, 2))
    trim.committed()  # the turn (or an early answer's part of it) is committed
    trim.appended(_frames(0.2, 3))
    trim.speech_started()
    seconds, values = _resent_s(s.sent)
    assert abs(seconds - 0.2) < 0.01 and values == {3}, "none of the committed speech again"
