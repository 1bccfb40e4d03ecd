"""Room config from its three sources, merged in order (later wins):
worker defaults → room metadata → agent dispatch metadata.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from .errors import ErrorCode, ParleyError
from .models import Prices, RoomConfig

JsonObject = dict[str, Any]

# Keys whose value, when it differs between two layers, replaces the lower layer's whole
# object: fields of a realtime pipeline mean nothing in a cascade one.
_DISCRIMINATORS = ("kind",)


@dataclass(frozen=True)
class Layer:
    """One source of room config, named so errors can say where to fix them."""

    name: str
    text: str | None


MAX_BYTES = 64 * 1024
"""Room metadata is at most this long: a room config is a few hundred bytes."""
MAX_DEPTH = 12
"""Objects and lists nest at most this deep (the schema needs 5)."""


def _depth(value: Any) -> int:
    """How deep ``value`` nests, without recursion (a hostile document could be deep)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_DEPTH:
                children = node.values() if isinstance(node, dict) else node
                stack.extend((child, level + 1) for child in children)
    return deepest


def parse_layer(layer: Layer) -> JsonObject:
    """The layer's JSON object; empty or absent text is an empty object."""
    if layer.text is None or not layer.text.strip():
        return {}
    size = len(layer.text.encode())
    if size > MAX_BYTES:
        raise ParleyError(
            ErrorCode.MALFORMED_JSON,
            "",
            f"{layer.name} is {size} bytes, more than the {MAX_BYTES} a room config may have: "
            "send only the fields you change.",
        )
    try:
        value = json.loads(layer.text)
    except RecursionError:  # deeper than Python's own parser goes
        raise _too_deep(layer) from None
    except json.JSONDecodeError as e:
        raise ParleyError(
            ErrorCode.MALFORMED_JSON,
            "",
            f"{layer.name} is not valid JSON ({e.msg} at line {e.lineno} column {e.colno}): "
            'send a JSON object such as {"mode":"assistant"}.',
        ) from None
    if not isinstance(value, dict):
        raise ParleyError(
            ErrorCode.MALFORMED_JSON,
            "",
            f"{layer.name} must be a JSON object, not {type(value).__name__}: "
            'send a JSON object such as {"mode":"assistant"}.',
        )
    if _depth(value) > MAX_DEPTH:
        raise _too_deep(layer)
    return value


def _too_deep(layer: Layer) -> ParleyError:
    return ParleyError(
        ErrorCode.MALFORMED_JSON,
        "",
        f"{layer.name} nests deeper than {MAX_DEPTH} levels: a room config needs 5.",
    )


def merge(base: JsonObject, override: Mapping[str, Any]) -> JsonObject:
    """Deep merge; an object whose discriminator changes is replaced, not merged."""
    if any(k in override and k in base and override[k] != base[k] for k in _DISCRIMINATORS):
        return dict(override)
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def resolve(layers: Sequence[Layer]) -> RoomConfig:
    """Parses, merges and validates the layers into one room config."""
    # The price table is the bottom layer, so a room that sets one price keeps the others.
    merged: JsonObject = {"prices": Prices().model_dump()}
    for layer in layers:
        merged = merge(merged, parse_layer(layer))
    try:
        config = RoomConfig.model_validate(merged)
    except ValidationError as e:
        raise _explain(e.errors()[0], merged, [layer.name for layer in layers]) from None
    return config


def _field_path(loc: tuple[int | str, ...], data: JsonObject) -> str:
    """Dotted path as the user wrote it: drops the union tags pydantic inserts in ``loc``."""
    parts: list[str] = []
    node: Any = data
    for item in loc:
        if isinstance(node, dict) and item in node:
            parts.append(str(item))
            node = node[item]
        elif isinstance(node, list) and isinstance(item, int):
            parts.append(str(item))
            node = node[item] if item < len(node) else None
        # else: a union tag such as "realtime" that is not in the document
    return ".".join(parts)


def _explain(err: ErrorDetails, data: JsonObject, sources: list[str]) -> ParleyError:
    field = _field_path(err["loc"], data)
    where = " / ".join(sources)
    got = json.dumps(err.get("input"))[:80]
    kind = err["type"]
    expected = (err.get("ctx") or {}).get("expected", "")
    if field == "version" or field.endswith(".version"):
        return ParleyError(
            ErrorCode.UNSUPPORTED_VERSION,
            field,
            f'room config version {got} is not supported: set "version": 1 (or leave it out).',
        )
    if field == "mode" and kind == "literal_error":
        return ParleyError(
            ErrorCode.UNKNOWN_MODE, field, f"unknown mode {got}: use one of {expected}."
        )
    if field.endswith("provider") and kind == "literal_error":
        return ParleyError(
            ErrorCode.UNKNOWN_PROVIDER, field, f"unknown provider {got}: use one of {expected}."
        )
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tag = (err.get("ctx") or {}).get("tag")
        return ParleyError(
            ErrorCode.INVALID_VALUE,
            f"{field}.kind",
            f"{field}.kind must be 'realtime' or 'cascade' (got {json.dumps(tag)}).",
        )
    if own := (err.get("ctx") or {}).get("field"):  # a check across fields names its own
        field = f"{field}.{own}" if field else str(own)
        return ParleyError(ErrorCode.INVALID_VALUE, field, f"{field}: {err['msg']}.")
    if kind == "missing":
        field = f"{field}.{err['loc'][-1]}" if field else str(err["loc"][-1])
        return ParleyError(
            ErrorCode.INVALID_VALUE, field, f"{field} is required; see `python -m agent schema`."
        )
    if kind == "extra_forbidden":
        return ParleyError(
            ErrorCode.UNKNOWN_FIELD,
            field,
            f"unknown field '{field}' (from {where}): remove it or check its spelling "
            "against `python -m agent schema`.",
        )
    return ParleyError(
        ErrorCode.INVALID_VALUE,
        field,
        f"{field or 'room config'}: {err['msg']} (got {got}); see `python -m agent schema`.",
    )
