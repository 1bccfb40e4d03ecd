"""The playground backend's checks on what a browser sends, the room config it builds, and
the token it mints (one room, no admin grant)."""

from __future__ import annotations

import json

import jwt
import pytest

from agent.config import ParleyError, resolve
from agent.config.sources import Layer
from agent.playground.request import INTERPRETER_BACKENDS, PIPELINES, RequestError, parse_join
from agent.rooms import token

GOOD = {"name": "Ada Lovelace", "language": "es", "mode": "interpreter", "pipeline": "offline"}


def test_the_page_choices_make_a_valid_room_config() -> None:
    for pipeline in PIPELINES:
        advanced: dict[str, object] = {"greeting": "Hola"}
        if pipeline == "seamless":  # its licence is the user's to acknowledge
            advanced["interpreter"] = {"accept_license": "CC-BY-NC-4.0"}
        req = parse_join({**GOOD, "pipeline": pipeline, "config": advanced})
        config = resolve([Layer("page", json.dumps(req.room_config()))])
        assert config.mode == "interpreter"
        assert config.language == "es"
        assert config.greeting == "Hola"
        assert config.turn_taking.preset == "conversation"
        assert config.translates == (pipeline in INTERPRETER_BACKENDS)
        if pipeline in INTERPRETER_BACKENDS:
            assert config.interpreter.backend == INTERPRETER_BACKENDS[pipeline]


def test_seamless_from_the_page_without_its_licence_is_refused_naming_the_field() -> None:
    req = parse_join({**GOOD, "pipeline": "seamless"})
    with pytest.raises(ParleyError) as refused:
        resolve([Layer("page", json.dumps(req.room_config()))])
    assert refused.value.report.field == "interpreter.accept_license"
    assert "CC-BY-NC-4.0" in refused.value.report.message


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"mode": "karaoke"}, "mode"),
        ({"pipeline": "gpt-9"}, "pipeline"),
        ({"mode": "assistant", "pipeline": "openai-translation"}, "pipeline"),
        ({"name": "x" * 41}, "name"),
        ({"name": "<script>"}, "name"),
        ({"name": ""}, "name"),
        ({"room": "a/b"}, "room"),
        ({"room": "x" * 49}, "room"),
        ({"language": "english"}, "language"),
        ({"preset": "sluggish"}, "preset"),
        ({"config": {"instructions": "x" * 5000}}, "config"),
        ({"config": ["not", "an", "object"]}, "config"),
        ({"admin": True}, "admin"),
    ],
)
def test_bad_fields_are_named_with_what_is_expected(change: dict[str, object], field: str) -> None:
    with pytest.raises(RequestError) as refused:
        parse_join({**GOOD, **change})
    assert refused.value.field == field
    body = refused.value.to_json()["error"]
    assert body["field"] == field
    assert "expected" in body["message"] or "unknown field" in body["message"]


def test_a_body_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(RequestError, match="JSON object"):
        parse_join(["name", "Ada"])


def test_an_empty_room_means_a_new_room() -> None:
    assert parse_join({**GOOD, "room": ""}).room is None


def test_the_token_opens_one_room_and_grants_no_admin() -> None:
    minted = token("devkey", "secret", "play-1", "ada-1a2b", {"language": "es"}, name="Ada")
    claims = jwt.decode(minted, "secret", algorithms=["HS256"])
    grants = claims["video"]
    assert grants["room"] == "play-1"
    assert grants["roomJoin"] is True
    assert not {"roomAdmin", "roomCreate", "roomList", "roomRecord"} & {
        k for k, v in grants.items() if v
    }
    assert claims["name"] == "Ada"
    assert claims["attributes"] == {"language": "es"}
