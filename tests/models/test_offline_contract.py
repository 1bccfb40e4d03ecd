"""livekit-agents' contracts for STT and TTS plugins, held against livekit-plugins-offline in
the spirit of livekit/agents' generic plugin tests: empty input, one metrics event per
request, the rates and frames it announces, streaming TTS through the framework's adapter,
and a stream fed at a rate the model does not use. (Flush, end of input, timeouts and leaked
tasks: ``test_offline_stt.py``, ``test_offline_deadlines.py``, ``tests/leaks.py``.)"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
from livekit import rtc
from livekit.agents import stt, tts, vad
from livekit.plugins import offline

from stack.recordings import clip, known_text, word_error_rate

from .conftest import pcm_frame, wav_frame
from .test_offline_stt import frames_of


def counting(plugin: Any) -> list[Any]:
    seen: list[Any] = []
    plugin.on("metrics_collected", seen.append)
    return seen


async def test_stt_empty_audio_is_an_empty_final_and_one_metrics_event(
    english_stt: offline.STT,
) -> None:
    seen = counting(english_stt)
    event = await english_stt.recognize(buffer=pcm_frame(np.zeros(0, np.int16), 16_000))
    assert event.type == stt.SpeechEventType.FINAL_TRANSCRIPT
    assert event.alternatives[0].text == ""
    await asyncio.sleep(0)
    assert len(seen) == 1
    english_stt.off("metrics_collected", seen.append)


async def test_stt_stream_fed_at_48_khz_is_resampled(vad_model: vad.VAD) -> None:
    recogniser = offline.STT(vad=vad_model, language="en", interim_interval=None)
    speech = wav_frame(str(clip("vm-nobodyavail")))
    pcm = np.frombuffer(speech.data, np.int16).astype(np.float32)
    n = round(pcm.size * 48_000 / speech.sample_rate)
    up = np.interp(np.linspace(0, pcm.size - 1, n), np.arange(pcm.size), pcm).astype(np.int16)
    silence = np.zeros(48_000, np.int16)
    stream = recogniser.stream()
    for frame in frames_of(pcm_frame(np.concatenate([silence, up, silence]), 48_000)):
        stream.push_frame(frame)
    stream.end_input()
    finals = [
        ev.alternatives[0].text
        async for ev in stream
        if ev.type == stt.SpeechEventType.FINAL_TRANSCRIPT
    ]
    assert len(finals) == 1
    assert word_error_rate(known_text("vm-nobodyavail"), finals[0]) <= 0.3, finals


async def test_tts_announces_its_rate_and_says_nothing_for_nothing() -> None:
    voice = offline.TTS(language="en")
    seen = counting(voice)
    frames = [a.frame async for a in voice.synthesize("Hello there.")]
    assert frames and all(
        f.sample_rate == voice.sample_rate and f.num_channels == voice.num_channels == 1
        for f in frames
    )
    for _ in range(100):  # the framework emits them once the stream has ended
        if seen:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)
    assert len(seen) == 1
    empty = [a.frame async for a in voice.synthesize("")]
    assert sum(f.samples_per_channel for f in empty) == 0
    await voice.aclose()


async def test_tts_streams_through_the_frameworks_adapter() -> None:
    """livekit-agents' ``StreamAdapter`` cuts pushed text into sentences and voices each: the
    offline TTS streams that way (what an AgentSession does with it), sentence by sentence
    in order, in one segment."""
    voice = offline.TTS(language="en")
    sentences = ["Nobody is available to take your call.", "Please try again later."]
    alone = [
        sum([a.frame.samples_per_channel async for a in voice.synthesize(t)]) for t in sentences
    ]
    adapter = tts.StreamAdapter(tts=voice)
    stream = adapter.stream()
    for word in " ".join(sentences).split(" "):
        stream.push_text(word + " ")
    stream.end_input()
    frames: list[rtc.AudioFrame] = []
    segments = set()
    async for audio in stream:
        frames.append(audio.frame)
        segments.add(audio.segment_id)
    await stream.aclose()
    await adapter.aclose()
    assert {f.sample_rate for f in frames} == {voice.sample_rate} and len(segments) == 1
    total = sum(f.samples_per_channel for f in frames)
    assert abs(total - sum(alone)) <= 0.02 * sum(alone), (total, alone)
    await voice.aclose()
