"""Hostile room configs and playground requests, generated: each is accepted or refused with a
field and a message, never a crash and never an internal error."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.config import ErrorCode, Layer, ParleyError, resolve
from agent.config.models import RoomConfig
from agent.playground.request import RequestError, parse_join

FIELDS = list(RoomConfig.model_fields)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from([*FIELDS, "kind", "provider", "model"]) | st.text(max_size=8),
            inner,
            max_size=4,
        )
    ),
    max_leaves=30,
)
ROOM_CONFIGS = st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=6)
BOUNDED = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def refused_or_accepted(text: str) -> None:
    try:
        resolve([Layer("dispatch metadata", text)])
    except ParleyError as e:
        assert e.report.code != ErrorCode.INTERNAL_ERROR
        assert len(e.report.message) > 10
        json.loads(e.report.to_attribute())


@BOUNDED
@given(ROOM_CONFIGS)
def test_generated_room_configs(config: dict[str, Any]) -> None:
    refused_or_accepted(json.dumps(config))


@BOUNDED
@given(st.text(max_size=200) | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_generated_metadata_text(text: str) -> None:
    refused_or_accepted(text)


@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=13, max_value=200_000), st.sampled_from(["[", '{"a":']))
def test_deep_nesting_is_malformed_json(depth: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    text = opener * depth + "1" + closer * depth
    try:
        resolve([Layer("dispatch metadata", text)])
    except ParleyError as e:
        assert e.report.code == ErrorCode.MALFORMED_JSON


JOIN_FIELDS = ["name", "language", "room", "mode", "pipeline", "preset", "config"]


@BOUNDED
@given(st.dictionaries(st.sampled_from(JOIN_FIELDS) | st.text(max_size=6), JSON, max_size=8))
def test_generated_join_requests(body: dict[str, Any]) -> None:
    try:
        request = parse_join(body)
    except RequestError as e:
        assert e.message
        return
    request.room_config()  # an accepted request always builds a config
