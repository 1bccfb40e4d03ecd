"""Prometheus metrics of the sessions, served by livekit-agents' metrics server.

Job processes write them to the multiprocess directory the worker sets
(``PROMETHEUS_MULTIPROC_DIR``); the worker's metrics endpoint sums every process's files.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

LABELS = ("mode", "pipeline")

V2V = Histogram(
    "parley_voice_to_voice_seconds",
    "End of user speech to the first agent audio frame leaving the worker (e2e_latency).",
    LABELS,
    buckets=(0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 5.0),
)
RESPONSE = Histogram(
    "parley_response_delay_seconds",
    "The user's turn judged over to the first agent audio frame leaving the worker.",
    LABELS,
    buckets=(0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0),
)
TURNS = Counter("parley_turns", "Agent turns answered.", LABELS)
INTERRUPTIONS = Counter("parley_interruptions", "Agent speech interrupted by a user.", LABELS)
ERRORS = Counter("parley_errors", "Session errors.", (*LABELS, "kind"))
COST = Counter("parley_cost_dollars", "Session cost from usage and the price table.", LABELS)
