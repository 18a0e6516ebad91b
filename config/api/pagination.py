"""Page-number pagination that refuses unordered querysets.

An unordered queryset gives pages that overlap or skip rows between requests; DRF only
warns about it, and warnings go unread, so here it is a programming error.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

#: Unfiltered tables larger than this report PostgreSQL's estimate as their count.
ESTIMATE_ABOVE = 100_000


def positive_int_param(request: Request, name: str) -> int | None:
    """The query parameter ``name`` as a positive integer, None when absent or empty.

    Anything else (a word, zero, a negative, the parameter given twice) is a 400: the
    schema says ``integer >= 1``, and silently falling back to a default hides the bug.
    """
    values = [v for v in request.query_params.getlist(name) if v != ""]
    if not values:
        return None
    if len(values) > 1:
        raise ValidationError({name: ["Give this parameter once."]})
    try:
        number = int(values[0])
    except ValueError:
        number = 0
    if number < 1:
        raise ValidationError({name: ["A positive integer is required."]})
    return number


class StrictPageNumberPagination(PageNumberPagination):
    """Page numbers; ``page`` and ``page_size`` are positive integers (a 400 otherwise),
    ``page_size`` is capped at ``max_page_size`` and a page past the end is a 404."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int:
        """The requested page size, capped, or the default when none is asked for."""
        size = positive_int_param(request, self.page_size_query_param)
        return self.page_size if size is None else min(size, self.max_page_size)

    def get_page_number(self, request: Request, paginator: Paginator) -> int | str:
        """The requested page, validated; the first when none is asked for."""
        number = positive_int_param(request, self.page_query_param)
        return 1 if number is None else number

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        """DRF's parameters with the bounds the checks above enforce."""
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
                parameter["description"] = f"Results per page, at most {self.max_page_size}."
        return parameters

    def paginate_queryset(self, queryset, request, view=None):
        if hasattr(queryset, "ordered") and not queryset.ordered:
            raise ImproperlyConfigured(
                f"{type(view).__name__ if view else 'A view'} paginates an unordered "
                "queryset; give the model a Meta.ordering or call order_by()."
            )
        return super().paginate_queryset(queryset, request, view)


def estimated_rows(queryset) -> int | None:
    """PostgreSQL's row estimate for the queryset's table (kept by ANALYZE/autovacuum)."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [queryset.model._meta.db_table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] >= 0 else None


class EstimatedCountPaginator(Paginator):
    """Counting a million rows takes ~50 ms of both cores on every page; an unfiltered
    listing of a huge table reports the planner's estimate instead. Filtered listings,
    which the indexes narrow, are counted exactly."""

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not queryset.query.where:
            estimate = estimated_rows(queryset)
            if estimate is not None and estimate > ESTIMATE_ABOVE:
                return estimate
        return super().count


class LargeTablePagination(StrictPageNumberPagination):
    django_paginator_class = EstimatedCountPaginator
