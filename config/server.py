"""Adjustments to daphne, the HTTP server, applied when the ASGI application loads.

Twisted, under daphne, parses the body of every ``multipart/form-data`` POST for its own
``request.args`` before the application sees the request, and answers a body it cannot
parse (an empty form is one) with a bare 400: no content type, no body, no envelope.
Daphne never reads ``request.args``, and Django parses the body itself, so that parsing
is switched off: every malformed form then reaches DRF and gets the error envelope.

Twisted also drops the connection, without a word, when the request line or a header
line is longer than its limit (16 KiB): a client with a huge query string saw "connection
closed" (found by fuzzing). Such a request is answered ``414 URI Too Long`` (the request
line) or ``431 Request Header Fields Too Large`` (a header) in the error envelope instead.
"""

from __future__ import annotations

import json
from typing import Any


def stop_twisted_form_parsing() -> None:
    """Make daphne's requests skip Twisted's form parsing (idempotent)."""
    try:
        from daphne.http_protocol import WebRequest
    except ImportError:  # served by another ASGI server
        return
    if getattr(WebRequest, "_presence_forms_unparsed", False):
        return
    original_init = WebRequest.__init__

    def init_without_form_parsing(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("parsePOSTFormSubmission", False)
        original_init(self, *args, **kwargs)

    WebRequest.__init__ = init_without_form_parsing
    WebRequest._presence_forms_unparsed = True


def _too_long_response(first_line: bool, limit: int) -> bytes:
    status, code, what = (
        (b"414 URI Too Long", "uri_too_long", "The request line")
        if first_line
        else (b"431 Request Header Fields Too Large", "header_too_large", "A header line")
    )
    body = json.dumps(
        {"error": {"code": code, "message": f"{what} is longer than {limit} bytes.", "details": {}}}
    ).encode()
    return (
        b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
    )


def answer_overlong_lines() -> None:
    """Make Twisted's HTTP channel answer an over-long line instead of hanging up
    (idempotent)."""
    try:
        from twisted.web.http import HTTPChannel
    except ImportError:  # served by another ASGI server
        return
    if getattr(HTTPChannel, "_presence_answers_long_lines", False):
        return

    def line_length_exceeded(self: Any, line: bytes) -> None:
        first_line = bool(getattr(self, "_HTTPChannel__first_line", 1))
        self.transport.write(_too_long_response(first_line, self.MAX_LENGTH))
        self.loseConnection()

    HTTPChannel.lineLengthExceeded = line_length_exceeded
    HTTPChannel._presence_answers_long_lines = True
