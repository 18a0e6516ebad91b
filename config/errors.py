"""Domain errors: how services refuse a request without knowing about HTTP.

Domain code (models, services, pipelines, commands) must not import DRF or an app's
``api`` package, yet every refusal must reach an API client with a precise code and
status, and a back-office user as a readable message. So each app raises subclasses of
``DomainError``, carrying a machine-readable ``code``, a ``message`` for people,
``details`` for the envelope and a ``status_hint``; the API's exception handler
(``config/api/errors.py``) turns any of them into the error envelope in one place, and
the admin shows ``message``. This module is neutral ground: it imports no app and no DRF.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any


class DomainError(Exception):
    """A refusal by domain code; subclasses set the default ``code`` and ``status_hint``."""

    code: str = "invalid"
    status_hint: int = HTTPStatus.BAD_REQUEST

    def __init__(
        self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"


class Conflict(DomainError):
    """The request clashes with the current state (the last admin, a missing consent)."""

    code = "conflict"
    status_hint = HTTPStatus.CONFLICT


class Throttled(DomainError):
    """Too many attempts in a window; ``retry_after`` says in how many seconds to retry.

    The API answers 429 with a ``Retry-After`` header, the admin shows the message.
    """

    code = "throttled"
    status_hint = HTTPStatus.TOO_MANY_REQUESTS

    def __init__(
        self,
        message: str,
        *,
        retry_after: int,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, code=code, details=details)
        self.retry_after = retry_after
