"""The HTTP fallback for labs that cannot run a Kafka client (standard library only)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from registry_contracts.events.evaluations import EvaluationRequested

from .client import Evaluation


class HttpLabError(RuntimeError):
    """The registry refused a call; `problem` is its RFC 9457 problem+json body."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(f"{status}: {problem.get('detail', problem)}")
        self.status = status
        self.problem = problem


class HttpLabClient:
    """Reads the lab's open requests and submits results with the lab's bearer token."""

    def __init__(self, *, base_url: str, lab_id: str, token: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.lab_id = lab_id
        self._token = token
        self._timeout = timeout

    def _call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        request = urllib.request.Request(
            f"{self.base_url}{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self._token}", "Content-Type": "application/json", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raise HttpLabError(error.code, json.loads(error.read() or b"{}")) from error

    def open_requests(self) -> list[EvaluationRequested]:
        """The lab's open requests (the same redacted payloads its request topic carries)."""
        found = self._call("GET", f"/v1/labs/{self.lab_id}/requests")
        return [EvaluationRequested.model_validate(r) for r in found]

    def submit(self, request: EvaluationRequested, evaluation: Evaluation, *, idempotency_key: str) -> Any:
        """Submit a result; a retry with the same key returns the first answer. Raises HttpLabError if refused."""
        body = {
            "request_id": request.request_id,
            "registry_id": request.registry_id,
            "version": request.version,
            "suite_scores": evaluation.suite_scores,
            "access_refused": evaluation.access_refused,
            "notes": evaluation.notes,
        }
        return self._call("POST", f"/v1/labs/{self.lab_id}/results", body, {"Idempotency-Key": idempotency_key})
