"""HTTP conventions shared by every service: RFC 9457 problem details and health endpoints."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .telemetry import context_from_headers, tracer

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


class ProblemError(Exception):
    """Raise from an endpoint to answer with a problem+json body."""

    def __init__(self, status: int, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.extra = extra


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def install_problem_handlers(app: FastAPI) -> None:
    """Every error answers in problem+json; validation errors list each bad field with its reason."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": ".".join(str(p) for p in err["loc"] if p != "body") or "(body)",
                "reason": err["msg"],
                **({"input": err["input"]} if _is_small(err.get("input")) else {}),
            }
            for err in exc.errors()
        ]
        return problem(
            422,
            "Invalid request",
            f"{len(errors)} field(s) are invalid: " + "; ".join(f"{e['field']}: {e['reason']}" for e in errors),
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {401: "Unauthorized", 403: "Forbidden", 404: "Not found", 409: "Conflict"}.get(exc.status_code, "Error")
        response = problem(exc.status_code, title, str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "Internal error", "the registry could not complete this request; it was logged")

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem(exc.status, exc.title, exc.detail, **exc.extra)


def _is_small(value: Any) -> bool:
    return isinstance(value, (int, float, str, bool)) and len(str(value)) <= 200


class RequestTracingMiddleware:
    """Pure ASGI middleware: one server span per request, continuing the caller's `traceparent`.

    (Starlette's BaseHTTPMiddleware would run every request through an extra task and stream copy.)
    """

    UNTRACED = frozenset({"/healthz", "/readyz", "/metrics"})

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.tracer = tracer(f"registry.{service}.http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.UNTRACED:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", ())}
        with self.tracer.start_as_current_span(
            f"{scope['method']} {scope['path']}",
            context=context_from_headers(headers),
            attributes={"http.method": scope["method"]},
        ) as span:

            async def send_with_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    span.set_attribute("http.status_code", message["status"])
                await send(message)

            await self.app(scope, receive, send_with_status)


def install_request_tracing(app: FastAPI, service: str) -> None:
    """Trace every request (see RequestTracingMiddleware)."""
    app.add_middleware(RequestTracingMiddleware, service=service)
