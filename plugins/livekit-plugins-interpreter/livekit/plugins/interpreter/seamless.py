"""SeamlessM4T v2 (Meta), self-hosted, as an interpreter backend: speech → translated speech
and text, on the worker's GPU when it has one, else its CPU.

The model (``transformers``' ``SeamlessM4Tv2Model``) translates a finished stretch of speech,
so each session cuts the speaker's stream at its pauses (and every few seconds without one,
``chunker.SpeechChunker``) and translates each stretch while the next is being spoken: text,
then speech, per stretch, in order. With ``transcribe`` a second pass into the source
language gives the original's captions. The weights come from a local directory, loaded with
``local_files_only`` once per process and shared by every session; nothing is fetched.

The weights are licensed CC-BY-NC 4.0: non-commercial use only. Needs torch and
transformers: ``pip install "livekit-plugins-interpreter[seamless]"``; the module is not
imported by the package itself.
"""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from livekit import rtc
from transformers import AutoProcessor, SeamlessM4Tv2Model

from .chunker import ChunkerOptions, SpeechChunker
from .translation import (
    SAMPLE_RATE,
    SourceText,
    TranslatedAudio,
    TranslatedText,
    TranslationBackend,
    TranslationError,
    TranslationSession,
    _Meter,
)

LICENSE = "CC-BY-NC-4.0"
MODEL_RATE = 16_000
"""What the model hears and speaks."""
LANGUAGES: dict[str, str] = {
    "ar": "arb",
    "ca": "cat",
    "de": "deu",
    "en": "eng",
    "es": "spa",
    "fr": "fra",
    "hi": "hin",
    "it": "ita",
    "ja": "jpn",
    "ko": "kor",
    "nl": "nld",
    "pl": "pol",
    "pt": "por",
    "ru": "rus",
    "tr": "tur",
    "uk": "ukr",
    "vi": "vie",
    "zh": "cmn",
}
"""Language tags → the model's codes (a subset: it knows about 100 languages)."""


def _code(tag: str) -> str | None:
    return LANGUAGES.get(tag.split("-")[0].lower())


class ModelError(ValueError):
    """The directory holds no usable SeamlessM4T v2 model."""


@dataclass(frozen=True)
class SeamlessOptions:
    chunking: ChunkerOptions = field(default_factory=ChunkerOptions)
    max_new_tokens: int = 96
    """Bounds each stretch's text: a 3 s stretch is a dozen words."""
    speaker_id: int = 0
    """The vocoder's voice."""


@dataclass(frozen=True)
class _Result:
    source: str
    translation: str
    speech: np.ndarray
    """PCM16 at ``MODEL_RATE``."""


class _Model:
    """The loaded weights and the one thread that runs them (torch uses every core itself)."""

    def __init__(self, path: Path, device: str) -> None:
        dtype = torch.float16 if device.startswith("cuda") else torch.float32
        self.processor: Any = AutoProcessor.from_pretrained(  # type: ignore[no-untyped-call]
            path, local_files_only=True
        )
        # Untyped: generate's return type depends on its arguments.
        model: Any = SeamlessM4Tv2Model.from_pretrained(path, local_files_only=True, dtype=dtype)
        self.model: Any = model.to(device).eval()
        self.device, self.dtype = device, dtype
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seamless")

    def translate(
        self,
        audio: np.ndarray,
        source: str,
        target: str,
        options: SeamlessOptions,
        *,
        transcribe: bool,
    ) -> _Result:
        inputs = self.processor(
            audio=audio.astype(np.float32) / 32768, sampling_rate=MODEL_RATE, return_tensors="pt"
        ).to(self.device)
        inputs["input_features"] = inputs["input_features"].to(self.dtype)
        with torch.inference_mode():
            out = self.model.generate(
                **inputs,
                tgt_lang=target,
                speaker_id=options.speaker_id,
                return_intermediate_token_ids=True,
                max_new_tokens=options.max_new_tokens,
            )
            heard = (
                self.model.generate(
                    **inputs,
                    tgt_lang=source,
                    generate_speech=False,
                    max_new_tokens=options.max_new_tokens,
                ).sequences[0]
                if transcribe
                else None
            )
        length = int(out.waveform_lengths.reshape(-1)[0])
        wave = out.waveform[0, :length].float().clamp(-1, 1).cpu().numpy()
        return _Result(
            source="" if heard is None else self._text(heard),
            translation=self._text(out.sequences[0]),
            speech=(wave * 32767).astype(np.int16),
        )

    def _text(self, tokens: torch.Tensor) -> str:
        return str(self.processor.decode(tokens, skip_special_tokens=True)).strip()


_models: dict[tuple[Path, str], _Model] = {}
_loading = threading.Lock()


def _load(path: Path, device: str) -> _Model:
    with _loading:  # two rooms opening at once load the weights once
        if (path, device) not in _models:
            _models[(path, device)] = _Model(path, device)
        return _models[(path, device)]


