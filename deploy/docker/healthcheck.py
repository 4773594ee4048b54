"""Container health probe: GET http://127.0.0.1:$HTTP_PORT<path>, exit 0 on HTTP 200 (the image has no curl).

python /app/deploy/docker/healthcheck.py /healthz     # Docker HEALTHCHECK, compose healthchecks
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def probe(path: str, *, port: str, timeout: float = 3.0) -> bool:
    """True when the service answers `path` with 200 within `timeout` seconds."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "/healthz"
    raise SystemExit(0 if probe(target, port=os.environ.get("HTTP_PORT", "8080")) else 1)
