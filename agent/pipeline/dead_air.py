"""No dead air: a user turn that has clearly ended is answered, whatever hesitates.

livekit-agents ends a turn only when its VAD hears the speech end and, on a transcript, the
end-of-turn wait runs out; with no transcript yet it waits for one. Under loud background
sound either can stall: the VAD keeps hearing "speech", or the STT keeps its final back, and
the user hears nothing at all. The guard arms a timer at the end of the user's speech (or at
a final transcript while the VAD still hears "speech"); if the user has said something and
does not speak again for ``after_s``, it commits the turn itself
(``AgentSession.commit_user_turn``).
"""

from __future__ import annotations

import asyncio
import logging

from livekit.agents import AgentSession
from livekit.agents.voice.events import (
    ConversationItemAddedEvent,
    UserInputTranscribedEvent,
    UserStateChangedEvent,
)

logger = logging.getLogger("parley.turns")


class DeadAirGuard:
    def __init__(self, session: AgentSession[None], after_s: float) -> None:
        self._session, self._after_s = session, after_s
        self._timer: asyncio.TimerHandle | None = None
        self._heard = False
        self.commits = 0
        session.on("user_state_changed", self._on_user_state)
        session.on("user_input_transcribed", self._on_transcribed)
        session.on("conversation_item_added", self._on_item)
        session.on("close", lambda _: self._disarm())  # a closed session takes no turn

    def _arm(self) -> None:
        self._disarm()
        self._timer = asyncio.get_running_loop().call_later(self._after_s, self._fire)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _on_user_state(self, ev: UserStateChangedEvent) -> None:
        if ev.new_state == "speaking":
            self._disarm()
        elif ev.old_state == "speaking":
            self._arm()

    def _on_transcribed(self, ev: UserInputTranscribedEvent) -> None:
        if ev.is_final and ev.transcript.strip():
            self._heard = True
            if self._timer is None:  # counting from the end of speech already, if it ended
                self._arm()

    def _on_item(self, ev: ConversationItemAddedEvent) -> None:
        if ev.item.type == "message" and ev.item.role == "user":  # the turn was taken
            self._heard = False
            self._disarm()

    def _fire(self) -> None:
        self._timer = None
        # "thinking" may be preemptive generation, before any commit: only a reply being
        # spoken means the turn was taken.
        if not self._heard or self._session.agent_state == "speaking":
            return
        self._heard = False
        try:
            future = self._session.commit_user_turn()
        except RuntimeError:  # closing: its "close" event, which disarms, is on its way
            return
        self.commits += 1
        logger.info("no end of turn %.1f s after the user's last words: ending it", self._after_s)
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