def _pcm(frames: list[rtc.AudioFrame]) -> np.ndarray:
    return np.concatenate(
        [np.frombuffer(f.data, dtype=np.int16) for f in frames] or [np.zeros(0, np.int16)]
    )


def _frames(speech: np.ndarray) -> list[rtc.AudioFrame]:
    """The model's speech at the sessions' rate, in 100 ms frames (a phrase's pauses show)."""
    if not speech.size:
        return []
    up = rtc.AudioResampler(MODEL_RATE, SAMPLE_RATE)
    whole = rtc.AudioFrame(speech.tobytes(), MODEL_RATE, 1, speech.size)
    pcm = _pcm([*up.push(whole), *up.flush()])
    n = SAMPLE_RATE // 10
    return [
        rtc.AudioFrame(pcm[i : i + n].tobytes(), SAMPLE_RATE, 1, pcm[i : i + n].size)
        for i in range(0, pcm.size, n)
    ]


class SeamlessSession(TranslationSession):
    def __init__(
        self,
        model: _Model,
        source: str,
        target: str,
        options: SeamlessOptions,
        *,
        transcribe: bool,
        on_sent: _Meter,
    ) -> None:
        self._model, self._source, self._target = model, source, target
        self._options, self._transcribe = options, transcribe
        self._chunker = SpeechChunker(MODEL_RATE, options.chunking)
        self._down = rtc.AudioResampler(SAMPLE_RATE, MODEL_RATE)
        self._results: asyncio.Queue[asyncio.Future[_Result] | None] = asyncio.Queue()
        super().__init__(on_sent)

    def _submit(self, stretch: np.ndarray | None) -> None:
        if stretch is None:
            return
        loop = asyncio.get_running_loop()
        call = self._model.translate
        options, transcribe = self._options, self._transcribe
        self._results.put_nowait(
            loop.run_in_executor(
                self._model.executor,
                lambda: call(stretch, self._source, self._target, options, transcribe=transcribe),
            )
        )

    async def _send_audio(self, chunk: bytes) -> None:
        frame = rtc.AudioFrame(chunk, SAMPLE_RATE, 1, len(chunk) // 2)
        for stretch in self._chunker.feed(_pcm(self._down.push(frame))):
            self._submit(stretch)

    async def _send_close(self) -> None:
        for stretch in self._chunker.feed(_pcm(self._down.flush())):
            self._submit(stretch)
        self._submit(self._chunker.flush())
        self._results.put_nowait(None)

    async def _receive(self) -> None:
        while (pending := await self._results.get()) is not None:
            try:
                result = await pending
            except Exception as e:  # out of memory, a broken install: the room hears why
                raise TranslationError(f"the model failed ({type(e).__name__})") from None
            if result.source:
                self._put(SourceText(f" {result.source}"))
            if result.translation:
                self._put(TranslatedText(f" {result.translation}"))
            for frame in _frames(result.speech):
                self._put(TranslatedAudio(frame))

    async def _disconnect(self) -> None:
        while not self._results.empty():  # stretches not yet started are not translated
            if (pending := self._results.get_nowait()) is not None:
                pending.cancel()


class SeamlessBackend(TranslationBackend):
    """Interprets with a local SeamlessM4T v2 (``facebook/seamless-m4t-v2-large``'s files in
    ``model_dir``)."""

    provider = "offline"

    def __init__(
        self,
        model_dir: str | Path,
        *,
        device: str | None = None,
        options: SeamlessOptions | None = None,
    ) -> None:
        """``device``: a torch device; default the first GPU if there is one, else the CPU."""
        super().__init__()
        self._path = Path(model_dir)
        self.model = self._path.name
        self._device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self._options = options or SeamlessOptions()
        try:
            generation = json.loads((self._path / "generation_config.json").read_text())
            self._speaks = set(generation["vocoder_lang_code_to_id"])
            self._writes = set(generation["text_decoder_lang_to_code_id"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ModelError(
                f"{self._path} is not a SeamlessM4T v2 model directory ({type(e).__name__}: "
                "it needs config.json, generation_config.json with the language maps, the "
                "weights and the processor's files)"
            ) from None

    def unsupported(self, source: str, target: str) -> str | None:
        for role, tag in (("source", source), ("target", target)):
            if _code(tag) not in self._writes:
                return f"SeamlessM4T v2 has no {role} language {tag} here"
        if _code(target) not in self._speaks:
            return f"SeamlessM4T v2 writes {target} but does not speak it"
        return None

    async def session(self, source: str, target: str, *, transcribe: bool) -> TranslationSession:
        if (reason := self.unsupported(source, target)) is not None:
            raise TranslationError(reason)
        try:
            model = await asyncio.to_thread(_load, self._path, self._device)
        except Exception as e:  # missing files, a device that is not there
            raise TranslationError(f"cannot load the model ({type(e).__name__})") from None
        return SeamlessSession(
            model,
            str(_code(source)),
            str(_code(target)),
            self._options,
            transcribe=transcribe,
            on_sent=self._meter,
        )
