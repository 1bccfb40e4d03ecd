"""Hear every participant of a LiveKit room: one speech-to-text stream per participant's
audio track, who is human, private files of what they said, and the percentiles of what was
measured. Shared by the interpreter and meeting-assistant plugins."""

from livekit.agents import Plugin

from .files import append_private, private_dir, room_file_stem, write_private
from .gate import ChatGate
from .listener import Backoff, OutageCallback, hear, recognise
from .log import logger
from .roster import humans, is_agent
from .stats import percentile
from .version import __version__

__all__ = [
    "Backoff",
    "ChatGate",
    "OutageCallback",
    "__version__",
    "append_private",
    "hear",
    "humans",
    "is_agent",
    "percentile",
    "private_dir",
    "recognise",
    "room_file_stem",
    "write_private",
]


class ParticipantsPlugin(Plugin):
    def __init__(self) -> None:
        super().__init__(__name__, __version__, __package__, logger)


Plugin.register_plugin(ParticipantsPlugin())
