"""What one room may cost the interpreter: language tags are checked, the languages served
are bounded, and a track that falls behind drops its oldest unit and says so."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from livekit import rtc
from livekit.plugins import interpreter
from livekit.plugins.interpreter.output import InterpretationTrack, Unit

STANDARD = rtc.ParticipantKind.PARTICIPANT_KIND_STANDARD


def person(identity: str, language: str) -> Any:
    return SimpleNamespace(identity=identity, kind=STANDARD, attributes={"language": language})


def room_of(*people: Any) -> Any:
    return SimpleNamespace(remote_participants={p.identity: p for p in people})


def backend() -> interpreter.RealtimeBackend:
    return interpreter.RealtimeBackend(lambda _s, _t: None)  # type: ignore[arg-type, return-value]


async def test_a_language_attribute_that_is_no_tag_is_refused_by_name() -> None:
    refused: list[tuple[str, str]] = []
    bad = person("mallory", "en; DROP TABLE" + "x" * 5000)
    room = room_of(person("ana", "es"), bad)
    interp = interpreter.Interpreter(room, backend(), on_refused=lambda *a: refused.append(a))
    assert interp.language_of(bad) is None
    assert interp.language_of(room.remote_participants["ana"]) == "es"
    assert [who for who, _ in refused] == ["mallory"]


async def test_languages_beyond_the_room_bound_are_refused_in_joining_order() -> None:
    refused: list[str] = []
    tags = ["en", "es", "fr", "de", "it", "pt", "ca", "nl", "ja"]
    people = [person(f"p{i}", tag) for i, tag in enumerate(tags)]
    interp = interpreter.Interpreter(
        room_of(*people),
        backend(),
        interpreter.InterpreterOptions(max_languages=8),
        on_refused=lambda who, _: refused.append(who),
    )
    assert [interp.language_of(p) for p in people] == [*tags[:8], None]
    assert refused == ["p8"]
    # A ninth speaker of a language already served is fine.
    assert interp.language_of(person("q", "es")) == "es"


def unit(loop: asyncio.AbstractEventLoop, n: int) -> Unit:
    return Unit(
        speaker="a",
        source="en",
        target="es",
        segment_id=str(n),
        translation=loop.create_future(),
        speech_start=0.0,
    )


async def test_a_track_that_falls_behind_drops_its_oldest_units_and_counts_them() -> None:
    loop = asyncio.get_running_loop()
    lag = interpreter.LagRecorder()
    told: list[int] = []
    lag.on_drop = lambda: told.append(lag.dropped)

    async def spoken(_: Unit, __: str) -> None: ...

    track = InterpretationTrack(
        room_of(), "es", None, 24_000, spoken, max_queued=4, on_drop=lambda _: lag.drop()
    )
    units = [unit(loop, n) for n in range(10)]
    for u in units:
        track.enqueue(u)
    assert lag.summary().dropped == 6 and told == [1, 2, 3, 4, 5, 6]
    assert all(u.played.done() and u.played.result() is None for u in units[:6])
    assert not any(u.played.done() for u in units[6:])
    await track.aclose()
