"""Adjustments to daphne, the HTTP server, applied when the ASGI application loads.

Twisted, under daphne, parses the body of every ``multipart/form-data`` POST for its own
``request.args`` before the application sees the request, and answers a body it cannot
parse (an empty form is one) with a bare 400: no content type, no body, no envelope.
Daphne never reads ``request.args``, and Django parses the body itself, so that parsing
is switched off: every malformed form then reaches DRF and gets the error envelope.
"""

from __future__ import annotations

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
