"""The room config's JSON Schema, and a Markdown table of every field for the README."""

from __future__ import annotations

import json
from typing import Any

from .models import RoomConfig


def json_schema() -> str:
    return json.dumps(RoomConfig.model_json_schema(), indent=2)


def _rows(schema: dict[str, Any], defs: dict[str, Any], prefix: str) -> list[str]:
    rows: list[str] = []
    for name, prop in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        target = _resolve(prop, defs)
        variants = [_resolve(v, defs) for v in target.get("oneOf", target.get("anyOf", []))]
        nested = [v for v in [target, *variants] if "properties" in v]
        kind = _type_name(prop, defs)
        default = json.dumps(prop["default"]) if "default" in prop else ""
        desc = (prop.get("description") or target.get("description") or "").replace("\n", " ")
        rows.append(f"| `{path}` | {kind} | {default} | {desc} |")
        for sub in nested:
            for row in _rows(sub, defs, f"{path}."):
                if row not in rows:
                    rows.append(row)
    return rows


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = prop.get("$ref")
    return _resolve(defs[ref.rsplit("/", 1)[1]], defs) if ref else prop


def _type_name(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    prop = _resolve(prop, defs)
    if "enum" in prop:
        return " \\| ".join(f"`{v}`" for v in prop["enum"])
    if "const" in prop:
        return f"`{prop['const']}`"
    for key in ("anyOf", "oneOf"):
        if key in prop:
            return " \\| ".join(_type_name(v, defs) for v in prop[key])
    if "properties" in prop:
        return str(prop.get("title", "object"))
    return str(prop.get("type", "object"))


def field_table() -> str:
    schema = RoomConfig.model_json_schema()
    header = ["| field | type | default | meaning |", "|---|---|---|---|"]
    return "\n".join(header + _rows(schema, schema.get("$defs", {}), ""))
