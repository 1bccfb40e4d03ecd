"""The playground page in a real browser (Debian's Chromium, driven by Playwright) against the
real server, worker and fake providers, with a recorded voice as the microphone: the page
joins, the voice reaches the agent, the agent's audio plays, captions and a latency bar
appear, a second page hears the interpretation, and bad input gets a readable message.
Screenshots go to artifacts/playground/."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.async_api import Browser, Page, async_playwright

from fakes.audio import read_wav, resample, write_wav
from stack.livekit_server import LiveKitServer
from stack.playground import PlaygroundProcess, start_playground
from stack.process import ROOT
from stack.recordings import clip, spoken
from stack.worker import WorkerProcess

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "artifacts" / "playground"
FLAGS = [
    "--no-sandbox",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    "--allow-loopback-in-peer-connection",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def playground(
    livekit_server: LiveKitServer, worker: WorkerProcess, log_dir: Path
) -> Iterator[PlaygroundProcess]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup (Debian package chromium)")
    page = start_playground(log_dir, livekit_server.env(), agent_name=worker.agent_name)
    yield page
    page.stop()


@pytest.fixture
def own_playground(
    livekit_server: LiveKitServer, worker: WorkerProcess, log_dir: Path
) -> Iterator[PlaygroundProcess]:
    """A playground of its own: the page allows 10 joins a minute per client, and the tests
    of the shared one use most of them."""
    own_log = log_dir / "own-playground"
    own_log.mkdir(exist_ok=True)
    page = start_playground(own_log, livekit_server.env(), agent_name=worker.agent_name)
    yield page
    page.stop()


def microphone(
    tmp_path: Path, wavs: list[Path], name: str, lead_s: float = 1.0, gap_s: float = 0.5
) -> Path:
    """A WAV for Chromium's fake microphone: ``lead_s`` of quiet, the recordings with
    ``gap_s`` between them, 4 s of quiet (played once, from when the page opens the
    microphone)."""
    rate = 48_000
    parts = [np.zeros(int(rate * lead_s), dtype=np.int16)]
    for wav in wavs:
        samples, r = read_wav(wav.read_bytes())
        parts += [resample(samples, r, rate), np.zeros(int(rate * gap_s), dtype=np.int16)]
    parts.append(np.zeros(4 * rate, dtype=np.int16))
    path = tmp_path / f"{name}.wav"
    path.write_bytes(write_wav(np.concatenate(parts), rate))
    return path


@asynccontextmanager
async def chromium(mic: Path | None) -> AsyncIterator[Browser]:
    flags = [*FLAGS, f"--use-file-for-fake-audio-capture={mic}%noloop"] if mic else FLAGS
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=flags)
        try:
            yield browser
        finally:
            await browser.close()


async def parley(page: Page) -> dict[str, Any]:
    state: dict[str, Any] = await page.evaluate("() => JSON.parse(JSON.stringify(window.parley))")
    return state


async def wait_state(
    page: Page, check: Callable[[dict[str, Any]], object], what: str, timeout: float = 60.0
) -> dict[str, Any]:
    """Polls the page's ``window.parley`` until ``check`` holds; the last state on failure."""
    state: dict[str, Any] = {}
    for _ in range(int(timeout / 0.25)):
        state = await parley(page)
        if check(state):
            return state
        await page.wait_for_timeout(250)
    await shot(page, f"timeout-{what.replace(' ', '-')}")
    raise AssertionError(f"the page never showed {what}: {json.dumps(state)[:1500]}")


async def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def join(
    page: Page, url: str, *, name: str, mode: str, pipeline: str, language: str = "en"
) -> None:
    await page.goto(url)
    await page.fill("#name", name)
    await page.select_option("#language", language)
    if await page.is_visible("#mode"):
        await page.select_option("#mode", mode)
        await page.select_option("#pipeline", pipeline)
    await page.click("#join")


async def test_assistant_hears_the_voice_answers_and_shows_latency_and_cost(
    playground: PlaygroundProcess, tmp_path: Path
) -> None:
    mic = microphone(tmp_path, [clip("vm-nobodyavail")], "assistant")
    async with chromium(mic) as browser:
        page = await browser.new_page()
        await join(page, playground.url, name="Ada", mode="assistant", pipeline="openai-realtime")
        await wait_state(page, lambda s: s["micEnabled"], "the microphone on")
        await wait_state(page, lambda s: s["agentAudioMs"] > 500, "the agent's audio playing")
        state = await wait_state(page, lambda s: s["turns"] and s["cost"], "a turn and its cost")
        await shot(page, "assistant")
        played = await page.evaluate(
            "() => Math.max(...[...document.querySelectorAll('#audio audio')]"
            ".map(a => a.currentTime))"
        )
    assert played > 1.0, "the agent's audio element never played"
    turn = state["turns"][0]
    assert 0 < turn["total_ms"] < 5000
    assert turn["client_measured"], "the browser did not time the answer itself"
    assert {s[0] for s in turn["segments"]} == {"eot", "model", "voice", "rest"}
    assert state["cost"] > 0
    speakers = {c["speaker"] for c in state["captions"] if c["text"]}
    assert {"you", "agent"} <= speakers, state["captions"]
    assert not state["errors"]


def spanish_of(state: dict[str, Any]) -> str:
    """The interpretation into Spanish the page captioned, unit after unit."""
    return " ".join(c["text"] for c in state["captions"] if c["target"] == "es").lower()


