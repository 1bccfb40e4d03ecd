"""The playground's backend answers its own page only: Host, Origin, JSON, its own rooms, a
rate per client; identities are unguessable and tokens short-lived."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import TestClient, TestServer

from agent.playground.guard import Guard
from agent.playground.server import TOKEN_TTL, LiveKit, create_app

PAGE = "127.0.0.1:8780"
OWN = {"Host": PAGE, "Origin": f"http://{PAGE}"}
JOIN = {"name": "Ada", "language": "en", "mode": "assistant", "pipeline": "offline"}
# Nothing listens there: a request that got as far as LiveKit answers 502.
NOWHERE = LiveKit(url="ws://127.0.0.1:9", api_key="k", api_secret="s", agent_name="parley")


@pytest.fixture
async def client() -> AsyncIterator[TestClient[Any, Any]]:
    app = create_app(NOWHERE, Guard.for_address("127.0.0.1", 8780))
    async with TestClient(TestServer(app)) as c:
        yield c


async def error_of(resp: Any) -> tuple[int, str]:
    return resp.status, (await resp.json())["error"]["field"]


async def test_a_foreign_origin_is_refused(client: TestClient[Any, Any]) -> None:
    headers = {**OWN, "Origin": "https://evil.example"}
    resp = await client.post("/api/join", json=JOIN, headers=headers)
    assert await error_of(resp) == (403, "Origin")


async def test_a_foreign_host_is_refused_dns_rebinding(client: TestClient[Any, Any]) -> None:
    headers = {"Host": "evil.example:8780", "Origin": "http://evil.example:8780"}
    for resp in (
        await client.get("/api/options", headers=headers),
        await client.post("/api/join", json=JOIN, headers=headers),
    ):
        assert await error_of(resp) == (403, "Host")


async def test_a_cross_site_form_post_is_refused(client: TestClient[Any, Any]) -> None:
    body = '{"name": "Ada", "mode": "assistant", "pipeline": "offline"}'
    headers = {**OWN, "Content-Type": "text/plain"}
    resp = await client.post("/api/join", data=body, headers=headers)
    assert await error_of(resp) == (415, "Content-Type")


async def test_only_rooms_this_playground_opened_can_be_joined(
    client: TestClient[Any, Any],
) -> None:
    resp = await client.post("/api/join", json={**JOIN, "room": "clinic-intake-7"}, headers=OWN)
    assert await error_of(resp) == (403, "room")


async def test_each_client_may_ask_for_a_few_rooms_a_minute(client: TestClient[Any, Any]) -> None:
    statuses = [(await client.post("/api/join", json=JOIN, headers=OWN)).status for _ in range(11)]
    assert statuses[:10] == [502] * 10  # as far as LiveKit, which is not there
    resp = await client.post("/api/join", json=JOIN, headers=OWN)
    assert resp.status == 429 and int(resp.headers["Retry-After"]) >= 1


async def test_the_page_itself_is_served(client: TestClient[Any, Any]) -> None:
    assert (await client.get("/", headers={"Host": PAGE})).status == 200


def test_identities_are_unguessable_and_tokens_short_lived() -> None:
    from agent.playground.server import _identity
    from agent.rooms import token

    suffix = _identity("Ada").rsplit("-", 1)[1]
    assert len(suffix) == 16 and int(suffix, 16) >= 0  # 64 random bits
    claims = jwt.decode(
        token("k", "s" * 32, "r", "ada", ttl=TOKEN_TTL), options={"verify_signature": False}
    )
    assert timedelta(seconds=claims["exp"] - claims["nbf"]) <= timedelta(minutes=30)
