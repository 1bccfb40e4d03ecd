"""Offline plugin for LiveKit Agents: speech-to-text, language model, text-to-speech and
translation that run on the CPU of the worker, with default weights shipped in packages.
"""

from livekit.agents import Plugin

from .llm import LLM, LLMStream
from .log import logger
from .models import ModelError
from .stt import STT, SpeechStream
from .translate import Translator
from .tts import TTS, ChunkedStream
from .version import __version__

__all__ = [
    "LLM",
    "STT",
    "TTS",
    "ChunkedStream",
    "LLMStream",
    "ModelError",
    "SpeechStream",
    "Translator",
    "__version__",
]


class OfflinePlugin(Plugin):
    def __init__(self) -> None:
        super().__init__(__name__, __version__, __package__, logger)


Plugin.register_plugin(OfflinePlugin())
