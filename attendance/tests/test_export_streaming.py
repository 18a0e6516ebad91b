"""Exports and the roll call stay streamed when an ASGI server (daphne) sends them.

Django's ASGI path read a synchronous body whole (``sync_to_async(list)``) before its
first byte, so a year's export sat in the server's memory (BENCHMARKS.md). These tests
take the first part of each body the way the ASGI handler does (``__aiter__``) and check
that only a little of it had been produced by then.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from asgiref.sync import async_to_sync

from attendance import exports
from config.streaming import PARTS_PER_BATCH

LINES = 5_000


async def _first_part(response) -> bytes:
    parts = aiter(response)
    try:
        return await anext(parts)
    finally:
        await parts.aclose()


def _counting_lines(produced: list[int]):
    def lines(*_args) -> Iterator[str]:
        for number in range(LINES):
            produced.append(number)
            yield f"{number}\n"

    return lines


@pytest.mark.django_db
def test_csv_export_is_sent_before_it_is_all_built(admin_api, monkeypatch):
    produced: list[int] = []
    monkeypatch.setattr(exports, "csv_lines", _counting_lines(produced))
    response = admin_api.get("/api/v1/attendance/export?format=csv")
    assert async_to_sync(_first_part)(response) == b"0\n"
    assert len(produced) <= PARTS_PER_BATCH + 1


@pytest.mark.django_db
def test_roll_call_csv_is_sent_before_it_is_all_built(admin_api, monkeypatch):
    produced: list[int] = []
    monkeypatch.setattr(exports, "roll_call_lines", _counting_lines(produced))
    response = admin_api.get("/api/v1/attendance/present?format=csv")
    assert async_to_sync(_first_part)(response) == b"0\n"
    assert len(produced) <= PARTS_PER_BATCH + 1


@pytest.mark.django_db
def test_xlsx_is_sent_before_it_is_all_built(admin_api, monkeypatch):
    produced: list[int] = []
    rows = 10_000

    def export_rows(_events) -> Iterator[tuple[str, ...]]:
        for number in range(rows):
            produced.append(number)
            yield (str(number), f"E{number}", "A name", "", "check_in", "2026-01-05", *"abcdef")

    monkeypatch.setattr(exports, "export_rows", export_rows)
    response = admin_api.get("/api/v1/attendance/export?format=xlsx")
    assert response["Content-Disposition"].endswith('.xlsx"')
    try:
        assert async_to_sync(_first_part)(response).startswith(b"PK\x03\x04")
    finally:
        # As the ASGI handler does when the client leaves: the generator closes its zip
        # here, not in a garbage collection on some other thread.
        response.close()
    # The zip's fixed files leave before the first row is read.
    assert produced == []


def test_csv_lines_still_stream_synchronously(admin_api, db, monkeypatch):
    produced: list[int] = []
    monkeypatch.setattr(exports, "csv_lines", _counting_lines(produced))
    response = admin_api.get("/api/v1/attendance/export?format=csv")
    assert next(iter(response.streaming_content)) == b"0\n"
    assert len(produced) == 1
