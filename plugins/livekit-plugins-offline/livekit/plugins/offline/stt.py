"""Speech-to-text with faster-whisper (CTranslate2, int8) on the CPU.

Whisper is not a streaming model, so the stream segments speech with a VAD: each segment is
transcribed once when it ends (the final) and, while it lasts, re-transcribed every
``interim_interval`` seconds (interims, which barge-in by word count and live captions use).
Inference runs on one worker thread per STT, never on the event loop.

The stream honours livekit-agents' manual flush: a flush makes the speech heard so far a final
now (an empty one if there is none), so the session's own end-of-turn decision, not this
VAD's silence window, says when the turn's transcript is wanted. The end of the input does
the same for speech still in progress: the last words of a track that ends are not lost.

Whisper always encodes a 30-second window, which costs ~0.5 s on two cores however short the
utterance. With ``fit_context`` (the default) the encoder sees only the utterance plus
``_CONTEXT_PAD_FRAMES`` of padding (whisper.cpp's ``audio_ctx`` idea): ~4x faster on turns
of a few seconds. Shorter context makes Whisper prone to repeating itself, hence the
repetition penalty and a token budget bounded by the audio's duration.
"""

from __future__ import annotations

import asyncio
import re
import time
import unicodedata
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from livekit import rtc
from livekit.agents import (
    DEFAULT_API_CONNECT_OPTIONS,
    APIConnectOptions,
    stt,
    utils,
    vad,
)
from livekit.agents.language import LanguageCode
from livekit.agents.types import NOT_GIVEN, NotGivenOr

from .audio import WHISPER_RATE, to_whisper_input
from .deadline import within
from .log import logger
from .models import ModelError, load_once, whisper_dir

_NO_SPEECH_PROB = 0.6
"""Whisper invents text ("Thank you.", "So", "de", "y") for music, tones and noise: a
transcript it doubts is dropped. Measured on the five asterisk hold-music tracks, their beeps
and tones, and ~200 real prompts (en tiny.en, es base): the music's and tones' phrases scored
no-speech >= 0.6, or log-probability < -4, or were punctuation; real single words scored
down to no-speech 0.59 and log-probability -3.7 ("minute"), so faster-whisper's pairing
(no-speech > 0.5 with log-probability < -1) is not used: it dropped "minute", "old" and
"console". Whisper's stock phrases for silence, learnt from subtitled videos, scored like
those words (music: "Thank you." at no-speech 0.56, log-probability -1.25; "So" at no-speech
0.30, log-probability -3.80 on one machine and under -4 on another); they are dropped when the
no-speech probability is over _DOUBTED_NO_SPEECH_PROB or the log-probability under
_DOUBTED_LOGPROB (the asterisk prompts saying "Thank you." score no-speech 0.12, -0.6)."""
_DOUBTED_NO_SPEECH_PROB = 0.5
_DOUBTED_LOGPROB = -3.0
_STOCK_PHRASES = frozenset(
    {"thank you", "thanks for watching", "so", "suscribete", "gracias por ver el video"}
)
_LOGPROB_FLOOR = -4.0
"""Average log-probability per token below which the words are guesses: the real prompts
under it were transcribed wrong anyway ("L" for "less than")."""
_WORD = re.compile(r"\w")
_CONTEXT_PAD_FRAMES = 200
"""2 s of silence after the speech: measured on the asterisk prompts, less raised WER."""
_WINDOW_FRAMES = 3000
"""Whisper's 30-second window, in 10 ms mel frames."""
_REPETITION_PENALTY = 1.3
_TOKENS_PER_SECOND = 8
"""Generous bound (speech is ~4 tokens/s) that stops a repetition loop early."""
_AFTER_FLUSH_S = 0.2
"""Speech after a flush shorter than this is the flushed words' tail, not new words: Whisper
would only invent text for it."""

if TYPE_CHECKING:  # the native libraries load with the first Whisper model, not at import
    from faster_whisper import WhisperModel


@dataclass(frozen=True)
class STTOptions:
    model_dir: Path
    language: str
    cpu_threads: int
    compute_type: str
    beam_size: int
    interim_interval: float | None
    fit_context: bool


