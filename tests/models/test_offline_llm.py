"""llama.cpp with the packaged SmolLM2: streaming, chat template, prefix reuse, interruption."""

from __future__ import annotations

import asyncio

import pytest
from livekit.agents import llm
from livekit.plugins import offline

SYSTEM = "You are a friendly voice assistant. Answer in one short sentence."


@pytest.fixture(scope="module")
def local_llm() -> offline.LLM:
    return offline.LLM()


async def reply(model: offline.LLM, ctx: llm.ChatContext) -> tuple[list[str], llm.CompletionUsage]:
    deltas: list[str] = []
    usage = None
    async with model.chat(chat_ctx=ctx) as stream:
        async for chunk in stream:
            if chunk.delta and chunk.delta.content:
                deltas.append(chunk.delta.content)
            usage = chunk.usage or usage
    assert usage is not None
    return deltas, usage


async def test_streams_an_answer_and_reuses_the_prompt_prefix(local_llm: offline.LLM) -> None:
    ctx = llm.ChatContext.empty()
    ctx.add_message(role="system", content=SYSTEM)
    ctx.add_message(role="user", content="Hello, who are you?")
    first, usage1 = await reply(local_llm, ctx)
    assert len(first) > 1 and "".join(first).strip()  # streamed token by token
    assert "<|im_" not in "".join(first)  # the template's stop tokens end the turn
    ctx.add_message(role="assistant", content="".join(first))
    ctx.add_message(role="user", content="What can you help me with?")
    _, usage2 = await reply(local_llm, ctx)
    # The system prompt and the first exchange are already in llama.cpp's KV cache.
    assert usage2.prompt_cached_tokens >= usage1.prompt_tokens - 1
    assert usage2.prompt_tokens > usage2.prompt_cached_tokens


async def test_an_interrupted_reply_stops_sampling(local_llm: offline.LLM) -> None:
    ctx = llm.ChatContext.empty()
    ctx.add_message(role="user", content="Tell me a very long story about a dragon.")
    stream = local_llm.chat(chat_ctx=ctx)
    async for _ in stream:
        break
    await stream.aclose()
    # The model is free again at once: the next turn does not wait for the old one.
    ctx.add_message(role="user", content="Say hi.")
    deltas, _ = await asyncio.wait_for(reply(local_llm, ctx), timeout=10)
    assert deltas


async def test_a_long_conversation_forgets_its_oldest_turns() -> None:
    small = offline.LLM(n_ctx=512, max_tokens=32)
    ctx = llm.ChatContext.empty()
    ctx.add_message(role="system", content=SYSTEM)
    for i in range(40):  # far more than 512 tokens of history
        ctx.add_message(role="user", content=f"Question number {i}: what is {i} plus {i}?")
        ctx.add_message(role="assistant", content=f"{i} plus {i} is {2 * i}.")
    ctx.add_message(role="user", content="And what is two plus two?")
    deltas, usage = await reply(small, ctx)
    assert deltas and usage.prompt_tokens <= 512 - 32
