"""The room config: what a room asks Parley to be. Version 1.

Every field is optional except where a mode needs it; defaults give a working assistant.
Models forbid unknown keys so a typo is an error that names the field, not a silent default.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal, TypeVar, get_args

from livekit.plugins import intake
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, UrlConstraints, model_validator
from pydantic_core import PydanticCustomError

from ..storage import FOLDER_NAME

CONFIG_VERSION: Literal[1] = 1

CloudProvider = Literal["openai", "google"]
"""Providers with an end-to-end realtime model."""
Provider = Literal["openai", "google", "offline"]
"""What a cascade stage can run on: a cloud provider, or ``offline`` on the worker's CPU."""

LanguageTag = Annotated[
    str,
    Field(
        max_length=35,
        pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
        description="BCP-47 language tag such as `en`, `es` or `pt-BR`.",
    ),
]


ModelName = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}(/[A-Za-z0-9][A-Za-z0-9._-]{0,127}){0,3}$",
        description="A provider's model id, or for `offline` a name under the worker's "
        "`PARLEY_MODELS_DIR`: never an absolute path or `..`.",
    ),
]
VoiceName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._+-]{0,63}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- pipeline ------------------------------------------------------------------------------


class RealtimePipeline(_Strict):
    """An end-to-end speech-to-speech model: lowest latency, keeps tone of voice."""

    kind: Literal["realtime"]
    provider: CloudProvider = Field(
        description="`openai` (OpenAI Realtime) or `google` (Gemini Live)."
    )
    model: ModelName | None = Field(
        default=None,
        description="Provider model id; default `gpt-realtime` (openai) or the plugin's "
        "default Gemini Live model (google).",
    )
    voice: VoiceName | None = Field(
        default=None, description="Provider voice name; default `marin` (openai), `Puck` (google)."
    )


def _provider(stage: str) -> Any:
    return Field(
        default="openai", description=f"{stage} provider: `openai`, `google` or `offline`."
    )


def _model(stage: str, offline: str) -> Any:
    return Field(
        default=None,
        description=f"{stage} model id; provider default if unset. `offline`: {offline}.",
    )


def _fallback(stage: str, example: str) -> Any:
    return Field(
        default_factory=list,
        max_length=2,
        description=f"{stage} stages tried in order when this one fails after its retries "
        f"(an outage, a stall): e.g. `[{example}]`. The room keeps talking on the first that "
        "works, and goes back to this one once it recovers.",
    )


class STTChoice(_Strict):
    provider: Provider = _provider("Speech-to-text")
    model: ModelName | None = _model(
        "STT",
        "a CTranslate2 Whisper folder in `PARLEY_MODELS_DIR` (default: packaged tiny.en for "
        "English, base for others, for a meeting's speakers and for an intake's caller)",
    )


class STTStage(STTChoice):
    fallback: list[STTChoice] = _fallback("Speech-to-text", '{"provider": "offline"}')


class LLMChoice(_Strict):
    provider: Provider = _provider("Language-model")
    model: ModelName | None = _model(
        "LLM", "a GGUF chat model in `PARLEY_MODELS_DIR` (default: packaged SmolLM2-135M-Instruct)"
    )
    temperature: float | None = Field(default=None, ge=0.0, le=2.0, description="Sampling.")


class LLMStage(LLMChoice):
    fallback: list[LLMChoice] = _fallback("Language-model", '{"provider": "google"}')


class TTSChoice(_Strict):
    provider: Provider = _provider("Text-to-speech")
    model: ModelName | None = _model(
        "TTS", "a Piper `.onnx` voice in `PARLEY_MODELS_DIR` (default: espeak-ng)"
    )
    voice: VoiceName | None = Field(
        default=None,
        description="TTS voice; provider default if unset. `offline` with espeak-ng: an "
        "espeak-ng voice (default: the room language).",
    )
    speed: float | None = Field(
        default=None,
        ge=0.5,
        le=2.0,
        description="Speaking pace, 1.0 the voice's own; unset: 1.0, or "
        "1.2 in interpreter mode (interpreters speak faster to keep up).",
    )


class TTSStage(TTSChoice):
    fallback: list[TTSChoice] = _fallback("Text-to-speech", '{"provider": "offline"}')


Choice = TypeVar("Choice", STTChoice, LLMChoice, TTSChoice)


