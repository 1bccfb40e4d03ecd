"""What the fake translation services "do", whatever protocol carries it (OpenAI's realtime
translation, Gemini Live's translation config).

The engine understands nothing. It consumes input audio in 200 ms frames; an energy VAD hears
phrases; ``translation_lag_ms`` of audio after a phrase starts it starts speaking the phrase's
translation — ``settings.translations`` in order, else ``settings.reply_text`` — as real
speech in the target language (espeak-ng's voice for it), one 200 ms frame of output for each
frame of input (a service runs on the audio it gets: a client that stops sending stops it),
with the words spread over the audio. Phrases that overlap their predecessor's translation
queue behind it. With transcription on, the phrase's source text (``settings.transcripts``,
else "I said something for N seconds") comes when the phrase ends.
"""

from __future__ import annotations

import subprocess
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from .audio import EnergyVad, speak
from .openai_http import fake_transcript, words
from .record import Recorder

FRAME_MS = 200
OUTPUT_RATE = 24_000
PHRASE_SILENCE_MS = 400
"""A pause this long ends a phrase (the fake's stand-in for the engine's segmentation)."""


def voice_exists(language: str) -> bool:
    try:
        speak("a", OUTPUT_RATE, language.split("-")[0])
    except subprocess.CalledProcessError:
        return False
    return True


@dataclass(frozen=True)
class Output:
    kind: Literal["audio", "translation", "source", "spoken"]
    """``spoken``: a phrase's translation has been said to its end."""
    data: bytes | str
    elapsed_ms: int


@dataclass
class _Speech:
    pcm: bytes
    words: deque[str]
    sent: int = 0


@dataclass
class TranslationEngine:
    recorder: Recorder
    language: str
    input_rate: int
    transcribe: bool = False
    frames: int = 0
    """Frames consumed: the engine's clock is ``frames * FRAME_MS``."""
    _pending: bytearray = field(default_factory=bytearray)
    _vad: EnergyVad | None = None
    _phrase_start_ms: int | None = None
    _due: deque[tuple[int, _Speech]] = field(default_factory=deque)
    _speaking: deque[_Speech] = field(default_factory=deque)

    @property
    def now_ms(self) -> int:
        return self.frames * FRAME_MS

    def feed(self, pcm: bytes) -> list[Output]:
        """16-bit mono input at ``input_rate``; what the frames it completes produce."""
        self._pending += pcm
        size = self.input_rate * 2 * FRAME_MS // 1000
        out: list[Output] = []
        while len(self._pending) >= size:
            frame, self._pending = bytes(self._pending[:size]), self._pending[size:]
            out += self._frame(frame)
        return out

    def flush(self) -> list[Output]:
        """The input has ended: what is still to say, at once."""
        out: list[Output] = []
        if self._phrase_start_ms is not None:
            out += self._source(self.now_ms - self._phrase_start_ms)
        self._speaking.extend(speech for _, speech in self._due)
        self._due.clear()
        while self._speaking:
            out += self._speak_frame()
        return out

    def _frame(self, frame: bytes) -> list[Output]:
        if self._vad is None:
            self._vad = EnergyVad(self.input_rate, silence_ms=PHRASE_SILENCE_MS)
        self.frames += 1
        out: list[Output] = []
        for kind, at_ms in self._vad.feed(frame):
            self.recorder.add("fakes", f"translation.{kind}", language=self.language, at_ms=at_ms)
            if kind == "speech_started":
                self._phrase_start_ms = at_ms
                lag = self.recorder.settings.translation_lag_ms
                self._due.append((at_ms + lag, self._translation()))
            elif self._phrase_start_ms is not None:
                out += self._source(at_ms - self._phrase_start_ms)
                self._phrase_start_ms = None
        while self._due and self._due[0][0] <= self.now_ms:
            self._speaking.append(self._due.popleft()[1])
        return out + self._speak_frame()

    def _translation(self) -> _Speech:
        settings = self.recorder.settings
        text = settings.translations.pop(0) if settings.translations else settings.reply_text
        pcm = speak(text, OUTPUT_RATE, self.language.split("-")[0])
        return _Speech(pcm, deque(words(text)))

    def _speak_frame(self) -> list[Output]:
        """One frame of the translation under way, and its share of the words."""
        if not self._speaking:
            return []
        speech = self._speaking[0]
        size = OUTPUT_RATE * 2 * FRAME_MS // 1000
        chunk = speech.pcm[speech.sent : speech.sent + size]
        speech.sent += len(chunk)
        frames_left = -(-(len(speech.pcm) - speech.sent) // size)
        share = len(speech.words) if frames_left == 0 else -(-len(speech.words) // frames_left)
        out = [
            Output("translation", speech.words.popleft(), self.now_ms)
            for _ in range(min(share, len(speech.words)))
        ]
        out.append(Output("audio", chunk, self.now_ms))
        if speech.sent >= len(speech.pcm):
            self._speaking.popleft()
            out.append(Output("spoken", "", self.now_ms))
        return out

    def _source(self, voiced_ms: int) -> list[Output]:
        if not self.transcribe:
            return []
        text = self.recorder.transcript(fake_transcript(voiced_ms))
        return [Output("source", delta, self.now_ms) for delta in words(text)]
