"""Period summaries served from the cache, never stale.

A summary of 5,000 people costs about 100 to 160 ms (two grouped queries, then building
and rendering 1 MB of JSON) and is the same for everyone who asks until a day row, a
person or a department changes. So the rendered body is cached together with a
fingerprint of everything it was built from, read first from the database in about a
millisecond:

- the days in the period (and the filter): their count and the sum of their
  ``updated_at`` in whole microseconds. Every day write is an upsert that sets
  ``updated_at`` (``attendance.day_records``), so an insert, an update or a delete
  changes the pair, whatever wrote it and in whichever order concurrent writers commit
  (a sum, unlike a maximum, does not miss a row committed with an older timestamp);
- the people: their count and the same sum over ``Person.updated_at`` (a rename or a
  change of department saves the person);
- the departments' ids and names (a few rows).

A cached body is used only when the fingerprint read now is the one it was built
under. The fingerprint is read before the summary, so a change committed in between
makes the entry newer than its fingerprint, never older: the next reader recomputes.
Without the cache (Redis down) every request computes its summary, as before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import BigIntegerField, Count, Func, QuerySet, Sum

from attendance.models import AttendanceDay
from attendance.reports import SummaryFilter, period_bounds
from faces.models import Department, Person

CACHE_SECONDS = 24 * 3600


class EpochMicroseconds(Func):
    """A timestamp as whole microseconds since 1970: integers sum exactly."""

    output_field = BigIntegerField()

    def as_postgresql(self, compiler: Any, conn: Any, **extra: Any) -> Any:
        """PostgreSQL's epoch is exact to the microsecond (numeric)."""
        template = "(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint"
        return self.as_sql(compiler, conn, template=template, **extra)

    def as_sqlite(self, compiler: Any, conn: Any, **extra: Any) -> Any:
        """Django stores ``YYYY-MM-DD HH:MM:SS[.ffffff]`` text in SQLite: whole seconds
        from ``strftime``, microseconds from the text (floats would round them)."""
        template = (
            "(CAST(strftime('%%%%s', %(expressions)s) AS INTEGER) * 1000000"
            " + CAST(substr(%(expressions)s, 21, 6) AS INTEGER))"
        )
        return self.as_sql(compiler, conn, template=template, **extra)


def _stamp(rows: QuerySet[Any]) -> tuple[int, int]:
    found = rows.aggregate(count=Count("pk"), stamps=Sum(EpochMicroseconds("updated_at")))
    return found["count"], int(found["stamps"] or 0)


def fingerprint(first: date, last: date, scope: SummaryFilter) -> str:
    """What a summary from ``first`` to ``last`` for ``scope`` is built from, hashed."""
    days = scope.apply(AttendanceDay.objects.filter(work_date__range=(first, last)))
    departments = list(Department.objects.order_by("pk").values_list("pk", "name"))
    parts = (_stamp(days.order_by()), _stamp(Person.objects.order_by()), departments)
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def cacheable() -> bool:
    """Whether this database can compute the fingerprint (PostgreSQL and SQLite can)."""
    return connection.vendor in {"postgresql", "sqlite"}


def summary_body(
    period: str,
    anchor: date,
    scope: SummaryFilter,
    build: Callable[[], bytes],
) -> bytes:
    """The summary's rendered body from the cache when its fingerprint still matches,
    else ``build()``, cached under the fingerprint read before it."""
    if not cacheable():
        return build()
    first, last = period_bounds(period, anchor)
    key = f"attendance:summary:{period}:{first}:{scope.department_id}:{scope.person_id}"
    current = fingerprint(first, last, scope)
    entry = cache.get(key)
    if entry is not None and entry[0] == current:
        return entry[1]
    body = build()
    cache.set(key, (current, body), timeout=CACHE_SECONDS)
    return body