def in_order(stage: Choice, fallback: Sequence[Choice], at: str) -> list[tuple[Choice, str]]:
    """A stage and its fallbacks, in the order they are tried, each with its place in the
    config (``pipeline.stt``, ``pipeline.stt.fallback.0``) for the errors it raises."""
    return [(stage, at)] + [(c, f"{at}.fallback.{i}") for i, c in enumerate(fallback)]


class CascadePipeline(_Strict):
    """Speech-to-text → language model → text-to-speech: inspectable, each stage swappable."""

    kind: Literal["cascade"]
    stt: STTStage = Field(default_factory=STTStage, description="Speech-to-text stage.")
    llm: LLMStage = Field(default_factory=LLMStage, description="Language-model stage.")
    tts: TTSStage = Field(default_factory=TTSStage, description="Text-to-speech stage.")


Pipeline = Annotated[RealtimePipeline | CascadePipeline, Field(discriminator="kind")]


# --- turn-taking ---------------------------------------------------------------------------


class Endpointing(_Strict):
    min_delay: float | None = Field(
        default=None,
        ge=0.0,
        le=10.0,
        description="Seconds of silence before a turn may end (livekit default 0.5).",
    )
    max_delay: float | None = Field(
        default=None,
        ge=0.0,
        le=30.0,
        description="Longest wait for the end-of-turn model before ending the turn (default 3).",
    )
    vad_silence: float | None = Field(
        default=None,
        ge=0.25,
        le=2.0,
        description="Seconds of silence before the VAD calls the user's speech ended (silero's "
        "default 0.55; unset: the preset's). No turn ends sooner.",
    )


class Interruption(_Strict):
    enabled: bool | None = Field(default=None, description="Whether the user can barge in.")
    min_duration: float | None = Field(
        default=None, ge=0.0, le=5.0, description="Seconds of user speech that interrupt the agent."
    )
    min_words: int | None = Field(
        default=None, ge=0, le=20, description="Words of user speech that interrupt the agent."
    )


TurnPreset = Literal["livekit-default", "conversation", "telephony", "meeting", "intake"]
TURN_PRESETS: tuple[TurnPreset, ...] = get_args(TurnPreset)
EndOfTurnModel = Literal["livekit", "smart-turn", "both"]
Detection = Literal["provider", "local"]
EarlyStart = Literal["off", "llm", "llm-tts"]


class TurnTaking(_Strict):
    """Turn handling: a cascade's always runs in the worker; a realtime pipeline's runs in
    the worker or on the provider's side (``detection``)."""

    preset: TurnPreset = Field(
        default="livekit-default",
        description="Starting values for endpointing and interruption: `livekit-default` "
        "(livekit-agents' own), `conversation`, `telephony` (noisy 8 kHz lines), `meeting`, "
        "`intake` (slow speakers who pause to think); `endpointing` and `interruption` "
        "override them field by field.",
    )
    endpointing: Endpointing = Field(default_factory=Endpointing, description="End of turn.")
    interruption: Interruption = Field(default_factory=Interruption, description="Barge-in.")
    end_of_turn: EndOfTurnModel | None = Field(
        default=None,
        description="The audio end-of-turn model: `livekit` (livekit-agents' v1-mini), "
        "`smart-turn` (pipecat's Smart Turn v3.2) or `both` (the turn ends when both say so); "
        "unset: the preset's.",
    )
    noise_suppression: bool | None = Field(
        default=None,
        description="Suppress steady background sound (WebRTC's noise suppressor) before the "
        "VAD, the end-of-turn model and the STT hear the user; unset: the preset's.",
    )
    adaptive_vad: bool | None = Field(
        default=None,
        description="Once the room has a noise floor, sound well below the user's own level "
        "(a TV, other talkers, music) reaches the VAD and the STT's segmenter as silence, so "
        "the end of the user's speech is heard; unset: the preset's.",
    )
    detection: Detection | None = Field(
        default=None,
        description="Realtime pipelines: who decides that the user's turn has ended. "
        "`provider`: the provider's own turn detection; `local`: the worker's VAD and "
        "end-of-turn model, with the preset's endpointing, then the worker commits the audio "
        "and asks for the answer (the provider's detection is turned off). A cascade always "
        "decides locally; unset: the preset's.",
    )
    preemptive: EarlyStart | None = Field(
        default=None,
        description="Cascades: start the answer on the transcript so far, before the turn is "
        "judged over (livekit-agents' preemptive generation). `llm`: the language model "
        "starts early; `llm-tts`: the voice too; `off`: both wait. OpenAI Realtime rooms with "
        "`detection: local`: unless `off`, the answer is asked for at the first 0.15 s of "
        "silence and played if the worker then ends the turn. A start that the user's "
        "next words make stale is cancelled, and what it spent is in the session report "
        "(`preemptive`); unset: the preset's.",
    )
    dead_air: float | None = Field(
        default=None,
        ge=0.0,
        le=10.0,
        description="Seconds after the VAD hears the user's speech end when the turn ends "
        "even if the end-of-turn model or the STT still hesitates (no dead air); 0: never; "
        "unset: the preset's.",
    )


