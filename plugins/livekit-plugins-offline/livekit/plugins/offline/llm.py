"""A local language model: any GGUF chat model through llama-cpp-python, on the CPU.

Tokens stream from a worker thread to the event loop as they are sampled. Each turn's prompt
is rendered with the model's own chat template; llama.cpp keeps the previous turn's KV cache,
so only the tokens after the shared prefix (system prompt and history) are evaluated again.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from livekit.agents import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions, llm, utils
from livekit.agents.llm import ChatContext, Tool, ToolChoice
from livekit.agents.types import NOT_GIVEN, NotGivenOr

from .deadline import within
from .log import logger
from .models import ModelError, check_file, gguf_path, load_once

if TYPE_CHECKING:  # importing llama_cpp loads native code: only when a model loads
    from llama_cpp import Llama
    from llama_cpp.llama_types import CreateCompletionStreamResponse


@dataclass(frozen=True)
class LLMOptions:
    model_path: Path
    temperature: float
    max_tokens: int
    n_ctx: int
    n_threads: int


class LocalModel:
    """One loaded GGUF with its chat template; one generation at a time."""

    def __init__(self, path: Path, n_ctx: int, n_threads: int) -> None:
        from llama_cpp import Llama, llama_chat_format

        check_file(path, b"GGUF", "GGUF")
        try:
            self.llama: Llama = Llama(
                model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, verbose=False
            )
        except (ValueError, RuntimeError) as e:
            raise ModelError(f"the GGUF model {path} does not load ({e}): replace it") from None
        # Freed before interpreter teardown, where llama.cpp's own finalizer fails noisily.
        atexit.register(self.llama.close)
        template = self.llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise ModelError(
                f"{path} has no chat template (a base model, not an instruct one): use an "
                "instruct/chat GGUF"
            )
        vocab = self.llama._model
        self._eos = self.llama.detokenize([self.llama.token_eos()], special=True).decode()
        self._bos = self.llama.detokenize([self.llama.token_bos()], special=True).decode()
        self._formatter = llama_chat_format.Jinja2ChatFormatter(
            template=template,
            eos_token=self._eos,
            bos_token=self._bos,
            stop_token_ids=[vocab.token_eos()],
        )
        self.lock = threading.Lock()

    def prompt_tokens(self, messages: list[dict[str, str]]) -> tuple[list[int], list[str]]:
        rendered = self._formatter(messages=messages)  # type: ignore[arg-type]
        tokens = self.llama.tokenize(
            rendered.prompt.encode(), add_bos=not rendered.added_special, special=True
        )
        stop = rendered.stop if isinstance(rendered.stop, list) else [rendered.stop or self._eos]
        return tokens, stop

    def fitting_prompt(
        self, messages: list[dict[str, str]], budget: int
    ) -> tuple[list[int], list[str]]:
        """The prompt, forgetting the oldest exchanges until it fits ``budget`` tokens: a long
        call keeps going instead of failing when the context window fills."""
        messages = list(messages)
        tokens, stop = self.prompt_tokens(messages)
        while len(tokens) > budget:
            oldest = next((i for i, m in enumerate(messages[:-1]) if m["role"] != "system"), None)
            if oldest is None:
                raise ModelError(
                    f"the instructions and the last message alone exceed the model's context "
                    f"({len(tokens)} > {budget} tokens): shorten them or raise n_ctx"
                )
            del messages[oldest]
            tokens, stop = self.prompt_tokens(messages)
        return tokens, stop

    def reusable_prefix(self, tokens: list[int]) -> int:
        """How many prompt tokens llama.cpp's cache already holds from the previous turn."""
        cached = self.llama.input_ids[: self.llama.n_tokens].tolist()
        n = 0
        for a, b in zip(cached, tokens, strict=False):
            if a != b:
                break
            n += 1
        return n


def load_model(path: Path, n_ctx: int, n_threads: int) -> LocalModel:
    return load_once(
        ("gguf", str(path), n_ctx, n_threads), lambda: LocalModel(path, n_ctx, n_threads)
    )


