"""Project-wide middleware for the API."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from config.api.errors import error_response
from config.logs import request_id_var

REQUEST_ID_HEADER = "X-Request-ID"
# What an incoming id may be: a proxy's UUID or trace id fits; anything longer, or with
# characters that could forge a log line or a header, is replaced by a new id.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id_from(header: str | None) -> str:
    """The id a proxy or client sent, when it is well-formed; otherwise a new one."""
    if header and _VALID_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Give every request an id, log every record under it, and return it in
    ``X-Request-ID``, so a client's report, a proxy's log and ours can be matched."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Bind the id for the request's records and set it on the response."""
        request_id = request_id_from(request.META.get("HTTP_X_REQUEST_ID"))
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class WebSocketRequestIdMiddleware:
    """``RequestIdMiddleware`` for WebSockets (ASGI): one id for the whole connection, taken
    from the handshake's ``X-Request-ID`` when well-formed, on every record logged while it
    lasts (refusals, the consumer, its database calls) and in ``scope["request_id"]``.

    daphne sends no headers with a WebSocket accept, so the id is not echoed; the consumer
    logs it with the user when the connection opens and closes.
    """

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        """Run the connection under its id; other traffic passes untouched."""
        if scope["type"] != "websocket":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        header = headers.get(b"x-request-id", b"").decode("latin-1") or None
        request_id = request_id_from(header)
        token = request_id_var.set(request_id)
        try:
            return await self.app(dict(scope, request_id=request_id), receive, send)
        finally:
            request_id_var.reset(token)


class RequestSizeLimitMiddleware:
    """Answer 413 in the error envelope before anything reads an oversized body.

    DRF's JSON parser reads the stream directly, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE
    would not stop a huge JSON body; the declared length is checked here instead.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Refuse a declared body over ``API_MAX_REQUEST_BYTES``, pass the rest on."""
        declared = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(declared)
        except ValueError:
            return error_response(400, "bad_request", "Content-Length is not a number.")
        limit = settings.API_MAX_REQUEST_BYTES
        if length > limit:
            return error_response(
                413,
                "request_too_large",
                f"The request body is {length} bytes; the limit is {limit}.",
                {"limit_bytes": limit},
            )
        return self.get_response(request)


class ApiUtcMiddleware:
    """Render API timestamps in UTC, as the contract says, whatever TIME_ZONE the admin uses."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Activate UTC for the API's requests only; the admin keeps TIME_ZONE."""
        if request.path.startswith("/api/"):
            timezone.activate(UTC)
            try:
                return self.get_response(request)
            finally:
                timezone.deactivate()
        return self.get_response(request)
