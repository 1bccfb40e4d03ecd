"""A bare livekit-agents worker, no Parley: the baseline the `latency` bench compares with.

    python -m bench.bare_agent start

One AgentSession per room with the OpenAI Realtime plugin configured as Parley configures
its default realtime room (gpt-realtime, voice marin, provider-side turn detection, no local
VAD). Port and agent name come from the same environment variables as Parley's worker.
"""

from __future__ import annotations

import os

from livekit.agents import Agent, AgentServer, AgentSession, JobContext, cli
from livekit.plugins import openai

server = AgentServer(port=int(os.environ.get("PARLEY_HTTP_PORT", "8082")))


@server.rtc_session(agent_name=os.environ.get("LIVEKIT_AGENT_NAME", "bare"))
async def entrypoint(ctx: JobContext) -> None:
    session: AgentSession[None] = AgentSession(
        llm=openai.realtime.RealtimeModel(model="gpt-realtime", voice="marin"),
        vad=None,
        turn_handling={"turn_detection": "realtime_llm"},
    )
    await ctx.connect()
    await session.start(agent=Agent(instructions="You are a helpful assistant."), room=ctx.room)


if __name__ == "__main__":
    cli.run_app(server)