class LLM(llm.LLM[None]):
    def __init__(
        self,
        *,
        model: str | None = None,
        temperature: float = 0.7,
        max_tokens: int = 120,
        n_ctx: int = 4096,
        n_threads: int = 2,
    ) -> None:
        """``model``: path to a GGUF chat model; unset, the packaged SmolLM2-135M-Instruct.
        ``max_tokens`` is small on purpose: spoken answers are short."""
        super().__init__()
        self._opts = LLMOptions(
            model_path=gguf_path(model),
            temperature=temperature,
            max_tokens=max_tokens,
            n_ctx=n_ctx,
            n_threads=n_threads,
        )
        self._local = load_model(self._opts.model_path, n_ctx, n_threads)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="offline-llm")

    @property
    def model(self) -> str:
        return self._opts.model_path.name

    @property
    def provider(self) -> str:
        return "offline"

    def chat(
        self,
        *,
        chat_ctx: ChatContext,
        tools: list[Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> LLMStream:
        if tools:
            logger.debug(
                "offline LLM ignores %d tools: small local models cannot call them", len(tools)
            )
        return LLMStream(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)

    async def aclose(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        await super().aclose()


def chat_messages(chat_ctx: ChatContext) -> list[dict[str, str]]:
    """The conversation as plain role/content pairs, which every chat template accepts."""
    messages: list[dict[str, str]] = []
    for item in chat_ctx.messages():
        role = "system" if item.role == "developer" else item.role
        text = item.text_content
        if text:
            messages.append({"role": role, "content": text})
    return messages


class LLMStream(llm.LLMStream):
    def __init__(
        self,
        offline: LLM,
        *,
        chat_ctx: ChatContext,
        tools: list[Tool],
        conn_options: APIConnectOptions,
    ) -> None:
        super().__init__(offline, chat_ctx=chat_ctx, tools=tools, conn_options=conn_options)
        self._offline = offline

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        request_id = uuid.uuid4().hex
        stop = threading.Event()
        messages = chat_messages(self._chat_ctx)

        first = asyncio.Event()

        def deliver(chunk: llm.ChatChunk) -> None:
            first.set()
            with contextlib.suppress(utils.aio.ChanClosed):  # the turn ended meanwhile
                self._event_ch.send_nowait(chunk)

        def emit(chunk: llm.ChatChunk) -> None:
            if not stop.is_set():
                loop.call_soon_threadsafe(deliver, chunk)

        def generate() -> None:
            local, opts = self._offline._local, self._offline._opts
            with local.lock:
                tokens, stop_words = local.fitting_prompt(messages, opts.n_ctx - opts.max_tokens)
                cached = local.reusable_prefix(tokens)
                completion = 0
                stream = cast(
                    "Iterator[CreateCompletionStreamResponse]",
                    local.llama.create_completion(
                        prompt=tokens,
                        max_tokens=opts.max_tokens,
                        temperature=opts.temperature,
                        stop=stop_words,
                        stream=True,
                    ),
                )
                for part in stream:
                    if stop.is_set():
                        break
                    text = part["choices"][0]["text"]
                    completion += 1
                    if text:
                        delta = llm.ChoiceDelta(role="assistant", content=text)
                        emit(llm.ChatChunk(id=request_id, delta=delta))
                usage = llm.CompletionUsage(
                    completion_tokens=completion,
                    prompt_tokens=len(tokens),
                    prompt_cached_tokens=cached,
                    total_tokens=len(tokens) + completion,
                )
                emit(llm.ChatChunk(id=request_id, usage=usage))

        work = loop.run_in_executor(self._offline._executor, generate)
        try:
            # A long answer may take longer than the timeout; no first token in it may not.
            started: asyncio.Future[Any] = asyncio.ensure_future(first.wait())
            either = asyncio.wait([work, started], return_when="FIRST_COMPLETED")
            try:
                await within(either, self._conn_options.timeout, "language model")
            finally:
                started.cancel()
            await work
        finally:
            # Interrupted turns stop sampling at the next token instead of running on.
            stop.set()
