"""What one participant's chat may cost a room: each message is a model call (and, in a
meeting, may be a notes run and a webhook call), so messages longer than ``max_chars`` or
closer together than ``interval_s`` (per participant) are dropped, and counted."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class ChatGate:
    max_chars: int = 2_000
    interval_s: float = 1.0
    dropped: int = 0
    _last: dict[str, float] = field(default_factory=dict)

    def admits(self, identity: str, text: str) -> bool:
        now = time.monotonic()
        if len(text) > self.max_chars or now - self._last.get(identity, -1e9) < self.interval_s:
            self.dropped += 1
            return False
        self._last[identity] = now
        return True
