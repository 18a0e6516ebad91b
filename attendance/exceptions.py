"""The attendance app's refusals, raised by its services and mapped by the API and admin.

``code`` is what a client branches on; ``message`` is the reason a person reads (HR must
see why a manual event was refused); ``details`` names the field and the clashing event.
The classes follow the API contract (``config/api/errors.py``): 400 when the request does
not match the schema, 422 when it matches but breaks a rule the schema cannot express,
409 when it clashes with the events stored now.
"""

from __future__ import annotations

from http import HTTPStatus

from config.errors import Conflict, DomainError


class AttendanceError(DomainError):
    """Base of every refusal of the attendance app."""


class InvalidEvent(AttendanceError):
    """A manual event the schema already refuses: a naive time, an unknown kind (400)."""

    code = "validation_error"


class EventRuleViolation(AttendanceError):
    """A well-formed manual event or void that breaks a rule on its own: a time in the
    future, a check-out before its own check-in, no reason (422)."""

    code = "unprocessable"
    status_hint = HTTPStatus.UNPROCESSABLE_ENTITY


class EventConflict(AttendanceError, Conflict):
    """A manual event or void that clashes with the person's other events: alternation
    broken, pairs overlapping, already voided (409)."""

    code = "conflict"
    status_hint = HTTPStatus.CONFLICT
