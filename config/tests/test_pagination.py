"""Pagination refuses unordered querysets instead of serving overlapping pages."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from accounts.models import User
from config.api.pagination import StrictPageNumberPagination

pytestmark = pytest.mark.django_db


def test_unordered_queryset_is_refused():
    request = Request(APIRequestFactory().get("/api/v1/users"))
    with pytest.raises(ImproperlyConfigured):
        StrictPageNumberPagination().paginate_queryset(User.objects.order_by(), request, view=None)


def test_ordered_queryset_pages_with_cap(admin_user):
    for i in range(3):
        User.objects.create_user(f"u{i}@example.com", "x" * 12)
    paginator = StrictPageNumberPagination()
    request = Request(APIRequestFactory().get("/api/v1/users", {"page_size": 2}))
    page = paginator.paginate_queryset(User.objects.order_by("email"), request)
    assert len(page) == 2
    assert paginator.get_paginated_response([]).data["count"] == 4
    assert paginator.max_page_size == 200


def test_huge_unfiltered_tables_report_the_estimate(admin_user, monkeypatch):
    from config.api import pagination

    monkeypatch.setattr(pagination, "estimated_rows", lambda queryset: 2_500_000)
    everything = pagination.EstimatedCountPaginator(User.objects.order_by("pk"), 10)
    assert everything.count == 2_500_000
    filtered = pagination.EstimatedCountPaginator(
        User.objects.filter(role="admin").order_by("pk"), 10
    )
    assert filtered.count == 1


def test_estimate_is_read_from_postgresql(admin_user):
    from django.db import connection

    from config.api.pagination import estimated_rows

    if connection.vendor == "postgresql":
        assert estimated_rows(User.objects.all()) is None  # never analysed: no estimate
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE accounts_user")
        assert estimated_rows(User.objects.all()) == 1
    else:
        assert estimated_rows(User.objects.all()) is None
