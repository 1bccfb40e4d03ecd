"""Text-to-speech on the CPU: a Piper voice (``.onnx``) by path, or espeak-ng for any language.

espeak-ng is the default because it speaks ~130 languages from the Debian package and its
first audio arrives in milliseconds. Piper sounds far more natural; no Piper voice is
bundled by default because the one on the registry derives from a non-commercial dataset.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from livekit.agents import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions, tts

from .deadline import within
from .models import ModelError, check_file, load_once

if TYPE_CHECKING:  # onnxruntime loads with the first Piper voice, not at import
    from piper import PiperVoice

ESPEAK_RATE = 22_050
ESPEAK_WPM = 175
"""espeak-ng's default speaking rate; ``speed`` scales it."""
_WAV_HEADER = 44
"""espeak-ng --stdout writes a canonical 44-byte RIFF header, then 16-bit mono PCM."""


@cache
def espeak_voices() -> frozenset[str]:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise ModelError(
            "espeak-ng is not installed: apt-get install espeak-ng (or configure a Piper voice)"
        )
    listing = subprocess.run([exe, "--voices"], capture_output=True, text=True, check=True)
    names: set[str] = set()
    for line in listing.stdout.splitlines()[1:]:
        names.add(line.split()[1].lower())
        # "Other Languages" such as "(en 3)(es-mx 6)": voices that also serve those tags.
        names.update(tag.lower() for tag in re.findall(r"\(([\w-]+) \d+\)", line))
    return frozenset(names)


def espeak_voice(voice: str | None, language: str) -> str:
    """The voice asked for, else the room language, else its base language (pt-BR → pt)."""
    voices = espeak_voices()
    for candidate in (voice,) if voice else (language, language.split("-")[0]):
        if candidate.lower() in voices:
            return candidate.lower()
    raise ModelError(
        f"espeak-ng has no voice for {voice or language!r}: list them with "
        "`espeak-ng --voices`, or configure a Piper voice model for that language"
    )


def load_piper(model: Path, language: str) -> PiperVoice:
    config = model.with_name(model.name + ".json")
    if not model.is_file() or not config.is_file():
        raise ModelError(
            f"no Piper voice at {model} (needs {model.name} and {config.name} side by side): "
            "download a voice from https://huggingface.co/rhasspy/piper-voices to that path"
        )
    voice_language = json.loads(config.read_text()).get("language", {}).get("code", "")
    if voice_language.split("_")[0].lower() != language.split("-")[0].lower():
        raise ModelError(
            f"the Piper voice {model.name} speaks {voice_language!r}, not {language!r}: "
            "choose a voice in the room's language"
        )
    check_file(model, b"\x08", "ONNX")

    def load() -> PiperVoice:
        from piper import PiperVoice

        try:
            return PiperVoice.load(model, config_path=config)
        except Exception as e:  # onnxruntime raises its own exception types
            raise ModelError(f"the Piper voice {model} does not load ({e}): replace it") from None

    return load_once(("piper", str(model)), load)


class TTS(tts.TTS[None]):
    def __init__(
        self,
        *,
        model: str | None = None,
        voice: str | None = None,
        language: str = "en",
        speed: float = 1.0,
    ) -> None:
        """``model``: a Piper ``.onnx`` voice; unset, espeak-ng speaks with ``voice`` (an
        espeak-ng voice name) or the language's own voice. ``speed``: 1.0 is the voice's own
        pace, 1.25 a quarter faster."""
        if not 0.5 <= speed <= 2.0:
            raise ModelError(f"speed {speed} is outside 0.5–2.0: choose a speed in that range")
        self._speed = speed
        self._piper = load_piper(Path(model).expanduser(), language) if model else None
        self._espeak = None if self._piper else espeak_voice(voice, language)
        rate = self._piper.config.sample_rate if self._piper else ESPEAK_RATE
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=False), sample_rate=rate, num_channels=1
        )
        self._model_name = Path(model).stem if model else f"espeak-ng:{self._espeak}"
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="offline-tts")
        self._speaking: set[asyncio.subprocess.Process] = set()

    @property
    def model(self) -> str:
        return self._model_name

    @property
    def provider(self) -> str:
        return "offline"

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> ChunkedStream:
        return ChunkedStream(tts=self, input_text=text, conn_options=conn_options)

    async def aclose(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        for proc in list(self._speaking):  # no espeak-ng outlives its TTS
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        self._speaking.clear()


class ChunkedStream(tts.ChunkedStream):
    def __init__(self, *, tts: TTS, input_text: str, conn_options: APIConnectOptions) -> None:
        super().__init__(tts=tts, input_text=input_text, conn_options=conn_options)
        self._offline = tts

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        output_emitter.initialize(
            request_id=uuid.uuid4().hex,
            sample_rate=self._offline.sample_rate,
            num_channels=1,
            mime_type="audio/pcm",
        )
        if self._offline._piper is not None:
            speaking = self._piper(self._offline._piper, output_emitter)
        else:
            assert self._offline._espeak is not None
            speaking = self._espeak(self._offline._espeak, output_emitter)
        await within(speaking, self._conn_options.timeout, "voice")
        output_emitter.flush()

    async def _piper(self, voice: PiperVoice, output_emitter: tts.AudioEmitter) -> None:
        def run() -> list[bytes]:
            from piper import SynthesisConfig

            syn = SynthesisConfig(length_scale=1.0 / self._offline._speed)
            return [chunk.audio_int16_bytes for chunk in voice.synthesize(self._input_text, syn)]

        loop = asyncio.get_running_loop()
        for pcm in await loop.run_in_executor(self._offline._executor, run):
            output_emitter.push(pcm)

    async def _espeak(self, voice: str, output_emitter: tts.AudioEmitter) -> None:
        # Text goes in on stdin, never argv, so it cannot be read as an option.
        proc = await asyncio.create_subprocess_exec(
            "espeak-ng", "-v", voice, "-s", str(round(ESPEAK_WPM * self._offline._speed)),
            "--stdout", "--stdin",
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        assert proc.stdin and proc.stdout
        self._offline._speaking.add(proc)
        proc.stdin.write(self._input_text.encode())
        proc.stdin.close()
        try:
            await proc.stdout.readexactly(_WAV_HEADER)
            rest = b""
            while chunk := await proc.stdout.read(8192):
                data = rest + chunk
                whole = len(data) - len(data) % 2  # pipe reads may split a 16-bit sample
                output_emitter.push(data[:whole])
                rest = data[whole:]
        except asyncio.IncompleteReadError:
            pass  # nothing to say (empty or all punctuation)
        finally:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            self._offline._speaking.discard(proc)
