#!/usr/bin/env bash
# Validate AsyncAPI documents with @asyncapi/parser, installing it from package-lock.json on first use.
# Usage: tools/asyncapi/validate.sh FILE...   (defaults: the lab-facing and the whole-registry documents)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if [ ! -d "$here/node_modules/@asyncapi/parser" ]; then
  (cd "$here" && npm ci --silent --no-audit --no-fund)
fi
if [ "$#" -eq 0 ]; then
  set -- "$root/docs/asyncapi-labs.yaml" "$root/contracts/registry_contracts/asyncapi.yaml"
fi
exec node "$here/validate.mjs" "$@"
