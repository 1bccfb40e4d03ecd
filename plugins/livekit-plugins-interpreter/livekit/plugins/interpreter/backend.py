"""What the interpreter needs from a speech stack, and the cascade that provides it.

A backend hears a language (STT), translates text between two languages, and speaks a
language (TTS). ``unsupported`` answers, before anyone talks, why a pair cannot work, so the
application can tell the room which pair and which backends would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from livekit.agents import llm, stt, tts


class Translator(Protocol):
    async def translate(self, text: str, source: str, target: str) -> str: ...

    def unsupported(self, source: str, target: str) -> str | None:
        """Why this translator cannot do ``source`` → ``target``; None when it can."""
        ...


class Backend(Protocol):
    def stt(self, language: str) -> stt.STT[Any]: ...

    def tts(self, language: str) -> tts.TTS[Any]: ...

    async def translate(self, text: str, source: str, target: str) -> str: ...

    def unsupported(self, source: str, target: str) -> str | None: ...


INSTRUCTIONS = (
    "You are a professional simultaneous interpreter. Translate the user's text from the "
    "language with code {source} into the language with code {target}. Translate faithfully "
    "and completely; keep names, numbers, units and dates exactly; do not answer, explain or "
    "add anything. Output only the translation."
)


class LLMTranslator:
    """Translation by any livekit-agents LLM, prompted as an interpreter: any pair."""

    def __init__(self, model: llm.LLM[Any]) -> None:
        self._llm = model

    def unsupported(self, source: str, target: str) -> str | None:
        return None

    async def translate(self, text: str, source: str, target: str) -> str:
        ctx = llm.ChatContext.empty()
        ctx.add_message(role="system", content=INSTRUCTIONS.format(source=source, target=target))
        ctx.add_message(role="user", content=text)
        parts: list[str] = []
        async with self._llm.chat(chat_ctx=ctx) as stream:
            async for chunk in stream:
                if chunk.delta and chunk.delta.content:
                    parts.append(chunk.delta.content)
        return "".join(parts).strip()


class CascadeBackend:
    """STT per source language → a translator → TTS per target language.

    ``stt_for`` / ``tts_for`` build a plugin for one language; each is built once and shared by
    every speaker or listener of that language. ``check_stt`` / ``check_tts`` raise (any
    exception, its message is the reason) when a language cannot be served.
    """

    def __init__(
        self,
        *,
        stt_for: Callable[[str], stt.STT[Any]],
        tts_for: Callable[[str], tts.TTS[Any]],
        translator: Translator,
    ) -> None:
        self._stt_for, self._tts_for, self._translator = stt_for, tts_for, translator
        self._stts: dict[str, stt.STT[Any]] = {}
        self._ttss: dict[str, tts.TTS[Any]] = {}

    def stt(self, language: str) -> stt.STT[Any]:
        if language not in self._stts:
            self._stts[language] = self._stt_for(language)
        return self._stts[language]

    def tts(self, language: str) -> tts.TTS[Any]:
        if language not in self._ttss:
            self._ttss[language] = self._tts_for(language)
        return self._ttss[language]

    async def translate(self, text: str, source: str, target: str) -> str:
        return await self._translator.translate(text, source, target)

    def unsupported(self, source: str, target: str) -> str | None:
        reason = self._translator.unsupported(source, target)
        if reason:
            return reason
        for build, language in ((self.stt, source), (self.tts, target)):
            try:
                build(language)
            except Exception as e:  # the plugin's own error says what is missing
                return str(e)
        return None


REALTIME_INSTRUCTIONS = (
    "You are a professional simultaneous interpreter, not an assistant. Everything you hear "
    "is speech in the language with code {source}; say it again in the language with code "
    "{target}, faithfully and completely, keeping names, numbers, units and dates exactly. "
    "Never answer, comment, greet or add anything; if you hear nothing to interpret, say "
    "nothing."
)


class RealtimeBackend:
    """A speech-to-speech model interprets directly: one session per speaker and target
    language, fed that speaker's audio and instructed to interpret, so tone and timing
    survive and overlapping speakers never share a session. Costs one session per
    (speaker, target) pair."""

    sample_rate = 24_000
    """Realtime models speak 24 kHz PCM."""

    def __init__(
        self,
        model_for: Callable[[str, str], llm.RealtimeModel],
        on_metrics: Callable[[Any], None] | None = None,
    ) -> None:
        """``model_for(source, target)`` builds the model of one session; ``on_metrics``
        hears every session's ``metrics_collected`` (usage per reply)."""
        self._model_for, self._on_metrics = model_for, on_metrics

    def unsupported(self, source: str, target: str) -> str | None:
        return None  # multilingual models: the provider reports what it cannot do

    async def session(self, source: str, target: str) -> llm.RealtimeSession[Any]:
        session = self._model_for(source, target).session()
        if self._on_metrics is not None:
            session.on("metrics_collected", self._on_metrics)
        await session.update_instructions(
            REALTIME_INSTRUCTIONS.format(source=source, target=target)
        )
        return session
