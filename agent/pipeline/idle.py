"""The quiet between turns is not committed as the user's turn, in an OpenAI Realtime room
whose turns the worker ends (``turn_taking.detection: local``).

There the worker streams every frame it hears, and each commit took everything since the last
one: the agent's answer, the wait before the user spoke. The provider's own VAD keeps only the
speech and a little before it. So while the buffer holds nothing the user said, the worker
clears it when the VAD hears the user start and re-sends the last ``PADDING_S`` it appended
(after the last commit only): the turn begins just before the speech, as with the provider's
detection. ``bench latency`` prices the difference (the session report's audio tokens).
"""

from __future__ import annotations

from collections import deque

from livekit import rtc
from livekit.plugins import openai

PADDING_S = 0.5
"""Audio kept ahead of the speech: the VAD's start comes ≈ 0.1 s into it, and OpenAI's own
VAD keeps 0.3 s before the speech."""


class IdleTrim:
    """One realtime session's buffer of audio not yet committed."""

    def __init__(self, session: openai.realtime.RealtimeSession) -> None:
        self._session = session
        self._recent: deque[rtc.AudioFrame] = deque()
        self._recent_s = 0.0
        self._speech = False
        """The user spoke since the last commit: the buffer is theirs."""

    def appended(self, frames: list[rtc.AudioFrame]) -> None:
        for frame in frames:
            self._recent.append(frame)
            self._recent_s += frame.duration
        while self._recent and self._recent_s - self._recent[0].duration >= PADDING_S:
            self._recent_s -= self._recent.popleft().duration

    def committed(self) -> None:
        self._speech = False
        self._recent.clear()
        self._recent_s = 0.0

    def speech_started(self) -> None:
        if self._speech:
            return
        self._speech = True
        s, kept = self._session, list(self._recent)
        s.send_event({"type": "input_audio_buffer.clear"})
        s._pushed_duration_s = 0
        # the plugin's own append (not the session's, which would keep these frames again)
        openai.realtime.RealtimeSession._append_audio(s, kept)