def load_whisper(model_dir: Path, cpu_threads: int, compute_type: str) -> WhisperModel:
    def load() -> WhisperModel:
        from faster_whisper import WhisperModel

        try:
            return WhisperModel(
                str(model_dir), device="cpu", compute_type=compute_type, cpu_threads=cpu_threads
            )
        except (RuntimeError, ValueError, OSError) as e:
            raise ModelError(
                f"the Whisper model in {model_dir} does not load ({e}): the files are "
                "corrupted or not a CTranslate2 Whisper model; replace them"
            ) from None

    return load_once(("whisper", str(model_dir), cpu_threads, compute_type), load)


class STT(stt.STT[None]):
    def __init__(
        self,
        *,
        vad: vad.VAD,
        model: str | None = None,
        language: str = "en",
        cpu_threads: int = 2,
        compute_type: str = "int8",
        beam_size: int = 1,
        interim_interval: float | None = 1.0,
        fit_context: bool = True,
        accurate: bool = False,
    ) -> None:
        """``model``: a CTranslate2 Whisper folder; unset, the packaged tiny.en (English) or
        base (other languages, and English when ``accurate``: it hears names tiny.en
        mishears, in about twice tiny.en's time). ``vad`` segments the stream.
        ``fit_context=False`` encodes the full 30 s window: slower, slightly more accurate."""
        super().__init__(
            capabilities=stt.STTCapabilities(
                streaming=True, interim_results=interim_interval is not None, manual_flush=True
            )
        )
        self._opts = STTOptions(
            model_dir=whisper_dir(model, language, accurate=accurate),
            language=language.split("-")[0].lower(),
            cpu_threads=cpu_threads,
            compute_type=compute_type,
            beam_size=beam_size,
            interim_interval=interim_interval,
            fit_context=fit_context,
        )
        self._whisper = load_whisper(self._opts.model_dir, cpu_threads, compute_type)
        if not self._whisper.model.is_multilingual and self._opts.language != "en":
            raise ModelError(
                f"the Whisper model in {self._opts.model_dir} is English-only and cannot "
                f"transcribe {language!r}: use a multilingual model or leave the model unset"
            )
        from faster_whisper.tokenizer import Tokenizer

        self._tokenizer = Tokenizer(
            self._whisper.hf_tokenizer,
            self._whisper.model.is_multilingual,
            task="transcribe",
            language=self._opts.language,
        )
        self._prompt = self._whisper.get_prompt(self._tokenizer, [], without_timestamps=True)
        self._vad = vad
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="offline-stt")

    @property
    def model(self) -> str:
        return self._opts.model_dir.name

    @property
    def provider(self) -> str:
        return "offline"

    def transcribe(self, audio: np.ndarray) -> str:
        """Blocking: call from a worker thread."""
        if audio.size == 0:
            return ""
        features = self._whisper.feature_extractor(audio)
        frames = features.shape[-1] + _CONTEXT_PAD_FRAMES
        if self._opts.fit_context and frames <= _WINDOW_FRAMES:
            return self._transcribe_fitted(features, frames + frames % 2, audio.size)
        segments, _ = self._whisper.transcribe(
            audio,
            language=self._opts.language,
            beam_size=self._opts.beam_size,
            condition_on_previous_text=False,
            without_timestamps=True,
            vad_filter=False,
        )
        return " ".join(
            s.text.strip() for s in segments if _heard(s.text, s.no_speech_prob, s.avg_logprob)
        ).strip()

    def _transcribe_fitted(self, features: np.ndarray, frames: int, samples: int) -> str:
        padded = np.zeros((features.shape[0], frames), dtype=np.float32)
        padded[:, : features.shape[-1]] = features
        seconds = samples / WHISPER_RATE
        import ctranslate2

        result = self._whisper.model.generate(
            ctranslate2.StorageView.from_array(padded[None]),
            [self._prompt],
            beam_size=self._opts.beam_size,
            max_length=len(self._prompt) + int(seconds * _TOKENS_PER_SECOND) + 16,
            repetition_penalty=_REPETITION_PENALTY,
            return_no_speech_prob=True,
            return_scores=True,  # length-normalised: the average log-probability per token
            suppress_blank=True,
            suppress_tokens=[-1],
        )[0]
        text = str(self._tokenizer.decode(result.sequences_ids[0])).strip()
        return text if _heard(text, result.no_speech_prob, result.scores[0]) else ""

    async def transcribe_async(self, audio: np.ndarray) -> str:
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, self.transcribe, audio
        )

    async def _recognize_impl(
        self,
        buffer: utils.AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        text = await within(
            self.transcribe_async(to_whisper_input(buffer)), conn_options.timeout, "Whisper"
        )
        return _transcript(stt.SpeechEventType.FINAL_TRANSCRIPT, text, self._opts.language)

    def stream(
        self,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> SpeechStream:
        return SpeechStream(self, conn_options=conn_options)

    async def aclose(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _heard(text: str, no_speech_prob: float, avg_logprob: float) -> bool:
    """Whether Whisper's transcript is words it heard rather than ones it invented."""
    if no_speech_prob >= _NO_SPEECH_PROB or avg_logprob < _LOGPROB_FLOOR:
        return False
    doubted = no_speech_prob > _DOUBTED_NO_SPEECH_PROB or avg_logprob < _DOUBTED_LOGPROB
    if doubted and _plain(text) in _STOCK_PHRASES:
        return False
    return _WORD.search(text) is not None  # "." or "..." for a noise burst


def _plain(text: str) -> str:
    """Lower case, no accents, no punctuation."""
    letters = unicodedata.normalize("NFKD", text.lower())
    return " ".join("".join(c if c.isalnum() else " " for c in letters if c.isascii()).split())


def _transcript(kind: stt.SpeechEventType, text: str, language: str) -> stt.SpeechEvent:
    return stt.SpeechEvent(
        type=kind,
        request_id=uuid.uuid4().hex,
        alternatives=[stt.SpeechData(language=LanguageCode(language), text=text)],
    )


@dataclass(frozen=True)
class _Flush:
    at_s: float
    """How much audio the stream had been given when it was flushed."""


_VAD_WINDOW_S = 0.032
"""Silero judges 512-sample windows: its events trail the audio by up to one."""


class SpeechStream(stt.RecognizeStream):
    def __init__(self, stt_: STT, *, conn_options: APIConnectOptions) -> None:
        super().__init__(stt=stt_, conn_options=conn_options, sample_rate=WHISPER_RATE)
        self._offline = stt_

    async def _run(self) -> None:
        vad_stream = self._offline._vad.stream()
        # Flushes join the VAD's events in one channel: the segmenter keeps its own state
        # (a VAD flush would throw the speech in progress away).
        events = utils.aio.Chan[vad.VADEvent | _Flush]()

        async def forward() -> None:
            pushed_s = 0.0
            async for item in self._input_ch:
                if isinstance(item, self._FlushSentinel):
                    if self._input_ch.closed and self._input_ch.empty():
                        continue  # end_input()'s own flush: the end of input ends the speech
                    events.send_nowait(_Flush(pushed_s))
                else:
                    vad_stream.push_frame(item)
                    pushed_s += item.duration
            vad_stream.end_input()

        async def relay() -> None:
            async for ev in vad_stream:
                events.send_nowait(ev)
            events.close()

        tasks = [asyncio.create_task(forward()), asyncio.create_task(relay())]
        try:
            await _Segmenter(self).run(events)
        finally:
            await utils.aio.cancel_and_wait(*tasks)
            await vad_stream.aclose()


class _Segmenter:
    """One stream's speech segments, turned into interims and finals."""

    def __init__(self, stream: SpeechStream) -> None:
        self._stream, self._stt = stream, stream._offline
        self._language = self._stt._opts.language
        self._speaking = False
        self._speech: list[rtc.AudioFrame] = []
        """The segment's frames since its start or its last flush."""
        self._flushed_s: float | None = None
        """The segment's speech duration at its last flush, if it had one."""
        self._spoken_s = 0.0
        self._next_interim = 0.0
        self._interim: asyncio.Task[None] | None = None
        self._heard_s = 0.0
        """The audio the VAD has judged so far."""
        self._flushes: list[float] = []
        """Flushes waiting for the VAD to judge the audio that came before them (it runs
        behind its input, more so on a busy CPU: judging the words earlier would cut the
        last of them off)."""

    def _send(self, ev: stt.SpeechEvent) -> None:
        self._stream._event_ch.send_nowait(ev)

    async def run(self, events: utils.aio.Chan[vad.VADEvent | _Flush]) -> None:
        try:
            async for ev in events:
                if isinstance(ev, _Flush):
                    self._flushes.append(ev.at_s)
                else:
                    if ev.type == vad.VADEventType.START_OF_SPEECH:
                        self._start(ev)
                    elif ev.type == vad.VADEventType.INFERENCE_DONE and self._speaking:
                        self._more(ev)
                    elif ev.type == vad.VADEventType.END_OF_SPEECH:
                        await self._end(ev)
                    self._heard_s = max(self._heard_s, ev.timestamp)
                while self._flushes and self._flushes[0] <= self._heard_s + _VAD_WINDOW_S:
                    self._flushes.pop(0)
                    await self._flush()
            for _ in self._flushes:  # the input ended before the VAD caught up
                await self._flush()
            if self._speaking:  # the input ended mid-speech: its words still count
                self._speaking = False
                self._send(stt.SpeechEvent(stt.SpeechEventType.END_OF_SPEECH))
                if self._unflushed(self._spoken_s):
                    await self._final(self._speech, None)
        finally:
            await self._stop_interim()

    def _start(self, ev: vad.VADEvent) -> None:
        self._speaking, self._speech = True, list(ev.frames)
        self._flushed_s, self._spoken_s = None, 0.0
        self._next_interim = self._stt._opts.interim_interval or 0.0
        self._send(stt.SpeechEvent(stt.SpeechEventType.START_OF_SPEECH))

    def _more(self, ev: vad.VADEvent) -> None:
        self._speech.extend(ev.frames)
        self._spoken_s = ev.speech_duration
        interval = self._stt._opts.interim_interval
        idle = self._interim is None or self._interim.done()
        if interval is not None and ev.speech_duration >= self._next_interim and idle:
            self._next_interim = ev.speech_duration + interval
            self._interim = asyncio.create_task(self._emit_interim(to_whisper_input(self._speech)))

    async def _emit_interim(self, audio: np.ndarray) -> None:
        text = await self._stt.transcribe_async(audio)
        if text and self._speaking:
            self._send(_transcript(stt.SpeechEventType.INTERIM_TRANSCRIPT, text, self._language))

    async def _stop_interim(self) -> None:
        if self._interim is not None:
            await utils.aio.cancel_and_wait(self._interim)
            self._interim = None

    async def _flush(self) -> None:
        await self._stop_interim()  # its words are in the final now
        if not self._speaking or not self._unflushed(self._spoken_s):
            self._send(_transcript(stt.SpeechEventType.FINAL_TRANSCRIPT, "", self._language))
            return
        speech, self._speech, self._flushed_s = self._speech, [], self._spoken_s
        await self._final(speech, None)

    async def _end(self, ev: vad.VADEvent) -> None:
        await self._stop_interim()
        self._speaking = False
        speech_end = time.time() - ev.silence_duration - ev.inference_duration
        self._send(stt.SpeechEvent(stt.SpeechEventType.END_OF_SPEECH, speech_end_time=speech_end))
        if self._flushed_s is None:
            await self._final(list(ev.frames), speech_end)
        elif self._unflushed(ev.speech_duration):
            await self._final(self._speech, speech_end)

    def _unflushed(self, spoken_s: float) -> bool:
        """Whether the segment has words no final has carried yet."""
        return self._flushed_s is None or spoken_s - self._flushed_s >= _AFTER_FLUSH_S

    async def _final(self, speech: list[rtc.AudioFrame], speech_end: float | None) -> None:
        if not speech:
            return
        started = time.perf_counter()
        timeout = self._stream._conn_options.timeout
        text = await within(
            self._stt.transcribe_async(to_whisper_input(speech)), timeout, "Whisper"
        )
        logger.debug("final transcript in %.0f ms", (time.perf_counter() - started) * 1000)
        if text:
            final = _transcript(stt.SpeechEventType.FINAL_TRANSCRIPT, text, self._language)
            if speech_end is not None:
                final.speech_end_time = speech_end
            self._send(final)
