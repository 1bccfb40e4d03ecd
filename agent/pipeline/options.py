"""Room-config options → plugin keyword arguments."""

from __future__ import annotations

from typing import Any


def present(**options: Any) -> dict[str, Any]:
    """Drops unset options: None in the config means "the plugin's own default"."""
    return {k: v for k, v in options.items() if v is not None}
