"""Filters shared by every list endpoint: one backend, one base filter set, one ordering.

A filter value that the schema calls invalid must be a 400 in the envelope, never a
database error (a 500): ids are bounded to what a ``bigint`` holds, times are turned to
UTC before they reach the database (PostgreSQL refuses offsets beyond 15:59), and an
``ordering`` outside the view's list is refused instead of silently ignored. A reference
to an id that does not exist filters to nothing, as any other value that matches no row.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.db import models
from django.db.models import QuerySet
from django.http import QueryDict
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.request import Request

#: The largest id a ``bigint`` primary key holds.
MAX_ID = 2**63 - 1
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


class IdField(forms.IntegerField):
    """An id in the range of the database's keys; anything else is a validation error
    (``5.0`` included, which Django's integer field would take as 5)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> int | None:
        """Whole numbers written as such; Django's own parsing otherwise."""
        if isinstance(value, str) and value.strip() and not value.strip().lstrip("+-").isdigit():
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


@extend_schema_field(ID_SCHEMA)
class IdFilter(django_filters.NumberFilter):
    """Rows whose key (or foreign key) is this id; an unknown id simply matches nothing."""

    field_class = IdField


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, converted to UTC so the database never sees an odd offset."""

    def to_python(self, value: Any) -> datetime | None:
        """Parse as django-filter does, then move to UTC; a time UTC cannot hold is invalid."""
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed
        except OverflowError as exc:
            raise forms.ValidationError("This time is out of range.", code="invalid") from exc


@extend_schema_field({"type": "string", "format": "date-time"})
class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """``IsoDateTimeFilter`` whose value reaches the database in UTC."""

    field_class = UtcDateTimeField


class StrictBooleanField(forms.Field):
    """``true``/``false`` (or ``1``/``0``); any other word is an error, not "no filter"."""

    VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value: Any) -> bool | None:
        """The boolean the text names, None when empty."""
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        try:
            return self.VALUES[str(value).lower()]
        except KeyError:
            raise forms.ValidationError("Use true or false.", code="invalid") from None


@extend_schema_field({"type": "boolean"})
class StrictBooleanFilter(django_filters.BooleanFilter):
    """``BooleanFilter`` that refuses a value it does not understand."""

    field_class = StrictBooleanField


def without_empty_values(query: QueryDict) -> QueryDict:
    """``query`` without its empty values: ``?camera=`` means no ``camera`` at all, as
    it does for every filter (the schema allows the empty value)."""
    cleaned = QueryDict(mutable=True)
    for key, values in query.lists():
        kept = [value for value in values if value != ""]
        if kept:
            cleaned.setlist(key, kept)
    return cleaned


class ApiFilterSet(django_filters.FilterSet):
    """Base of every filter set: foreign keys and ids filter by a bounded integer,
    booleans refuse words they do not know, times are read in UTC."""

    FILTER_DEFAULTS = {
        **django_filters.FilterSet.FILTER_DEFAULTS,
        models.BooleanField: {"filter_class": StrictBooleanFilter},
        models.AutoField: {"filter_class": IdFilter},
        models.BigAutoField: {"filter_class": IdFilter},
        models.ForeignKey: {"filter_class": IdFilter},
        models.OneToOneField: {"filter_class": IdFilter},
        models.DateTimeField: {"filter_class": UtcDateTimeFilter},
    }


class TimeRangeFilterSet(ApiFilterSet):
    """Adds ``from`` and ``to`` (ISO 8601, inclusive) on the subclass's ``time_field``.

    Both names are Python keywords or builtins, so they cannot be declared in a class body.
    """

    time_field = "created_at"

    @classmethod
    def get_filters(cls) -> dict[str, django_filters.Filter]:
        """The declared filters plus ``from`` and ``to`` on ``time_field``."""
        filters = super().get_filters()
        filters["from"] = UtcDateTimeFilter(
            field_name=cls.time_field, lookup_expr="gte", label="From (ISO 8601, inclusive)"
        )
        filters["to"] = UtcDateTimeFilter(
            field_name=cls.time_field, lookup_expr="lte", label="To (ISO 8601, inclusive)"
        )
        return filters


class ApiFilterBackend(DjangoFilterBackend):
    """django-filter with ``ApiFilterSet`` as the base of filter sets built from
    ``filterset_fields``, so those get the same bounded ids and UTC times."""

    filterset_base = ApiFilterSet


class StrictOrderingFilter(OrderingFilter):
    """``?ordering=`` must name fields of the view's list (``-`` for descending): an
    unknown field is a 400 that lists the allowed ones, not a silent default order."""

    def get_ordering(self, request: Request, queryset: QuerySet, view: Any) -> Any:
        """The requested ordering, validated; the view's default when none is given."""
        params = request.query_params.get(self.ordering_param)
        if params:
            fields = [param.strip() for param in params.split(",")]
            allowed = {
                name for name, _ in self.get_valid_fields(queryset, view, {"request": request})
            }
            unknown = [f for f in fields if f.lstrip("-") not in allowed]
            if unknown:
                raise ValidationError(
                    {
                        self.ordering_param: [
                            f"Unknown ordering {', '.join(map(repr, unknown))}; "
                            f"allowed: {', '.join(sorted(allowed)) or 'none'}."
                        ]
                    }
                )
            return fields
        return self.get_default_ordering(view)

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        """The ``ordering`` parameter with a pattern of the fields it accepts."""
        parameters = super().get_schema_operation_parameters(view)
        queryset = view.get_queryset() if hasattr(view, "get_queryset") else None
        try:
            names = sorted(name for name, _ in self.get_valid_fields(queryset, view, {}))
        except Exception:  # noqa: BLE001 - a view that cannot list fields keeps DRF's text
            return parameters
        one = "-?(" + "|".join(map(re.escape, names)) + ")"
        for parameter in parameters:
            if parameter["name"] == self.ordering_param and names:
                parameter["schema"] = {"type": "string", "pattern": f"^{one}(,{one})*$"}
                parameter["description"] = (
                    f"Comma-separated fields, - for descending: {', '.join(names)}."
                )
        return parameters


class StrictSearchFilter(SearchFilter):
    """``?search=`` as DRF does it, refusing NUL characters that the database cannot
    compare with (a 400, not a 500)."""

    def get_search_terms(self, request: Request) -> list[str]:
        """The search terms; a NUL character anywhere is a validation error."""
        value = request.query_params.get(self.search_param, "")
        if "\x00" in value:
            raise ValidationError({self.search_param: ["Null characters are not allowed."]})
        return super().get_search_terms(request)
