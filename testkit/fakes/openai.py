"""Fake OpenAI: the Realtime and realtime-translation WebSockets and the HTTP APIs the
livekit-plugins-openai clients (and the interpreter plugin's translation client) call.

Everything lives under ``/v1`` so a plugin's ``base_url`` is ``http://127.0.0.1:PORT/v1``.
"""

from __future__ import annotations

from aiohttp import web

from . import openai_http, openai_realtime, openai_translation
from .record import Recorder


def routes(recorder: Recorder) -> list[web.RouteDef]:
    return (
        openai_realtime.routes(recorder)
        + openai_translation.routes(recorder)
        + openai_http.routes(recorder)
    )
