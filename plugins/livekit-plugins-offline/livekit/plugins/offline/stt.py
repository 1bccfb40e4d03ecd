"""Speech-to-text with faster-whisper (CTranslate2, int8) on the CPU.

Whisper is not a streaming model, so the stream segments speech with a VAD: each segment is
transcribed once when it ends (the final) and, while it lasts, re-transcribed every
``interim_interval`` seconds (interims, which barge-in by word count and live captions use).
Inference runs on one worker thread per STT, never on the event loop.

Whisper always encodes a 30-second window, which costs ~0.5 s on two cores however short the
utterance. With ``fit_context`` (the default) the encoder sees only the utterance plus
``_CONTEXT_PAD_FRAMES`` of padding (whisper.cpp's ``audio_ctx`` idea): ~4x faster on turns
of a few seconds. Shorter context makes Whisper prone to repeating itself, hence the
repetition penalty and a token budget bounded by the audio's duration.
"""

from __future__ import annotations

import asyncio
import time
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
from .log import logger
from .models import ModelError, load_once, whisper_dir

_NO_SPEECH_PROB = 0.6
"""Whisper invents text ("Thank you.") for noise; segments it doubts are dropped."""
_CONTEXT_PAD_FRAMES = 200
"""2 s of silence after the speech: measured on the asterisk prompts, less raised WER."""
_WINDOW_FRAMES = 3000
"""Whisper's 30-second window, in 10 ms mel frames."""
_REPETITION_PENALTY = 1.3
_TOKENS_PER_SECOND = 8
"""Generous bound (speech is ~4 tokens/s) that stops a repetition loop early."""

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
    ) -> None:
        """``model``: a CTranslate2 Whisper folder; unset, the packaged tiny.en (English) or
        base (other languages). ``vad`` segments the stream. ``fit_context=False`` encodes
        the full 30 s window: slower, slightly more accurate."""
        super().__init__(
            capabilities=stt.STTCapabilities(
                streaming=True, interim_results=interim_interval is not None
            )
        )
        self._opts = STTOptions(
            model_dir=whisper_dir(model, language),
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
            s.text.strip() for s in segments if s.no_speech_prob < _NO_SPEECH_PROB
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
            suppress_blank=True,
            suppress_tokens=[-1],
        )[0]
        if result.no_speech_prob >= _NO_SPEECH_PROB:
            return ""
        return str(self._tokenizer.decode(result.sequences_ids[0])).strip()

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
        text = await self.transcribe_async(to_whisper_input(buffer))
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


def _transcript(kind: stt.SpeechEventType, text: str, language: str) -> stt.SpeechEvent:
    return stt.SpeechEvent(
        type=kind,
        request_id=uuid.uuid4().hex,
        alternatives=[stt.SpeechData(language=LanguageCode(language), text=text)],
    )


class SpeechStream(stt.RecognizeStream):
    def __init__(self, stt_: STT, *, conn_options: APIConnectOptions) -> None:
        super().__init__(stt=stt_, conn_options=conn_options, sample_rate=WHISPER_RATE)
        self._offline = stt_

    async def _run(self) -> None:
        vad_stream = self._offline._vad.stream()

        async def forward() -> None:
            async for item in self._input_ch:
                if isinstance(item, self._FlushSentinel):
                    vad_stream.flush()
                else:
                    vad_stream.push_frame(item)
            vad_stream.end_input()

        forwarding = asyncio.create_task(forward())
        try:
            await self._segments(vad_stream)
        finally:
            await utils.aio.cancel_and_wait(forwarding)
            await vad_stream.aclose()

    async def _segments(self, vad_stream: vad.VADStream) -> None:
        interval = self._offline._opts.interim_interval
        language = self._offline._opts.language
        speech: list[rtc.AudioFrame] = []
        speaking = False
        next_interim = 0.0
        interim: asyncio.Task[None] | None = None

        async def emit_interim(audio: np.ndarray) -> None:
            text = await self._offline.transcribe_async(audio)
            if text and speaking:
                self._event_ch.send_nowait(
                    _transcript(stt.SpeechEventType.INTERIM_TRANSCRIPT, text, language)
                )

        async for ev in vad_stream:
            if ev.type == vad.VADEventType.START_OF_SPEECH:
                speaking, speech, next_interim = True, list(ev.frames), interval or 0.0
                self._event_ch.send_nowait(stt.SpeechEvent(stt.SpeechEventType.START_OF_SPEECH))
            elif ev.type == vad.VADEventType.INFERENCE_DONE and speaking:
                speech.extend(ev.frames)
                idle = interim is None or interim.done()
                if interval is not None and ev.speech_duration >= next_interim and idle:
                    next_interim = ev.speech_duration + interval
                    interim = asyncio.create_task(emit_interim(to_whisper_input(speech)))
            elif ev.type == vad.VADEventType.END_OF_SPEECH:
                speaking = False
                speech_end = time.time() - ev.silence_duration - ev.inference_duration
                self._event_ch.send_nowait(
                    stt.SpeechEvent(stt.SpeechEventType.END_OF_SPEECH, speech_end_time=speech_end)
                )
                started = time.perf_counter()
                text = await self._offline.transcribe_async(to_whisper_input(ev.frames))
                logger.debug("final transcript in %.0f ms", (time.perf_counter() - started) * 1000)
                if text:
                    final = _transcript(stt.SpeechEventType.FINAL_TRANSCRIPT, text, language)
                    final.speech_end_time = speech_end
                    self._event_ch.send_nowait(final)
        if interim is not None:
            await utils.aio.cancel_and_wait(interim)
