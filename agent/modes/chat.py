"""Chat into an assistant's session, bounded per participant (``participants.ChatGate``):
a message too long or too soon is dropped before it becomes a model call."""

from __future__ import annotations

import logging

from livekit.agents import AgentSession, room_io
from livekit.plugins.participants import ChatGate

logger = logging.getLogger("parley")


def bounded_text_input() -> room_io.TextInputOptions:
    gate = ChatGate()
    answer = room_io.TextInputOptions().text_input_cb  # livekit-agents' own handling

    async def on_text(session: AgentSession[None], ev: room_io.TextInputEvent) -> None:
        who = ev.participant.identity if ev.participant else ""
        if not gate.admits(who, ev.text):
            logger.info("chat message dropped (too long or too soon): %d so far", gate.dropped)
            return
        result = answer(session, ev)
        if result is not None:
            await result

    return room_io.TextInputOptions(text_input_cb=on_text)
