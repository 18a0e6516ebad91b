"""The one error envelope: ``{"error": {"code", "message", "details"}}``.

Every API error takes this shape, whether DRF raised it in a view, Django raised it
before any view ran (unknown path, body too large), or the code failed (500). Clients
branch on ``code``; ``message`` is for people; ``details`` maps field names to lists of
messages for validation errors.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from config.errors import DomainError, Throttled

logger = logging.getLogger(__name__)

GENERIC_MESSAGES = {
    status.HTTP_400_BAD_REQUEST: "The request is invalid.",
    status.HTTP_401_UNAUTHORIZED: "Authentication credentials were not provided or are invalid.",
    status.HTTP_403_FORBIDDEN: "You do not have permission to perform this action.",
    status.HTTP_404_NOT_FOUND: "Not found.",
    status.HTTP_405_METHOD_NOT_ALLOWED: "Method not allowed.",
    status.HTTP_413_REQUEST_ENTITY_TOO_LARGE: "The request body is too large.",
    status.HTTP_429_TOO_MANY_REQUESTS: "Too many requests.",
    status.HTTP_500_INTERNAL_SERVER_ERROR: "Internal server error.",
}


class ApiError(exceptions.APIException):
    """An API error with an explicit code, status and details, raised by services;
    ``wait`` (seconds) becomes a ``Retry-After`` header."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status_code: int = status.HTTP_400_BAD_REQUEST,
        details: dict[str, Any] | None = None,
        wait: int | None = None,
    ) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.error_code = code
        self.details = details or {}
        self.wait = wait


class Conflict(ApiError):
    def __init__(self, message: str, *, code: str = "conflict", details=None) -> None:
        super().__init__(message, code=code, status_code=status.HTTP_409_CONFLICT, details=details)


def from_domain(exc: DomainError) -> ApiError:
    """The API error for a domain refusal: its code, message and details, at the status
    its class hints at. Every app's domain errors map here, so no app needs its own."""
    return ApiError(
        exc.message,
        code=exc.code,
        status_code=int(exc.status_hint),
        details=exc.details,
        wait=exc.retry_after if isinstance(exc, Throttled) else None,
    )


def envelope(code: str, message: str, details: dict[str, Any] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(
    status_code: int, code: str, message: str, details: dict[str, Any] | None = None
) -> JsonResponse:
    """A plain Django response in the envelope, for errors raised outside DRF views."""
    return JsonResponse(envelope(code, message, details), status=status_code)


def _flatten(detail: Any) -> Any:
    """Turn DRF's ErrorDetail trees into plain strings, lists and dicts."""
    if isinstance(detail, dict):
        return {str(key): _as_list(_flatten(value)) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _validation_envelope(exc: exceptions.ValidationError, code: str) -> dict:
    detail = exc.detail
    if isinstance(detail, dict):
        details = _flatten(detail)
        if list(details) == ["non_field_errors"]:
            message = "; ".join(str(m) for m in details["non_field_errors"])
        else:
            message = "The request has invalid fields."
    else:
        messages = [str(m) for m in _as_list(_flatten(detail))]
        details = {"non_field_errors": messages}
        message = "; ".join(messages)
    return envelope(code, message, details)


#: Validation codes that mean "the request is well formed, but clashes with the data
#: stored now": a unique value already taken, a referenced object that does not exist.
#: The schema cannot promise against them, so they answer 409, not 400.
STATE_CODES = frozenset({"unique", "does_not_exist"})


def _leaf_codes(codes: Any) -> set[str]:
    if isinstance(codes, dict):
        return set().union(*(_leaf_codes(value) for value in codes.values()))
    if isinstance(codes, list):
        return set().union(*(_leaf_codes(value) for value in codes))
    return {str(codes)}


def _validation_status(exc: exceptions.ValidationError) -> tuple[int, str]:
    """409 ``conflict`` when every reason is a clash with stored data, else 400."""
    codes = _leaf_codes(exc.get_codes())
    if codes and codes <= STATE_CODES:
        return status.HTTP_409_CONFLICT, "conflict"
    return status.HTTP_400_BAD_REQUEST, "validation_error"


def _code_of(exc: exceptions.APIException) -> str:
    if isinstance(exc, ApiError):
        return exc.error_code
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    return exc.default_code


def envelope_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every exception becomes an envelope response."""
    if isinstance(exc, DomainError):
        exc = from_domain(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if not isinstance(exc, exceptions.APIException):
        view = context.get("view")
        logger.exception("Unhandled error in %s", type(view).__name__ if view else "API view")
        return Response(
            envelope("server_error", GENERIC_MESSAGES[500]),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None) is not None:
        headers["Retry-After"] = str(int(exc.wait))

    status_code = exc.status_code
    if isinstance(exc, exceptions.ValidationError):
        status_code, code = _validation_status(exc)
        body = _validation_envelope(exc, code)
    else:
        details = exc.details if isinstance(exc, ApiError) else {}
        detail = exc.detail
        if isinstance(detail, dict):
            # simplejwt raises {"detail": ..., "code": ..., "messages": [...]}.
            message = str(detail.get("detail", GENERIC_MESSAGES.get(exc.status_code, "")))
            code = str(detail.get("code", _code_of(exc)))
        else:
            message = str(detail)
            code = _code_of(exc)
        body = envelope(code, message, details)
    return Response(body, status=status_code, headers=headers)


def _api_or_default(request, status_code: int, code: str, default_view, *args, **kwargs):
    if request.path.startswith("/api/"):
        return error_response(status_code, code, GENERIC_MESSAGES[status_code])
    return default_view(request, *args, **kwargs)


def handler400(request, exception=None):
    from django.views import defaults

    return _api_or_default(request, 400, "bad_request", defaults.bad_request, exception)


def handler403(request, exception=None):
    from django.views import defaults

    return _api_or_default(request, 403, "permission_denied", defaults.permission_denied, exception)


def handler404(request, exception=None):
    from django.views import defaults

    return _api_or_default(request, 404, "not_found", defaults.page_not_found, exception)


def handler500(request):
    from django.views import defaults

    return _api_or_default(request, 500, "server_error", defaults.server_error)
