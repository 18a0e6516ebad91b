"""Reason phrases for every HTTP status daphne may send.

daphne writes the status line through twisted, whose table of reason phrases stops at the
statuses of RFC 2616: a 429 went out as ``HTTP/1.1 429 Unknown Status`` (issue 7). The
missing phrases are taken from Python's ``http.HTTPStatus`` and added to twisted's table
when the ASGI application loads, before daphne answers anything.
"""

from __future__ import annotations

from http import HTTPStatus


def register_status_phrases() -> list[int]:
    """Add the reason phrase of each status twisted does not know; return those added.

    Does nothing where twisted is not installed (a server other than daphne).
    """
    try:
        from twisted.web import http
    except ImportError:
        return []
    added = []
    for status in HTTPStatus:
        if status.value not in http.RESPONSES:
            http.RESPONSES[status.value] = status.phrase.encode("ascii")
            added.append(status.value)
    return added
