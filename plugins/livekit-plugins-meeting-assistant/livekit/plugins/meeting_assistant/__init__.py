"""Meeting-assistant plugin for LiveKit Agents: hears every participant, keeps an attributed
transcript, speaks only when addressed, and writes the notes."""

from livekit.agents import Plugin
from livekit.plugins.webhook import Delivery

from .assistant import MeetingAssistant, MeetingOptions, TranscriptDelay
from .delivery import post_notes, write_files
from .log import logger
from .notes import ActionItem, Notes, NotesContent, parse, write_notes
from .transcript import Line, TranscriptFile
from .version import __version__
from .wake import addressed

__all__ = [
    "ActionItem",
    "Delivery",
    "Line",
    "MeetingAssistant",
    "MeetingOptions",
    "Notes",
    "NotesContent",
    "TranscriptDelay",
    "TranscriptFile",
    "__version__",
    "addressed",
    "parse",
    "post_notes",
    "write_files",
    "write_notes",
]


class MeetingAssistantPlugin(Plugin):
    def __init__(self) -> None:
        super().__init__(__name__, __version__, __package__, logger)


Plugin.register_plugin(MeetingAssistantPlugin())
