"""Domain errors reach API clients as the envelope, at the status their class hints at."""

from __future__ import annotations

from http import HTTPStatus

from config.api.errors import envelope_exception_handler
from config.errors import Conflict, DomainError


class Gone(DomainError):
    code = "gone_away"
    status_hint = HTTPStatus.GONE


def test_a_domain_error_becomes_the_envelope_at_its_status_hint():
    response = envelope_exception_handler(
        Gone("It left.", details={"thing": ["Left at noon."]}), {}
    )
    assert response.status_code == 410
    assert response.data == {
        "error": {
            "code": "gone_away",
            "message": "It left.",
            "details": {"thing": ["Left at noon."]},
        }
    }


def test_the_code_can_be_given_per_error():
    response = envelope_exception_handler(Conflict("Busy.", code="busy"), {})
    assert response.status_code == 409
    assert response.data["error"] == {"code": "busy", "message": "Busy.", "details": {}}
