"""POSTing JSON to a receiver under a policy: signed, idempotent, never redirected.

Each request carries ``Idempotency-Key`` (the same on every retry of one delivery, so a
receiver stores it once) and ``Webhook-Signature: t=<unix seconds>,v1=<hex>``, where ``<hex>``
is HMAC-SHA256 with the shared secret over ``"<t>.<body>"``: the receiver recomputes it over
the raw body it got and refuses a mismatch or an old ``t`` (replays).

What a delivery reports is its status only: never the URL's path or query, never an
internal error's text (a room sees it).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import aiohttp
from pydantic import BaseModel

from .log import logger
from .policy import AddressRefused, CheckedResolver, WebhookPolicy

SIGNATURE_HEADER = "Webhook-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


class Delivery(BaseModel):
    target: str
    """What was delivered to: ``webhook``, or another kind its caller names."""
    ok: bool
    attempts: int
    error: str | None = None
    """A short status: ``HTTP 500``, ``timed out``, ``could not connect``, ``refused``."""


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: bytes, header: str, body: bytes, *, max_age_s: float = 300.0) -> bool:
    """What a receiver does with ``Webhook-Signature`` (a Python one may call this)."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    fresh = abs(time.time() - timestamp) <= max_age_s
    return fresh and hmac.compare_digest(signature(secret, timestamp, body), header)


async def post(url: str, payload: dict[str, Any], policy: WebhookPolicy) -> Delivery:
    """POSTs ``payload`` as JSON; retries a timeout, a connection error or a 5xx answer."""
    if (why := policy.refusal(url)) is not None:
        logger.warning("webhook refused: %s", why)
        return Delivery(target="webhook", ok=False, attempts=0, error="refused")
    body = json.dumps(payload, separators=(",", ":")).encode()
    key = uuid.uuid4().hex
    timeout = aiohttp.ClientTimeout(total=policy.timeout_s)
    connector = aiohttp.TCPConnector(resolver=CheckedResolver(policy), use_dns_cache=False)
    error, attempt = "", 0
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        for attempt in range(1, policy.attempts + 1):
            headers = {
                "Content-Type": "application/json",
                IDEMPOTENCY_HEADER: key,
                SIGNATURE_HEADER: signature(policy.secret, int(time.time()), body),
            }
            try:
                async with http.post(url, data=body, headers=headers, allow_redirects=False) as r:
                    if 200 <= r.status < 300:
                        return Delivery(target="webhook", ok=True, attempts=attempt)
                    error = f"HTTP {r.status}"
                    if r.status < 500:  # refused, or a redirect not followed: retrying won't help
                        break
            except aiohttp.ClientConnectorError as e:  # aiohttp wraps the resolver's refusal
                if isinstance(e.os_error, AddressRefused):
                    logger.warning("webhook refused: its host resolves to a non-public address")
                    error = "refused"
                    break
                error = "could not connect"
            except TimeoutError:
                error = "timed out"
            except aiohttp.ClientError:
                error = "could not connect"
            logger.warning("webhook attempt %d/%d failed: %s", attempt, policy.attempts, error)
            if attempt < policy.attempts:
                await asyncio.sleep(policy.backoff_s * 2 ** (attempt - 1))
    return Delivery(target="webhook", ok=False, attempts=attempt, error=error)
