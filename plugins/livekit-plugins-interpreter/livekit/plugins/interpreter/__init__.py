"""Live-interpreter plugin for LiveKit Agents: every participant hears every other one in
their own language, on one audio track per language, with captions."""

from livekit.agents import Plugin

from .backend import Backend, CascadeBackend, LLMTranslator, RealtimeBackend, Translator
from .interpreter import CaptionAttributes, Interpreter, InterpreterOptions
from .lag import LagRecorder, LagSummary, UtteranceLag
from .log import logger
from .openai_translation import OpenAITranslationBackend, OpenAITranslationSession
from .output import TRACK_PREFIX
from .segmenter import ClauseSegmenter
from .translation import (
    TranslationBackend,
    TranslationError,
    TranslationSession,
    TranslationUsage,
)
from .version import __version__

__all__ = [
    "TRACK_PREFIX",
    "Backend",
    "CaptionAttributes",
    "CascadeBackend",
    "ClauseSegmenter",
    "Interpreter",
    "InterpreterOptions",
    "LLMTranslator",
    "LagRecorder",
    "LagSummary",
    "OpenAITranslationBackend",
    "OpenAITranslationSession",
    "RealtimeBackend",
    "TranslationBackend",
    "TranslationError",
    "TranslationSession",
    "TranslationUsage",
    "Translator",
    "UtteranceLag",
    "__version__",
]


class InterpreterPlugin(Plugin):
    def __init__(self) -> None:
        super().__init__(__name__, __version__, __package__, logger)


Plugin.register_plugin(InterpreterPlugin())