# --- modes ---------------------------------------------------------------------------------


MAX_LANGUAGES = 32
"""Entries of `interpreter.languages`: each pair of languages costs a check, and with a
realtime pipeline a session per speaker and language."""

Identity = Annotated[str, Field(min_length=1, max_length=128)]


InterpreterBackend = Literal["pipeline", "openai-translation", "gemini-translation", "seamless"]
SEAMLESS_LICENSE = "CC-BY-NC-4.0"
SEAMLESS_MODEL = "seamless-m4t-v2-large"
TRANSLATORS: dict[InterpreterBackend, Provider] = {
    "openai-translation": "openai",
    "gemini-translation": "google",
    "seamless": "offline",
}


class InterpreterOptions(_Strict):
    languages: dict[Identity, LanguageTag] = Field(
        default_factory=dict,
        max_length=MAX_LANGUAGES,
        description=f"Participant identity → language (at most {MAX_LANGUAGES}); the "
        "participant attribute `language` overrides it.",
    )
    backend: InterpreterBackend = Field(
        default="pipeline",
        description="`pipeline`: the room's pipeline interprets (a cascade recognises, "
        "translates and voices clause by clause; a realtime model is instructed to interpret "
        "each turn); `openai-translation`: OpenAI's realtime translation sessions translate "
        "continuously while the speaker talks, one session per speaker and language "
        "(needs `OPENAI_API_KEY`; the pipeline is not used); `gemini-translation`: the same "
        "with Gemini Live's translation (needs `GOOGLE_API_KEY`); `seamless`: Meta's "
        "SeamlessM4T v2 on the worker's GPU (or CPU), phrase by phrase at the speaker's "
        "pauses (the worker installed with the `seamless` extra; needs `accept_license`).",
    )
    model: ModelName | None = Field(
        default=None,
        description="The translation backend's model; default `gpt-realtime-translate` "
        "(openai), `gemini-3.5-live-translate-preview` (gemini) or, for seamless, the "
        f"directory `{SEAMLESS_MODEL}` under the worker's `PARLEY_MODELS_DIR`.",
    )
    accept_license: Literal["CC-BY-NC-4.0"] | None = Field(
        default=None,
        description=f"`{SEAMLESS_LICENSE}`: acknowledges that SeamlessM4T v2's weights are "
        "for non-commercial use only; the `seamless` backend is refused without it.",
    )

    @model_validator(mode="after")
    def _licensed(self) -> InterpreterOptions:
        if self.backend == "seamless" and self.accept_license != SEAMLESS_LICENSE:
            raise PydanticCustomError(
                "license_required",
                "SeamlessM4T v2's weights are licensed {license} (non-commercial use only): "
                'set it to "{license}" to use the seamless backend, or choose another '
                "interpreter.backend",
                {"license": SEAMLESS_LICENSE, "field": "accept_license"},
            )
        return self


WebhookUrl = Annotated[HttpUrl, UrlConstraints(max_length=2048)]


