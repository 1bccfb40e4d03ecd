"""Webhooks a room config may name, delivered safely: https only, no private addresses,
no redirects, every request signed (HMAC-SHA256) with an idempotency key kept across
retries, and a status-only report."""

from livekit.agents import Plugin

from .delivery import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, Delivery, post, signature, verify
from .log import logger
from .policy import AddressRefused, CheckedResolver, WebhookPolicy, public
from .version import __version__

__all__ = [
    "IDEMPOTENCY_HEADER",
    "SIGNATURE_HEADER",
    "AddressRefused",
    "CheckedResolver",
    "Delivery",
    "WebhookPolicy",
    "__version__",
    "post",
    "public",
    "signature",
    "verify",
]


class WebhookPlugin(Plugin):
    def __init__(self) -> None:
        super().__init__(__name__, __version__, __package__, logger)


Plugin.register_plugin(WebhookPlugin())
