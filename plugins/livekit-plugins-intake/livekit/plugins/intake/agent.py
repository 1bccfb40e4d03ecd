"""The intake as a livekit-agents ``Agent``. Two ways to listen, one engine:

- ``use_model=True``: the language model phrases the questions and hands each answer to the
  engine with the ``record_answer`` tool; the tool's result says whether it was accepted and
  what to ask next.
- ``use_model=False`` (a small model that cannot call tools): the agent says the engine's
  questions as written and the engine parses each user turn; the model is never asked.

On a phone, ``press`` takes the caller's keys (DTMF) as answers too, on either path.

Either way every transcript of the caller, interim or final, is screened for red flags first:
a rule that fires interrupts whatever is being said, the safety message is spoken, and the
call ends (``on_end``) or goes to a person (``on_red_flag`` decides)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from livekit.agents import Agent, AgentSession, llm
from livekit.agents.llm import ChatContext, ChatMessage, StopResponse, ToolResult, function_tool
from livekit.agents.voice import SpeechHandle
from livekit.agents.voice.events import UserInputTranscribedEvent

from .engine import CONFIRMED, CONSENT, IntakeEngine, IntakeRecord, Reply
from .log import logger
from .redflags import RedFlag

INSTRUCTIONS = (
    "You are an automated intake assistant for a clinic, not a person, and you say so. You "
    "talk a patient through a questionnaire before their visit, in the language with code "
    "{language}. Never give medical advice or a diagnosis. After each answer, call "
    "record_answer with the item id and the answer as the patient said it (or as a plain "
    "value: yes, no, a number, a date as YYYY-MM-DD, an option). Use the item id "
    f"'{CONSENT}' for the consent question and '{CONFIRMED}' when the patient says whether "
    "the read-back is correct; when they want to change an answer, call record_answer for "
    "that item with the new value. The tool's result tells you whether the answer was "
    "accepted and what to ask next: ask exactly that, briefly. Items: {items}."
)


@dataclass
class Hooks:
    """What the host does with the intake's events; each is called on the event loop."""

    on_change: Callable[[IntakeRecord], None] = lambda _: None
    """The record changed (an answer, a status): publish it, store it."""
    on_red_flag: Callable[[RedFlag], None] = lambda _: None
    """A rule fired; the safety message is being spoken."""
    on_end: Callable[[IntakeRecord], None] = lambda _: None
    """The last words were spoken (complete, declined or escalated): end or hand over."""


class IntakeAgent(Agent):
    def __init__(
        self,
        engine: IntakeEngine,
        *,
        use_model: bool,
        hooks: Hooks | None = None,
        instructions: str | None = None,
        start_when: Awaitable[bool] | None = None,
    ) -> None:
        """``start_when``: the first words wait until it is true (a phone call is answered
        once the agent's audio track is up, so the session starts first); false: the
        caller left, and nothing is said."""
        items = ", ".join(f"{i.id} ({i.type})" for i in engine.questionnaire.items)
        super().__init__(
            instructions=instructions or INSTRUCTIONS.format(language=engine.language, items=items),
            tools=[function_tool(self.record_answer)] if use_model else [],
        )
        self.engine = engine
        self.use_model = use_model
        self.hooks = hooks or Hooks()
        self._published = 0.0
        self._ending = False
        self._start_when = start_when
        self._starting: asyncio.Task[None] | None = None

    async def on_enter(self) -> None:
        self.session.on("user_input_transcribed", self._on_transcribed)
        self._changed()
        if self._start_when is None:
            self._speak(self.engine.prompt())
        else:
            self._starting = asyncio.create_task(self._start(self._start_when))

    async def _start(self, ready: Awaitable[bool]) -> None:
        if await ready:
            self._speak(self.engine.prompt())

    # --- red flags -------------------------------------------------------------------------

    def _on_transcribed(self, ev: UserInputTranscribedEvent) -> None:
        # Interim transcripts too: the safety message may start before the sentence ends.
        if (flag := self.engine.screen(ev.transcript)) is not None:
            self._escalate(flag)

    def _escalate(self, flag: RedFlag) -> None:
        logger.warning("red flag %s fired (%s)", flag.rule, flag.source)
        self.session.interrupt(force=True)
        self._changed()
        self.hooks.on_red_flag(flag)
        self._speak(self.engine.escalation_message, ends=True)

    # --- listening -------------------------------------------------------------------------

    async def on_user_turn_completed(self, turn_ctx: ChatContext, new_message: ChatMessage) -> None:
        if self.engine.step == "ended":
            raise StopResponse()  # escalated or finished: nothing more is said
        if self.use_model:
            return
        self._follow(self.engine.hear(new_message.text_content or ""))
        raise StopResponse()

    def press(self, key: str) -> None:
        """A key the caller pressed on a phone (DTMF): a complete entry answers what is
        asked, cutting short the question if it is still being said."""
        if self._ending:
            return
        reply = self.engine.press(key)
        if reply is None:
            return
        self.session.interrupt()
        self._follow(reply)

    async def record_answer(self, item: str, value: str) -> ToolResult | None:
        """Records the patient's answer to one questionnaire item (the model's tool, given to
        it only when the model asks the questions).

        Args:
            item: The item id (or "consent", or "confirmed" for the read-back).
            value: The answer, as the patient said it or as a plain value.
        """
        reply = self.engine.answer(item, value)
        if reply.ends:
            self._follow(reply)
            return ToolResult("The agent says the final words itself.", reply_required=False)
        self._changed()
        verdict = "Accepted." if reply.accepted else "Not accepted."
        return ToolResult(f"{verdict} Now say: {reply.say}")

    def _follow(self, reply: Reply) -> None:
        if reply.red_flag is not None:
            self._escalate(reply.red_flag)
            return
        self._changed()
        self._speak(reply.say, ends=reply.ends)

    # --- speaking and the record -----------------------------------------------------------

    def _speak(self, text: str, *, ends: bool = False) -> None:
        if self._ending or not text:
            return
        handle = self._say(text, interruptible=not ends)
        if ends:
            self._ending = True
            handle.add_done_callback(lambda _: self._end())

    def say_last(self, text: str) -> SpeechHandle:
        """Words after the end, not interruptible: the host's own (a handoff that failed is
        followed by the safety message)."""
        return self._say(text, interruptible=False)

    def _say(self, text: str, *, interruptible: bool) -> SpeechHandle:
        """Says ``text`` as written: through the TTS, or a realtime model told the words."""
        session: AgentSession[None] = self.session
        if session.tts is not None or not isinstance(session.llm, llm.RealtimeModel):
            return session.say(text, allow_interruptions=interruptible)
        return session.generate_reply(
            instructions=f"Say exactly this, word for word, and nothing else: {text}",
            allow_interruptions=interruptible,
        )

    def _end(self) -> None:
        if not self.engine.ended:
            self.engine.end()
        self._changed()
        self.hooks.on_end(self.engine.record())

    def _changed(self) -> None:
        record = self.engine.record()
        if record.updated != self._published:
            self._published = record.updated
            self.hooks.on_change(record)
