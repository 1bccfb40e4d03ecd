"""The interpreter's pieces that need no room: clause segmentation, lag, backends, config."""

from __future__ import annotations

from typing import Any

import pytest
from livekit.agents import DEFAULT_API_CONNECT_OPTIONS, llm
from livekit.plugins import interpreter

from agent.config import ErrorCode, RoomConfig
from agent.modes.interpreter import backend, unsupported_report


def test_interims_are_cut_at_stable_clause_boundaries() -> None:
    seg = interpreter.ClauseSegmenter()
    assert seg.interim("Good morning everyone") == []  # no boundary yet
    assert seg.interim("Good morning everyone, today we") == ["Good morning everyone,"]
    # The same clause is never sent twice; words the interims do not agree on yet wait.
    assert seg.interim("Good morning everyone, today we will talk.") == []
    assert seg.interim("Good morning everyone, today we will talk. First the budget") == [
        "today we will talk."
    ]
    assert seg.final("Good morning everyone, today we will talk. First the budget.") == [
        "First the budget."
    ]
    assert seg.final("A new utterance.") == ["A new utterance."]  # final resets


def test_words_an_interim_revises_are_not_sent() -> None:
    seg = interpreter.ClauseSegmenter()
    assert seg.interim("Please enter your path, followed") == []
    # Only the words both interims share go out: "path," was a guess.
    assert seg.interim("Please enter your password followed by the") == ["Please enter your"]
    assert seg.final("Please enter your password followed by the pound key.") == [
        "password followed by the pound key."
    ]


def test_short_clauses_wait_for_more_words() -> None:
    seg = interpreter.ClauseSegmenter(max_words=10)
    assert seg.interim("Yes, so the plan is") == []  # "Yes," alone translates badly
    assert seg.final("Yes, so the plan is fine.") == ["Yes, so the plan is fine."]


def test_lag_summary_percentiles() -> None:
    lag = interpreter.LagRecorder()
    seen: list[interpreter.UtteranceLag] = []
    lag.on_add = seen.append
    for i in range(1, 11):
        lag.add(
            interpreter.UtteranceLag(speaker="a", target_language="es", start_s=i, end_s=i / 10)
        )
    summary = lag.summary()
    assert summary.utterances == 10 and len(seen) == 10
    assert summary.start_p50_s == 5.5 and summary.start_p95_s == 10
    assert summary.end_p50_s == pytest.approx(0.55)


class EchoLLM(llm.LLM[None]):
    """Answers with what it was asked, so the test sees the prompt the translator built."""

    def chat(self, *, chat_ctx: llm.ChatContext, **_: Any) -> Any:
        outer = self

        class Stream(llm.LLMStream):
            async def _run(self) -> None:
                system, user = (m.text_content for m in chat_ctx.messages())
                for part in (system or "", " | ", user or ""):
                    self._event_ch.send_nowait(
                        llm.ChatChunk(id="x", delta=llm.ChoiceDelta(content=part))
                    )

        return Stream(outer, chat_ctx=chat_ctx, tools=[], conn_options=DEFAULT_API_CONNECT_OPTIONS)


async def test_llm_translator_prompts_a_faithful_interpreter() -> None:
    out = await interpreter.LLMTranslator(EchoLLM()).translate("Call me at 5 pm, Ana.", "en", "fr")
    assert "from the language with code en into the language with code fr" in out
    assert "keep names, numbers" in out and out.endswith("| Call me at 5 pm, Ana.")


def interpreter_config(**pipeline: Any) -> RoomConfig:
    return RoomConfig.model_validate({"mode": "interpreter", "pipeline": pipeline})


OFFLINE = {"provider": "offline"}


def test_unsupported_pair_report_names_the_pair_and_the_backends_that_can() -> None:
    config = interpreter_config(kind="cascade", stt=OFFLINE, llm=OFFLINE, tts=OFFLINE)
    report = unsupported_report(config, "en", "fr", "no pair")
    assert report.code == ErrorCode.UNSUPPORTED_LANGUAGE_PAIR
    assert report.field == "pipeline.llm.provider"
    assert "en → fr" in report.message and "openai or google" in report.message


def test_realtime_pipelines_interpret_speech_to_speech() -> None:
    chosen = backend(interpreter_config(kind="realtime", provider="openai"))
    assert isinstance(chosen, interpreter.RealtimeBackend)
    assert chosen.unsupported("en", "ja") is None


def test_long_unpunctuated_speech_is_chunked_by_phrase() -> None:
    seg = interpreter.ClauseSegmenter(max_words=4)
    assert seg.interim("one two three four") == []  # no second interim agrees yet
    assert seg.interim("one two three four five") == ["one two three four"]
    assert seg.final("one two three four five six seven") == ["five six seven"]
