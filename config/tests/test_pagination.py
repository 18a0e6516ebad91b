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