async def test_second_page_hears_the_interpretation(
    playground: PlaygroundProcess, tmp_path: Path
) -> None:
    # The interpreter translates only for listeners already in the room, and the speaker's
    # microphone opens as soon as the agent publishes: the listener has 8 s to join first.
    speech = microphone(tmp_path, [clip("conf-onlyperson")], "speaker", lead_s=8.0)
    async with chromium(speech) as speaker_browser, chromium(None) as listener_browser:
        speaker = await speaker_browser.new_page()
        await join(speaker, playground.url, name="Ann", mode="interpreter", pipeline="offline")
        joined = await wait_state(speaker, lambda s: s["joined"], "the room joined")
        listener = await listener_browser.new_page()
        await listener.goto(f"{playground.url}?room={joined['room']}&mode=interpreter")
        await listener.fill("#name", "Beto")
        await listener.select_option("#language", "es")
        await listener.click("#join")
        heard = await wait_state(
            listener,
            lambda s: (
                any(w in spanish_of(s) for w in ("persona", "conferencia", "solo", "única"))
                and s["agentAudioMs"] > 300
            ),
            "the Spanish interpretation",
            timeout=90,
        )
        await shot(speaker, "interpreter-speaker")
        await shot(listener, "interpreter-listener")
    spanish = spanish_of(heard)
    assert any(w in spanish for w in ("persona", "conferencia", "solo", "única")), spanish
    assert not heard["errors"]


async def test_the_clinician_view_fills_live_and_shows_a_red_flag(
    own_playground: PlaygroundProcess, tmp_path: Path
) -> None:
    playground = own_playground
    # The caller consents over the greeting, gives a name, then says a red-flag sentence;
    # the clinician's tab, joined meanwhile, listens only.
    lines = ["Yes, you may.", "My name is John Smith.", "I have crushing chest pain."]
    mic = microphone(tmp_path, [spoken(line) for line in lines], "caller", lead_s=4.0, gap_s=7.0)
    async with chromium(mic) as caller_browser, chromium(None) as clinician_browser:
        caller = await caller_browser.new_page()
        await join(caller, playground.url, name="Pat", mode="intake", pipeline="offline")
        joined = await wait_state(caller, lambda s: s["joined"], "the room joined")
        link = await caller.get_attribute("#clinician-link", "href")
        assert link and "view=clinician" in link and await caller.is_visible("#clinician-link")
        clinician = await clinician_browser.new_page()
        await clinician.goto(link)
        await clinician.fill("#name", "Dr Lee")
        await clinician.click("#join")
        named = await wait_state(
            clinician,
            lambda s: s["intake"] and s["intake"]["answers"].get("full_name") == "John Smith",
            "the caller's name in the record",
            timeout=90,
        )
        await shot(clinician, "intake-clinician-filling")
        flagged = await wait_state(
            clinician, lambda s: s["escalation"], "the red-flag banner", timeout=60
        )
        await shot(clinician, "intake-clinician-red-flag")
        banner = await clinician.inner_text("#red-flag")
        rows = await clinician.inner_text("#intake-answers")
        caller_state = await parley(caller)
    assert named["intake"]["status"] == "in_progress" and "birth_date" in named["intake"]["missing"]
    assert flagged["escalation"] == "chest_pain" and "Red flag: chest pain" in banner
    assert "John Smith" in rows
    assert not flagged["micEnabled"], "the clinician view opened a microphone"
    assert caller_state["micEnabled"] and not errors_of(caller_state, flagged)
    assert joined["room"] == flagged["room"]


def errors_of(*states: dict[str, Any]) -> list[str]:
    return [e for s in states for e in s["errors"]]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("mode", "karaoke", "mode"),
        ("name", "x" * 200, "name"),
        ("room", "../etc passwd!", "room"),
        ("language", "english please", "language"),
    ],
)
async def test_bad_input_gets_a_message_naming_the_field(
    playground: PlaygroundProcess, field: str, value: str, expected: str
) -> None:
    async with chromium(None) as browser:
        page = await browser.new_page()
        await page.goto(playground.url)
        body = {"name": "Ada", "language": "en", "mode": "assistant", "pipeline": "offline"}
        answer = await page.evaluate(
            """async (body) => {
                const r = await fetch('/api/join', {method: 'POST',
                    headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
                return {status: r.status, body: await r.text()};
            }""",
            {**body, field: value},
        )
    assert answer["status"] == 400
    error = json.loads(answer["body"])["error"]
    assert error["field"] == expected
    assert "Traceback" not in answer["body"]
    assert "expected" in error["message"]


async def test_form_errors_and_agent_errors_show_as_a_banner(
    playground: PlaygroundProcess,
) -> None:
    async with chromium(None) as browser:
        page = await browser.new_page()
        await page.goto(playground.url)
        await page.fill("#room", "no spaces allowed")
        await page.click("#join")
        await page.wait_for_selector("#error:not([hidden])")
        assert (await page.inner_text("#error")).startswith("room: ")
        # A room config the agent refuses: the page shows the room's parley.error.
        await page.fill("#room", "")
        await page.click("summary")
        await page.fill("#config", '{"turn_taking": {"preset": "sluggish"}}')
        await page.click("#join")
        await page.wait_for_function(
            "() => window.parley.errors.some(e => e.includes('turn_taking.preset'))",
            timeout=60_000,
        )
        await shot(page, "agent-error")
        banner = await page.inner_text("#error")
    assert "The agent reports invalid_value in turn_taking.preset" in banner