class MeetingOptions(_Strict):
    wake_name: str = Field(
        default="Parley",
        min_length=2,
        max_length=40,
        pattern=r"^[^\W\d_]+(?:[ '-][^\W\d_]+){0,3}$",
        description="Name that addresses the assistant at the start of an utterance: one to "
        "four words of letters (STT spelling variants are tolerated).",
    )
    notes_dir: str | None = Field(
        default=None,
        pattern=FOLDER_NAME,
        description="A sub-folder of `$PARLEY_DATA_DIR/meetings` for this room's transcript "
        "(`<sid>-<room>.transcript.jsonl`) and notes (`<sid>-<room>.notes.md/.json`): one "
        "name of letters, digits, `-` and `_` (a room never names a path); unset: the folder "
        "itself.",
    )
    webhook_url: WebhookUrl | None = Field(
        default=None,
        description="Where the notes are POSTed (JSON, signed, with retries): `https://` to a "
        "public address, or a host the worker allows (`PARLEY_WEBHOOK_ALLOW_HOSTS`).",
    )
    stt: STTStage | None = Field(
        default=None,
        description="Speech-to-text for each participant; unset: the cascade's STT, or "
        "`offline` Whisper with a realtime pipeline.",
    )
    notes_llm: LLMStage | None = Field(
        default=None,
        description="Language model that writes the notes; unset: the cascade's LLM, or the "
        "realtime provider's text model.",
    )


QuestionnaireName = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$",
        description="`previsit` (packaged, English and Spanish) or the name of a questionnaire "
        "the worker keeps as `$PARLEY_DATA_DIR/questionnaires/<name>.json`.",
    ),
]


class IntakeOptions(_Strict):
    questionnaire: intake.Questionnaire | QuestionnaireName = Field(
        default="previsit",
        description="The questionnaire: inline (see docs/intake.md) or a name the worker knows.",
    )
    safety_message: str | None = Field(
        default=None,
        min_length=1,
        max_length=1_000,
        description="Said the moment a red flag fires; default: the questionnaire's, else the "
        "plugin's (call emergency services) in the call's language.",
    )
    webhook_url: WebhookUrl | None = Field(
        default=None,
        description="Where the record and escalations are POSTed (JSON, signed, retried, "
        "idempotent): `https://` to a public address, or a host the worker allows.",
    )
    transfer_to: str | None = Field(
        default=None,
        pattern=r"^(tel:\+[0-9]{6,15}|sip:[A-Za-z0-9._+-]{1,64}@[A-Za-z0-9.-]{1,253})$",
        description="After a red flag, hand the caller to this person (`tel:+...` or "
        "`sip:user@host`) instead of ending the call; phone calls only.",
    )
    keep_transcript: bool = Field(
        default=False,
        description="Also keep the call's transcript in `$PARLEY_DATA_DIR/intake`; off: only "
        "the record is kept.",
    )
    model_asks: bool | None = Field(
        default=None,
        description="Whether the language model phrases the questions and records answers "
        "through a tool; unset: yes, except with an `offline` language model, where the "
        "questions are asked as written and the answers parsed by the engine.",
    )


# --- prices -------------------------------------------------------------------------------
# Dollars per million tokens, per minute of audio, per million characters. Defaults:
# - OpenAI gpt-realtime: the brief's figures ($32 audio in, $0.40 cached, $64 out) and text
#   $4 / $0.40 / $16, https://openai.com/api/pricing (2025-08, gpt-realtime GA).
# - Gemini Live (gemini-2.5-flash native audio): $3.00 audio in, $12.00 audio out, $0.50 text
#   in, $2.00 text out, https://ai.google.dev/gemini-api/docs/pricing (2025-09). Gemini
#   counts 32 tokens per second of input audio and 25 per second of output audio.
# - Cascade stages at each plugin's default model: OpenAI gpt-4.1 $2 / $0.50 cached / $8,
#   gpt-4o-transcribe $0.006/min, gpt-4o-mini-tts $0.015/min (openai.com/api/pricing);
#   Gemini 2.5 Flash $0.30 / $0.075 cached / $2.50, Google Cloud STT $0.016/min, Cloud TTS
#   Neural2 $16 per million characters (cloud.google.com/speech-to-text|text-to-speech/pricing).
# Prices change and depend on the model: override them per room or in the worker's default.


class TokenPrices(_Strict):
    audio_in: float = Field(default=0.0, ge=0, description="$ per million input audio tokens.")
    audio_in_cached: float = Field(default=0.0, ge=0, description="$ per million cached ones.")
    audio_out: float = Field(default=0.0, ge=0, description="$ per million output audio tokens.")
    text_in: float = Field(default=0.0, ge=0, description="$ per million input text tokens.")
    text_in_cached: float = Field(default=0.0, ge=0, description="$ per million cached ones.")
    text_out: float = Field(default=0.0, ge=0, description="$ per million output text tokens.")


