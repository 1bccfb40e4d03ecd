"""Hear every participant of a LiveKit room: one speech-to-text stream per participant's
audio track, who is human, and the percentiles of what was measured. Shared by the
interpreter and meeting-assistant plugins."""

from livekit.agents import Plugin

from .listener import hear
from .log import logger
from .roster import humans, is_agent
from .stats import percentile
from .version import __version__

__all__ = ["__version__", "hear", "humans", "is_agent", "percentile"]


class ParticipantsPlugin(Plugin):
    def __init__(self) -> None:
        super().__init__(__name__, __version__, __package__, logger)


Plugin.register_plugin(ParticipantsPlugin())
