"""OpenAPI generation: every operation documents the error envelope it can answer."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny

ErrorEnvelope = inline_serializer(
    name="ErrorEnvelope",
    fields={
        "error": inline_serializer(
            name="ErrorBody",
            fields={
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "details": serializers.DictField(child=serializers.JSONField()),
            },
        )
    },
)

_ERRORS_ALWAYS = {400: "Invalid request"}
_ERRORS_AUTHENTICATED = {
    401: "Not signed in, or the token is expired or invalid",
    403: "The role does not allow this",
}
_ERRORS_DETAIL = {404: "Not found"}
_ERRORS_THROTTLED = {429: "Too many requests; retry after the seconds in Retry-After"}
RETRY_AFTER_HEADER = {
    "schema": {"type": "integer", "minimum": 1},
    "description": "Seconds to wait before the request can succeed.",
}


class PresenceAutoSchema(AutoSchema):
    """Adds the error answers that every operation of a kind can give: 400, 401 and
    403 behind a role, 404 on a detail path, 429 (with ``Retry-After``) when throttled."""

    def _get_response_bodies(self, direction: str = "response") -> dict:
        responses = super()._get_response_bodies(direction)
        extra = dict(_ERRORS_ALWAYS)
        if not all(issubclass(p, AllowAny) for p in self.view.permission_classes):
            extra.update(_ERRORS_AUTHENTICATED)
        if "{" in self.path:
            extra.update(_ERRORS_DETAIL)
        if self.view.throttle_classes:
            extra.update(_ERRORS_THROTTLED)
        for status_code, description in extra.items():
            key = str(status_code)
            if key not in responses:
                responses[key] = self._get_response_for_code(
                    OpenApiResponse(ErrorEnvelope, description=description), key
                )
        return responses

    def _get_response_headers_for_code(self, status_code: str, direction: str = "response") -> dict:
        headers = super()._get_response_headers_for_code(status_code, direction)
        if str(status_code) == "429":
            headers.setdefault("Retry-After", RETRY_AFTER_HEADER)
        return headers
