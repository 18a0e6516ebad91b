"""What can go wrong talking to Odoo, as typed exceptions.

Odoo translates its messages, so the client never reads them: a fault is classified by
XML-RPC ``faultCode``, JSON-RPC ``data.name`` or JSON-2 HTTP status (``classify_*``
below), and the message is only carried along for people. Every exception is a
``DomainError`` so the API and admin can show it; ``retryable`` tells the outbox which
faults are worth another try later (the network and the server, not the data).
"""

from __future__ import annotations

from http import HTTPStatus

from config.errors import DomainError


class OdooError(DomainError):
    """Any failure of a call to Odoo."""

    code = "odoo_error"
    status_hint = HTTPStatus.BAD_GATEWAY
    retryable = False


class OdooConfigError(OdooError):
    """The connection settings cannot work (no URL, not http(s), no key)."""

    code = "odoo_not_configured"
    status_hint = HTTPStatus.UNPROCESSABLE_ENTITY


class OdooAddressRefused(OdooConfigError):
    """The base URL points at a refused address (loopback, link-local metadata...)."""

    code = "odoo_address_not_allowed"


class OdooTransportError(OdooError):
    """Odoo could not be reached or answered with no usable reply; worth retrying."""

    code = "odoo_unreachable"
    retryable = True


class OdooConnectionRefused(OdooTransportError):
    """Nothing listens at the base URL (Odoo down, wrong port) or the host is unknown."""

    code = "odoo_refused"


class OdooTimeout(OdooTransportError):
    """Odoo did not answer within the connection's timeout; a write may have happened."""

    code = "odoo_timeout"


class OdooHttpError(OdooTransportError):
    """An HTTP status that is not Odoo's answer (a 5xx of Odoo or of a proxy before it)."""

    code = "odoo_http_error"

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message, details={"status": status})
        self.status = status


class OdooServerError(OdooError):
    """An unexpected exception inside Odoo (XML-RPC fault 1, an unknown data.name)."""

    code = "odoo_server_error"


class OdooAccessDenied(OdooError):
    """Bad login, password or API key, or a revoked key (fault 3, AccessDenied, 401)."""

    code = "odoo_access_denied"


class OdooTooManyLoginFailures(OdooAccessDenied):
    """Odoo most likely locked the login after repeated failures: wait a minute.

    Odoo says so only in its (translated) message, as a plain AccessDenied, and its
    ``authenticate`` answers False for it as for a bad key. So the client infers it
    without reading text: an access denial after ``LOCKOUT_FAILURES`` denials within
    ``LOCKOUT_WINDOW_S`` seconds, which is the rule that makes Odoo lock (see client).
    """

    code = "odoo_too_many_login_failures"


class OdooAccessError(OdooError):
    """The Odoo user may not do this (fault 4, AccessError, 403)."""

    code = "odoo_access_error"


class OdooUserError(OdooError):
    """Odoo refused the data with a business rule (UserError, fault 2, 422)."""

    code = "odoo_user_error"


class OdooValidationError(OdooUserError):
    """A constraint of the model failed (ValidationError), e.g. overlapping attendances."""

    code = "odoo_validation_error"


class OdooMissingError(OdooUserError):
    """The record does not exist any more (MissingError)."""

    code = "odoo_missing_record"


class OdooValueError(OdooError):
    """Odoo could not parse a value (builtins.ValueError: a datetime with a T or offset)."""

    code = "odoo_bad_value"


class OdooBadDatabase(OdooError):
    """The database named in the connection does not exist on this Odoo."""

    code = "odoo_bad_database"


# JSON-RPC's data.name of each exception Odoo can raise.
JSON_RPC_NAMES: dict[str, type[OdooError]] = {
    "odoo.exceptions.AccessDenied": OdooAccessDenied,
    "odoo.exceptions.AccessError": OdooAccessError,
    "odoo.exceptions.UserError": OdooUserError,
    "odoo.exceptions.ValidationError": OdooValidationError,
    "odoo.exceptions.MissingError": OdooMissingError,
    "odoo.exceptions.RedirectWarning": OdooUserError,
    "builtins.ValueError": OdooValueError,
    "psycopg2.OperationalError": OdooBadDatabase,
    "odoo.http.SessionExpiredException": OdooAccessDenied,
}

# XML-RPC faultCode: 1 other, 2 user/validation/missing, 3 AccessDenied, 4 AccessError.
XML_RPC_CODES: dict[int, type[OdooError]] = {
    1: OdooServerError,
    2: OdooUserError,
    3: OdooAccessDenied,
    4: OdooAccessError,
}

# JSON-2 answers errors with an HTTP status.
JSON2_STATUSES: dict[int, type[OdooError]] = {
    HTTPStatus.UNAUTHORIZED: OdooAccessDenied,
    HTTPStatus.FORBIDDEN: OdooAccessError,
    HTTPStatus.NOT_FOUND: OdooUserError,
    HTTPStatus.CONFLICT: OdooTransportError,
    HTTPStatus.UNPROCESSABLE_ENTITY: OdooUserError,
}


def classify_xml_rpc(fault_code: object) -> type[OdooError]:
    """The exception for an XML-RPC fault; string codes (older Odoo: the exception's
    text) count as "other"."""
    if isinstance(fault_code, int):
        return XML_RPC_CODES.get(fault_code, OdooServerError)
    return OdooServerError


def classify_json_rpc(name: str) -> type[OdooError]:
    """The exception for a JSON-RPC error's ``data.name``; unknown names are server errors."""
    return JSON_RPC_NAMES.get(name, OdooServerError)


def classify_json2(status: int, name: str | None = None) -> type[OdooError]:
    """The exception for a JSON-2 error: by its ``name`` when the body has one that is
    more precise than the status (a ValidationError inside a 422), else by status."""
    if name:
        named = classify_json_rpc(name)
        if named is not OdooServerError:
            return named
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return OdooServerError if status == HTTPStatus.INTERNAL_SERVER_ERROR else OdooHttpError
    return JSON2_STATUSES.get(status, OdooServerError)
