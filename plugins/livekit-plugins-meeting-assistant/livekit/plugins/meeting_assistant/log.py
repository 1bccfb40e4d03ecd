import logging

logger = logging.getLogger("livekit.plugins.meeting_assistant")
