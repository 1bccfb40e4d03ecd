"""Which webhook addresses a worker will call.

A URL comes from a room config, which anyone who can create a room writes: it must not make
the worker call its own metadata service, a sidecar on loopback or a host on the private
network (server-side request forgery). So: ``https`` only, and every address the name
resolves to must be a public one, unless the worker's operator allows the host by name (a
receiver inside the deployment, or a test's on 127.0.0.1, which may then also be ``http``).
The check runs on the addresses the connection then uses, so a name that resolves anew
between the check and the connection (DNS rebinding) gains nothing.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver


class AddressRefused(OSError):
    """The host resolves to an address the policy does not allow."""


@dataclass(frozen=True)
class WebhookPolicy:
    secret: bytes
    """Signs every request (HMAC-SHA256); the receiver checks it with the same secret."""
    allow_hosts: frozenset[str] = field(default_factory=frozenset)
    """Host names (lower case) that may be ``http`` and resolve to non-public addresses."""
    timeout_s: float = 5.0
    attempts: int = 3
    backoff_s: float = 0.5

    @property
    def longest_s(self) -> float:
        """The longest a delivery can take: every attempt timing out, with its backoffs."""
        backoffs = sum(self.backoff_s * 2.0**i for i in range(self.attempts - 1))
        return float(self.attempts * self.timeout_s + backoffs)

    def allows_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.allow_hosts

    def refusal(self, url: str) -> str | None:
        """Why the URL may not be called (without resolving it); None when it may."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return "it is not a valid URL"
        host = (parts.hostname or "").lower()
        if not host:
            return "it has no host"
        if parts.username or parts.password:
            return "it carries credentials: the worker signs its requests instead"
        if parts.scheme != "https" and not (parts.scheme == "http" and self.allows_host(host)):
            return "it must be https:// (plain http only for hosts the worker allows)"
        if port == 0:
            return "port 0 is not a port"
        literal = _literal_address(host)
        if literal is not None and not self.allows_host(host) and not public(literal):
            return "it points at a private, loopback or link-local address"
        return None


def _literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    try:  # the forms inet_aton also reads: 0x7f000001, 2130706433, 127.1
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A globally routable unicast address (an IPv4-mapped IPv6 one is judged as IPv4)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


class CheckedResolver(AbstractResolver):
    """Resolves as aiohttp does, then refuses a name with any non-public address (unless
    the policy allows the host): the connection uses only the addresses checked here."""

    def __init__(self, policy: WebhookPolicy) -> None:
        self._policy = policy
        self._inner = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if not self._policy.allows_host(host):
            for result in results:
                if not public(ipaddress.ip_address(result["host"])):
                    raise AddressRefused("the receiver's address is not allowed")
        return results

    async def close(self) -> None:
        await self._inner.close()
