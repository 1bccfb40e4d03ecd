"""Webhooks a room config names: no private addresses, no redirects, signed, idempotent."""

from __future__ import annotations

import time

import pytest
from livekit.plugins import webhook

from stack.webhook import receiving

SECRET = b"s3cret"
LOCAL = webhook.WebhookPolicy(
    secret=SECRET, allow_hosts=frozenset({"127.0.0.1"}), timeout_s=0.5, backoff_s=0.01
)
STRICT = webhook.WebhookPolicy(secret=SECRET)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]:9464/metrics",
        "https://0x7f000001/",  # 127.0.0.1 written in hex
        "https://2130706433/",  # and as one number
        "https://127.1/",
        "https://[::ffff:127.0.0.1]/",
        "https://10.1.2.3/hook",
        "https://192.168.0.1/hook",
        "https://[fe80::1]/hook",
        "https://224.0.0.1/hook",
        "https://0.0.0.0/hook",
        "http://example.com/hook",  # plain http to a host nobody allowed
        "https://user:pw@example.com/hook",
        "ftp://example.com/hook",
    ],
)
def test_urls_a_room_may_not_make_the_worker_call(url: str) -> None:
    assert STRICT.refusal(url) is not None, url


def test_public_https_and_allowed_hosts_pass() -> None:
    assert STRICT.refusal("https://hooks.example.com/notes?token=x") is None
    assert LOCAL.refusal("http://127.0.0.1:8080/hook") is None


async def test_a_name_resolving_to_loopback_is_refused_before_connecting() -> None:
    async with receiving([200]) as receiver:
        url = receiver.url.replace("http://127.0.0.1", "https://localhost")
        delivery = await webhook.post(url, {"a": 1}, LOCAL)
    assert (delivery.ok, delivery.error) == (False, "refused")
    assert receiver.bodies == []


async def test_redirects_are_not_followed() -> None:
    async with receiving(["redirect"]) as receiver:
        delivery = await webhook.post(receiver.url, {"a": 1}, LOCAL)
    assert (delivery.ok, delivery.error, delivery.attempts) == (False, "HTTP 307", 1)
    assert len(receiver.bodies) == 1  # /elsewhere was never asked


@pytest.mark.parametrize(
    ("script", "ok", "attempts"),
    [
        ([200], True, 1),
        ([500, 503, 200], True, 3),
        ([500], False, 3),
        ([404], False, 1),  # refused: retrying would not help
        (["stall"], False, 3),
    ],
)
async def test_retries_are_signed_with_one_idempotency_key(
    script: list[int | str], ok: bool, attempts: int
) -> None:
    async with receiving(script) as receiver:
        delivery = await webhook.post(f"{receiver.url}?token=secret", {"n": 1}, LOCAL)
    assert (delivery.ok, delivery.attempts) == (ok, attempts), delivery
    assert len(receiver.bodies) == attempts and receiver.bodies[0] == {"n": 1}
    assert len({h[webhook.IDEMPOTENCY_HEADER] for h in receiver.headers}) == 1
    for raw, headers in zip(receiver.raw, receiver.headers, strict=True):
        assert webhook.verify(SECRET, headers[webhook.SIGNATURE_HEADER], raw)
    shown = delivery.model_dump_json()
    assert "secret" not in shown and "127.0.0.1" not in shown and "/hook" not in shown


def test_a_signature_over_other_bytes_or_an_old_time_fails() -> None:
    now = int(time.time())
    header = webhook.signature(SECRET, now, b'{"n":1}')
    assert webhook.verify(SECRET, header, b'{"n":1}')
    assert not webhook.verify(SECRET, header, b'{"n":2}')
    assert not webhook.verify(b"other", header, b'{"n":1}')
    assert not webhook.verify(SECRET, webhook.signature(SECRET, now - 3600, b"x"), b"x")
    assert not webhook.verify(SECRET, "garbage", b"x")
