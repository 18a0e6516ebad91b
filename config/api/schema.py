"""OpenAPI generation: every operation has a summary and documents each error it answers.

The schema is the contract clients and the fuzzer (``.ci/schemathesis``) hold the API
to, so the errors every operation of a kind can answer are added here in one place, and
a view adds the ones particular to it with ``error_responses``.
"""

from __future__ import annotations

from typing import Any

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

ERROR_DESCRIPTIONS = {
    400: "Invalid request",
    401: "Not signed in, or the token is expired or invalid",
    403: "The role does not allow this",
    404: "Not found",
    409: "The request clashes with the stored data (a value already taken, an object "
    "that does not exist or is in the wrong state)",
    413: "The request body is too large",
    415: "Unsupported media type",
    422: "The request matches the schema but breaks a rule the schema cannot express (a "
    "password the policy refuses, a camera outside the allowed networks, a photo without "
    "a usable face)",
    414: "The request line (path and query) is longer than the server's 16 KiB limit",
    429: "Too many requests; Retry-After says when to try again",
    431: "A request header is longer than the server's 16 KiB limit",
    503: "A dependency is unavailable",
}
RETRY_AFTER_HEADER = {
    "schema": {"type": "integer", "minimum": 1},
    "description": "Seconds to wait before the request can succeed.",
}

_WRITE_METHODS = {"POST", "PUT", "PATCH"}
_CRUD_SUMMARIES = {
    "list": "List {plural}",
    "retrieve": "Get {singular}",
    "create": "Create {singular}",
    "partial_update": "Update {singular}",
    "update": "Replace {singular}",
    "destroy": "Delete {singular}",
}


def error_responses(*status_codes: int) -> dict[int, OpenApiResponse]:
    """``extend_schema(responses=...)`` entries for errors a view answers, in the envelope.

    Use it for the statuses particular to one operation (a 409 or 422 of a service);
    those every operation of a kind can answer are added by ``PresenceAutoSchema``.
    """
    return {
        code: OpenApiResponse(ErrorEnvelope, description=ERROR_DESCRIPTIONS[code])
        for code in status_codes
    }


class PresenceAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema with the project's summaries and error responses."""

    def get_summary(self) -> str | None:
        """The summary given with ``extend_schema``, or one made from the model's names
        for the standard actions of a model viewset."""
        summary = super().get_summary()
        if summary:
            return summary
        action = getattr(self.view, "action", None)
        template = _CRUD_SUMMARIES.get(action or "")
        queryset = getattr(self.view, "queryset", None)
        if template is None or queryset is None:
            return None
        meta = queryset.model._meta
        singular = str(meta.verbose_name)
        article = "an" if singular[:1] in "aeiou" else "a"
        return template.format(singular=f"{article} {singular}", plural=meta.verbose_name_plural)

    def _statuses_every_operation_answers(self) -> dict[int, str]:
        # 414 and 431 come from the HTTP server itself (config/server.py), for any path.
        extra = {
            400: ERROR_DESCRIPTIONS[400],
            414: ERROR_DESCRIPTIONS[414],
            431: ERROR_DESCRIPTIONS[431],
        }
        if not all(issubclass(p, AllowAny) for p in self.view.permission_classes):
            extra[401] = ERROR_DESCRIPTIONS[401]
            extra[403] = ERROR_DESCRIPTIONS[403]
        if "{" in self.path:
            extra[404] = ERROR_DESCRIPTIONS[404]
        if self.method == "GET" and self._is_list_view() and self._get_paginator() is not None:
            extra[404] = "Not found: the page is past the end"
        if self.method in _WRITE_METHODS and self.get_request_serializer() is not None:
            extra[409] = ERROR_DESCRIPTIONS[409]
            extra[413] = ERROR_DESCRIPTIONS[413]
            extra[415] = ERROR_DESCRIPTIONS[415]
            extra[422] = ERROR_DESCRIPTIONS[422]
        if self.view.throttle_classes:
            extra[429] = ERROR_DESCRIPTIONS[429]
        return extra

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for status_code, description in self._statuses_every_operation_answers().items():
            key = str(status_code)
            if key not in responses:
                responses[key] = self._get_response_for_code(
                    OpenApiResponse(ErrorEnvelope, description=description), key
                )
        return responses

    def _get_response_headers_for_code(self, status_code: str, direction: str = "response") -> dict:
        """A 429 says in ``Retry-After`` when to try again."""
        headers = super()._get_response_headers_for_code(status_code, direction)
        if str(status_code) == "429":
            headers.setdefault("Retry-After", RETRY_AFTER_HEADER)
        return headers


#: Text the database can store: PostgreSQL refuses NUL characters, so the API does too.
NO_NUL_PATTERN = "^[^\\x00]*$"
#: The same for text that may not be blank: DRF trims whitespace before its blank check,
#: so a required name of "\\n" is blank; the schema says a visible character is needed.
NOT_BLANK_PATTERN = "^[^\\x00]*[^\\x00\\s][^\\x00]*$"


def _forbid_nul_in_strings(component: dict) -> None:
    for prop in component.get("properties", {}).values():
        plain_string = prop.get("type") == "string" and not (
            {"format", "enum", "pattern"} & set(prop)
        )
        if plain_string and not prop.get("readOnly"):
            not_blank = prop.get("minLength", 0) >= 1
            prop["pattern"] = NOT_BLANK_PATTERN if not_blank else NO_NUL_PATTERN


def document_input_rules(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular postprocessing hook: say in the schema what the API accepts.

    An empty optional query parameter (``?status=``) is ignored, as if absent, by every
    filter and by the pagination, so such parameters allow the empty value; request text
    never holds a NUL character, nor is only whitespace where it may not be blank; and a
    request body has no fields beyond its schema's.
    """
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
                    _forbid_nul_in_strings({"properties": {"_": parameter.get("schema", {})}})
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request"):
            _forbid_nul_in_strings(component)
            # The serializers refuse unknown fields (config.api.serializers).
            component.setdefault("additionalProperties", False)
    return result
