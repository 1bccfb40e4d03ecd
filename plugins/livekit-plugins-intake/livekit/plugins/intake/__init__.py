"""Spoken intake questionnaires for livekit-agents: the questionnaire is data, a
deterministic engine owns the flow and the record, red flags are rules, and the record
leaves as JSON and as a FHIR R4 ``QuestionnaireResponse``."""

from livekit.agents import Plugin

from . import fhir
from .agent import Hooks, IntakeAgent
from .engine import CONFIRMED, CONSENT, Escalation, IntakeEngine, IntakeRecord, Reply, Status
from .log import logger
from .parse import Parsed, parse
from .questionnaire import (
    Condition,
    Item,
    Option,
    Questionnaire,
    RedFlagRule,
    default_red_flags,
    example_questionnaire,
)
from .redflags import RedFlag, RedFlagScreen
from .version import __version__

__all__ = [
    "CONFIRMED",
    "CONSENT",
    "Condition",
    "Escalation",
    "Hooks",
    "IntakeAgent",
    "IntakeEngine",
    "IntakeRecord",
    "Item",
    "Option",
    "Parsed",
    "Questionnaire",
    "RedFlag",
    "RedFlagRule",
    "RedFlagScreen",
    "Reply",
    "Status",
    "__version__",
    "default_red_flags",
    "example_questionnaire",
    "fhir",
    "parse",
]


class IntakePlugin(Plugin):
    def __init__(self) -> None:
        super().__init__(__name__, __version__, __package__, logger)


Plugin.register_plugin(IntakePlugin())
