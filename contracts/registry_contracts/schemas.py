"""JSON Schemas of every event envelope, and the check that a change does not break a published one.

Within a major version only additive optional fields are allowed. `breaking_changes(old, new)` lists
everything else: removed properties, new required properties, changed types, narrowed enums.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .envelope import Envelope, EventData
from .events.evaluations import lab_request_topic, lab_result_topic
from .topics import ALL_TOPICS

SCHEMA_DIR = Path(__file__).parent / "schemas"


def schema_path(event: type[EventData]) -> str:
    return f"{event.producer}/{event.event_type}.v{event.major}.json"


def envelope_schema(event: type[EventData]) -> dict[str, Any]:
    """The JSON Schema of `Envelope[event]`, with its id and title fixed for publishing."""
    schema = Envelope[event].model_json_schema(mode="serialization")  # type: ignore[valid-type]
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = event.dataschema()
    schema["title"] = event.cloudevents_type()
    return schema


def generated_schemas() -> dict[str, dict[str, Any]]:
    """Relative path -> schema, for every event type on every topic, the labs' own topics included (a lab
    writing its client in another language validates against these)."""
    lab_topics = (lab_request_topic("any-lab"), lab_result_topic("any-lab"))
    events = {event for topic in (*ALL_TOPICS, *lab_topics) for event in topic.events}
    return {schema_path(e): envelope_schema(e) for e in sorted(events, key=lambda e: e.cloudevents_type())}


def committed_schemas(directory: Path = SCHEMA_DIR) -> dict[str, dict[str, Any]]:
    return {
        str(p.relative_to(directory)): json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(directory.rglob("*.json"))
    }


def write_schemas(directory: Path = SCHEMA_DIR) -> list[str]:
    written = []
    for rel, schema in generated_schemas().items():
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(rel)
    return written


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/$defs/"):
            break
        node = root.get("$defs", {})[ref.removeprefix("#/$defs/")]
    return node


def _types(node: dict[str, Any], root: dict[str, Any]) -> set[str]:
    node = _resolve(node, root)
    found: set[str] = set()
    if "type" in node:
        t = node["type"]
        found.update(t if isinstance(t, list) else [t])
    if "const" in node:
        found.add(f"const:{node['const']!r}")
    for key in ("anyOf", "oneOf"):
        for option in node.get(key, []):
            found |= _types(option, root)
    return found


def breaking_changes(
    old: dict[str, Any], new: dict[str, Any], *, path: str = "", old_root: Any = None, new_root: Any = None
) -> list[str]:
    """Everything in `new` that would break a consumer or producer written against `old`."""
    old_root = old_root if old_root is not None else old
    new_root = new_root if new_root is not None else new
    old = _resolve(old, old_root)
    new = _resolve(new, new_root)
    problems: list[str] = []
    where = path or "(root)"
    old_types, new_types = _types(old, old_root), _types(new, new_root)
    if old_types and new_types and not old_types <= new_types:
        problems.append(f"{where}: type changed from {sorted(old_types)} to {sorted(new_types)}")
    if "enum" in old:
        removed = set(old["enum"]) - set(new.get("enum", old["enum"]))
        if removed:
            problems.append(f"{where}: enum values removed {sorted(removed)}")
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name in old_props:
        if name not in new_props:
            problems.append(f"{path}.{name}: property removed")
        else:
            problems += breaking_changes(
                old_props[name], new_props[name], path=f"{path}.{name}", old_root=old_root, new_root=new_root
            )
    added_required = set(new.get("required", [])) - set(old.get("required", []))
    for name in sorted(added_required):
        problems.append(f"{path}.{name}: newly required")
    for key in ("anyOf", "oneOf"):
        old_opts = [o for o in old.get(key, []) if _resolve(o, old_root).get("type") != "null"]
        new_opts = [o for o in new.get(key, []) if _resolve(o, new_root).get("type") != "null"]
        if len(old_opts) == 1 and len(new_opts) == 1:
            problems += breaking_changes(old_opts[0], new_opts[0], path=path, old_root=old_root, new_root=new_root)
    if "items" in old and "items" in new:
        problems += breaking_changes(old["items"], new["items"], path=f"{path}[]", old_root=old_root, new_root=new_root)
    return problems
