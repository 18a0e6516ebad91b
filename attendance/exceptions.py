"""The attendance app's refusals, raised by its services and mapped by the API and admin.

``code`` is what a client branches on; ``message`` is the reason a person reads (HR must
see why a manual event was refused); ``details`` names the field and the clashing event.
"""

from __future__ import annotations

from http import HTTPStatus

from config.errors import Conflict, DomainError


class AttendanceError(DomainError):
    """Base of every refusal of the attendance app."""


class InvalidEvent(AttendanceError):
    """A manual event that is malformed on its own: a naive time, an unknown kind, no
    reason, a time in the future (400)."""

    code = "validation_error"


class EventConflict(AttendanceError, Conflict):
    """A manual event or void that clashes with the person's other events: alternation
    broken, pairs overlapping, already voided (409)."""

    code = "conflict"
    status_hint = HTTPStatus.CONFLICT
