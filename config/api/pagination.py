"""Page-number pagination that refuses unordered querysets.

An unordered queryset gives pages that overlap or skip rows between requests; DRF only
warns about it, and warnings go unread, so here it is a programming error.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property
from rest_framework.pagination import PageNumberPagination

#: Unfiltered tables larger than this report PostgreSQL's estimate as their count.
ESTIMATE_ABOVE = 100_000


class StrictPageNumberPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

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
