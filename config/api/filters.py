"""Filter helpers shared by list endpoints."""

from __future__ import annotations

import django_filters


class TimeRangeFilterSet(django_filters.FilterSet):
    """Adds ``from`` and ``to`` (ISO 8601, inclusive) on the subclass's ``time_field``.

    Both names are Python keywords or builtins, so they cannot be declared in a class body.
    """

    time_field = "created_at"

    @classmethod
    def get_filters(cls):
        filters = super().get_filters()
        filters["from"] = django_filters.IsoDateTimeFilter(
            field_name=cls.time_field, lookup_expr="gte", label="From (ISO 8601, inclusive)"
        )
        filters["to"] = django_filters.IsoDateTimeFilter(
            field_name=cls.time_field, lookup_expr="lte", label="To (ISO 8601, inclusive)"
        )
        return filters
