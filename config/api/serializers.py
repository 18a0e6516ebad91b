"""Serializer bases for every API: a JSON value must have the type the schema gives it.

DRF coerces: ``"5"`` passes as an integer, ``5`` as a string, ``"yes"`` and ``1`` as
booleans. The schema says ``integer``, ``string``, ``boolean``, so a client that sends
the wrong type has a bug, and answering 200 hides it. In a JSON body, the bases below
refuse a value of the wrong type with a 400 naming the field. Form and multipart bodies
carry only strings, so there DRF's parsing of each field's text applies as before.
Every serializer of an ``api`` package derives from ``ApiSerializer`` or
``ApiModelSerializer`` (a test checks).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.http import QueryDict
from rest_framework import serializers
from rest_framework.fields import Field

_EXPECTED = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
}


def _json_type(field: Field) -> str | None:
    """The JSON type the schema gives ``field``, when the check applies to it."""
    if isinstance(field, serializers.BooleanField):
        return "boolean"
    if isinstance(field, serializers.IntegerField | serializers.PrimaryKeyRelatedField):
        return "integer"
    if isinstance(field, serializers.FloatField):
        return "number"
    if isinstance(field, serializers.CharField):
        return "string"
    if isinstance(field, serializers.ChoiceField) and not isinstance(
        field, serializers.MultipleChoiceField
    ):
        keys = list(field.choices)
        return "string" if keys and all(isinstance(k, str) for k in keys) else None
    if isinstance(field, serializers.ListField):
        return "array"
    return None


def _has_type(value: Any, json_type: str) -> bool:
    if json_type == "string":
        return isinstance(value, str)
    if json_type == "boolean":
        return isinstance(value, bool)
    if json_type == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if json_type == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, list)


def type_error(field: Field, value: Any) -> str | None:
    """Why ``value`` does not have ``field``'s JSON type, or None when it does.

    ``null`` is left to the field (``allow_null``); list items are checked against the
    list's child.
    """
    if value is None:
        return None
    json_type = _json_type(field)
    if json_type is None:
        return None
    if not _has_type(value, json_type):
        return f"Must be {_EXPECTED[json_type]}, not {type(value).__name__}."
    if json_type == "array":
        for item in value:
            problem = type_error(field.child, item)
            if problem:
                return f"Every item: {problem[0].lower()}{problem[1:]}"
    return None


#: What an integer looks like in a query string or a form: DRF and Django also take
#: ``"5.0"`` (they strip a decimal zero), which the schema's ``integer`` does not allow.
_INTEGER_TEXT = re.compile(r"\s*[+-]?\d+\s*")


def text_error(field: Field, values: list[Any]) -> str | None:
    """Why the texts of a query string or form field are not what the schema says (an
    integer written as one), or None."""
    json_type = _json_type(field)
    if json_type == "array" and _json_type(field.child) == "integer":
        json_type = "integer"
    if json_type != "integer":
        return None
    for value in values:
        # An empty text is DRF's to judge: "no value" for an optional field.
        if isinstance(value, str) and value.strip() and not _INTEGER_TEXT.fullmatch(value):
            return "Must be an integer."
    return None


def length_error(field: Field, value: Any) -> str | None:
    """Why a string is longer than the field's ``max_length`` as sent, or None.

    DRF strips surrounding whitespace first (control characters such as U+001D count as
    whitespace to Python), so a value over the limit could pass once stripped; the schema's
    ``maxLength`` is about the value sent.
    """
    limit = getattr(field, "max_length", None)
    too_long = isinstance(value, str) and bool(limit) and len(value) > limit
    if isinstance(field, serializers.CharField) and too_long:
        return f"Ensure this field has no more than {limit} characters."
    return None


#: The code of the error for a field the serializer does not have.
UNKNOWN_FIELD = "unknown_field"


class StrictTypesMixin:
    """Refuse JSON values whose type differs from the field's, before DRF coerces them,
    and fields the serializer does not have.

    DRF ignores unknown fields, so a misspelt ``"ful_name"`` is silently dropped and the
    client believes it saved it. The schema says so too (``additionalProperties: false``
    on every request body). Read-only fields are still accepted and ignored, so a client
    may send back an object as it read it. Serializers of query parameters derive from
    ``QueryParamsSerializer``, which allows other parameters.
    """

    allow_unknown_fields = False

    def to_internal_value(self, data: Any) -> Any:
        """Check for unknown fields and every writable field's JSON type, then validate as
        DRF does."""
        if isinstance(data, Mapping) and not self.allow_unknown_fields:
            unknown = sorted(str(name) for name in data if name not in self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: [serializers.ErrorDetail("Unknown field.", code=UNKNOWN_FIELD)]
                        for name in unknown
                    }
                )
        if isinstance(data, QueryDict):
            return self._text_to_internal_value(data)
        if isinstance(data, Mapping):
            errors = {}
            for field in self._writable_fields:
                if field.field_name in data:
                    value = data[field.field_name]
                    problem = type_error(field, value) or length_error(field, value)
                    if problem:
                        errors[field.field_name] = [problem]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)

    def _text_to_internal_value(self, data: QueryDict) -> Any:
        """A query string or form: DRF parses each field's text, and every field's errors
        come together, those of the texts the schema refuses included."""
        errors = {}
        for field in self._writable_fields:
            values = data.getlist(field.field_name)
            problem = text_error(field, values) or next(
                filter(None, (length_error(field, value) for value in values)), None
            )
            if problem:
                errors[field.field_name] = [problem]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not errors or not isinstance(exc.detail, dict):
                raise
            raise serializers.ValidationError({**exc.detail, **errors}) from exc
        if errors:
            raise serializers.ValidationError(errors)
        return value


class ApiSerializer(StrictTypesMixin, serializers.Serializer):
    """The base of every plain serializer of the API."""


class ApiModelSerializer(StrictTypesMixin, serializers.ModelSerializer):
    """The base of every model serializer of the API."""


class QueryParamsSerializer(ApiSerializer):
    """The base of serializers that read query parameters: a query may carry others
    (``page``, ``page_size``, a cache buster), as every list endpoint allows."""

    allow_unknown_fields = True
