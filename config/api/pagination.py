"""Page-number pagination that refuses unordered querysets.

An unordered queryset gives pages that overlap or skip rows between requests; DRF only
warns about it, and warnings go unread, so here it is a programming error.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from rest_framework.pagination import PageNumberPagination


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
