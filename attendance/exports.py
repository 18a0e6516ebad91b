"""Attendance events as CSV or XLSX, built row by row so a year of a company fits in
a small, constant amount of memory.

Both formats have the same header and the same rows (one per event, voided ones
flagged), read from the database in chunks with ``values_list`` (no model instances).
CSV is yielded line by line and XLSX block by block (``attendance.xlsx``, a zip written
as it goes) for a streaming response: both start at once, whatever the period.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime

from django.db.models import QuerySet

from attendance.models import AttendanceEvent, PersonAttendanceState
from attendance.payloads import roll_call_row
from attendance.xlsx import stream_xlsx
from detections.payloads import iso_datetime

CHUNK_SIZE = 2000
HEADER = (
    "id",
    "employee_code",
    "full_name",
    "department",
    "kind",
    "at",
    "source",
    "camera",
    "voided",
    "reason",
    "voided_at",
    "void_reason",
)
_COLUMNS = (
    "id",
    "person__employee_code",
    "person__full_name",
    "person__department__name",
    "kind",
    "at",
    "source",
    "camera__name",
    "voided_at",
    "reason",
    "voided_at",
    "void_reason",
)


def export_events(start: datetime | None, end: datetime | None) -> QuerySet[AttendanceEvent]:
    """The events to export, oldest first, ``start`` and ``end`` inclusive."""
    events = AttendanceEvent.objects.all()
    if start is not None:
        events = events.filter(at__gte=start)
    if end is not None:
        events = events.filter(at__lte=end)
    return events.order_by("at", "id")


def export_rows(events: QuerySet[AttendanceEvent]) -> Iterator[tuple[str, ...]]:
    """One row of text per event, in ``HEADER``'s order."""
    for row in events.values_list(*_COLUMNS).iterator(chunk_size=CHUNK_SIZE):
        (pk, code, name, department, kind, at, source, camera, voided_at, reason, _, why) = row
        yield (
            str(pk),
            code,
            name,
            department or "",
            kind,
            iso_datetime(at) or "",
            source,
            camera or "",
            "true" if voided_at is not None else "false",
            reason,
            iso_datetime(voided_at) or "",
            why,
        )


class _Line:
    """A file-like target for ``csv.writer`` that hands back what was written."""

    def write(self, value: str) -> str:
        """Return the line instead of storing it."""
        return value


def csv_lines(events: QuerySet[AttendanceEvent]) -> Iterator[str]:
    """The export as CSV, one line at a time, header first."""
    writer = csv.writer(_Line())
    yield writer.writerow(HEADER)
    for row in export_rows(events):
        yield writer.writerow(row)


ROLL_CALL_HEADER = ("employee_code", "full_name", "since", "last_seen_at", "camera_id", "camera")


def roll_call_lines(states: QuerySet[PersonAttendanceState]) -> Iterator[str]:
    """The roll call as CSV, one line per person on site, header first."""
    writer = csv.writer(_Line())
    yield writer.writerow(ROLL_CALL_HEADER)
    for state in states.iterator(chunk_size=500):
        row = roll_call_row(state)
        camera = row["camera"] or {"id": "", "name": ""}
        yield writer.writerow(
            (
                row["person"]["employee_code"],
                row["person"]["full_name"],
                row["since"] or "",
                row["last_seen_at"] or "",
                camera["id"],
                camera["name"],
            )
        )


def xlsx_blocks(events: QuerySet[AttendanceEvent]) -> Iterator[bytes]:
    """The export as an XLSX workbook, a block of bytes at a time, header first."""
    return stream_xlsx(HEADER, export_rows(events), sheet_name="Attendance")
