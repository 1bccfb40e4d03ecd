"""The assistant mode: one agent that answers the participant it hears."""

from __future__ import annotations

from livekit.agents import room_io

from ..config.models import RealtimePipeline, RoomConfig
from ..pipeline.turns import tuned
from .backchannel import BackchannelTolerant
from .chat import bounded_text_input
from .context import RoomContext
from .session import open_session, start

DEFAULT_INSTRUCTIONS = (
    "You are Parley, a helpful voice assistant. Answer briefly and clearly, in plain spoken "
    "language without lists or markup. Reply in the language with code {language}."
)


class Assistant(BackchannelTolerant):
    def __init__(self, config: RoomConfig) -> None:
        super().__init__(
            instructions=config.instructions
            or DEFAULT_INSTRUCTIONS.format(language=config.language)
        )
        self._config = config
        if tuned(config.turn_taking):
            self.backchannel_language = config.language

    async def on_enter(self) -> None:
        greeting = self._config.greeting
        if not greeting:
            return
        if isinstance(self._config.pipeline, RealtimePipeline):
            # A realtime model has no separate TTS to read a fixed text: ask it to say it.
            self.session.generate_reply(instructions=f"Greet the user by saying: {greeting}")
        else:
            self.session.say(greeting)


async def run(room: RoomContext) -> None:
    chat = room_io.RoomOptions(text_input=bounded_text_input())
    await start(room, await open_session(room), Assistant(room.config), chat)