class ProviderPrices(_Strict):
    realtime: TokenPrices = Field(default_factory=TokenPrices, description="Realtime model.")
    llm: TokenPrices = Field(default_factory=TokenPrices, description="Cascade LLM.")
    stt_per_minute: float = Field(default=0.0, ge=0, description="Cascade STT, $ per minute.")
    tts_per_minute: float = Field(
        default=0.0, ge=0, description="Cascade TTS, $ per minute of audio."
    )
    tts_per_million_chars: float = Field(
        default=0.0, ge=0, description="Cascade TTS, $ per million characters."
    )
    translation_per_minute: float = Field(
        default=0.0,
        ge=0,
        description="Realtime translation, $ per minute of audio heard (Google publishes no "
        "per-minute price for Live translation: set it to bill it).",
    )


def _openai_prices() -> ProviderPrices:
    return ProviderPrices(
        realtime=TokenPrices(
            audio_in=32, audio_in_cached=0.40, audio_out=64, text_in=4, text_in_cached=0.40,
            text_out=16,
        ),
        llm=TokenPrices(text_in=2, text_in_cached=0.50, text_out=8),
        stt_per_minute=0.006,
        tts_per_minute=0.015,
        translation_per_minute=0.034,
    )  # fmt: skip


def _google_prices() -> ProviderPrices:
    return ProviderPrices(
        realtime=TokenPrices(
            audio_in=3.0, audio_in_cached=3.0, audio_out=12.0, text_in=0.50,
            text_in_cached=0.50, text_out=2.0,
        ),
        llm=TokenPrices(text_in=0.30, text_in_cached=0.075, text_out=2.50),
        stt_per_minute=0.016,
        tts_per_million_chars=16.0,
    )  # fmt: skip


class Prices(_Strict):
    """What the session report charges; `offline` stages cost nothing."""

    openai: ProviderPrices = Field(default_factory=_openai_prices, description="OpenAI prices.")
    google: ProviderPrices = Field(default_factory=_google_prices, description="Google prices.")


Mode = Literal["assistant", "interpreter", "meeting", "intake"]
"""Each value is a module of ``agent.modes`` (see there)."""


class RoomConfig(_Strict):
    """What one room asks Parley to be."""

    version: Literal[1] = Field(default=CONFIG_VERSION, description="Room-config schema version.")
    mode: Mode = Field(
        default="assistant",
        description="`assistant` (answers the user), `interpreter`, `meeting` or `intake`.",
    )
    pipeline: Pipeline = Field(
        default_factory=lambda: RealtimePipeline(kind="realtime", provider="openai"),
        description="How speech becomes an answer: `realtime` or `cascade`.",
    )
    instructions: str | None = Field(
        default=None,
        max_length=20_000,
        description="System instructions; the mode's default prompt if unset.",
    )
    language: LanguageTag = Field(default="en", description="Language the agent speaks.")
    greeting: str | None = Field(
        default=None,
        max_length=2_000,
        description="Spoken when the agent joins; nothing is said if unset.",
    )
    turn_taking: TurnTaking = Field(default_factory=TurnTaking, description="Turn handling.")
    interpreter: InterpreterOptions = Field(
        default_factory=InterpreterOptions, description="Options of the `interpreter` mode."
    )
    meeting: MeetingOptions = Field(
        default_factory=MeetingOptions, description="Options of the `meeting` mode."
    )
    intake: IntakeOptions = Field(
        default_factory=IntakeOptions, description="Options of the `intake` mode."
    )
    prices: Prices = Field(
        default_factory=Prices, description="Price table for the session report's cost."
    )
    record: bool = Field(
        default=False,
        description="Let LiveKit Cloud record this session (audio, transcripts, traces, logs) "
        "where the project allows it; off unless set: what a room says may be health data.",
    )

    @property
    def translator(self) -> Provider | None:
        """The provider whose translation backend stands in for an interpreter room's
        pipeline (``offline``: a model on the worker); None where the pipeline interprets
        (or the mode is not interpreter)."""
        if self.mode != "interpreter" or self.interpreter.backend == "pipeline":
            return None
        return TRANSLATORS[self.interpreter.backend]

    @property
    def translates(self) -> bool:
        """An interpreter room whose translation backend stands in for its pipeline."""
        return self.mode == "interpreter" and self.interpreter.backend != "pipeline"
