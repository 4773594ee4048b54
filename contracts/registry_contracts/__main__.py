"""`python -m registry_contracts generate` rewrites the committed JSON Schemas and AsyncAPI document."""

from __future__ import annotations

import sys

from .asyncapi import ASYNCAPI_PATH, write_asyncapi
from .schemas import SCHEMA_DIR, breaking_changes, committed_schemas, generated_schemas, write_schemas


def main(argv: list[str]) -> int:
    if argv[:1] != ["generate"]:
        print("usage: python -m registry_contracts generate", file=sys.stderr)
        return 2
    old = committed_schemas()
    problems = [
        f"{rel}: {p}"
        for rel, schema in generated_schemas().items()
        if rel in old
        for p in breaking_changes(old[rel], schema)
    ]
    if problems:
        print(
            "refusing to overwrite published schemas; breaking changes:",
            *problems,
            sep="\n  ",
            file=sys.stderr,
        )
        print("make a new major version (new event class major and a new topic) instead.", file=sys.stderr)
        return 1
    for rel in write_schemas():
        print(f"wrote {SCHEMA_DIR / rel}")
    write_asyncapi()
    print(f"wrote {ASYNCAPI_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
