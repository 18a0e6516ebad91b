"""Exports and the roll call stay streamed when an ASGI server (daphne) sends them.

Django's ASGI path read a synchronous body whole (``sync_to_async(list)``) before its
first byte, so a year's export sat in the server's memory (BENCHMARKS.md). These tests
take the first part of each body the way the ASGI handler does (``__aiter__``) and check
that only a little of it had been produced by then.
"""

from __future__ import annotations

import io
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


class _CountingFile(io.BytesIO):
    bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.bytes_read += len(data)
        return data


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
def test_xlsx_file_is_sent_in_blocks_not_read_whole(admin_api, monkeypatch):
    size = 8 * 2**20
    handle = _CountingFile(b"x" * size)
    monkeypatch.setattr(exports, "write_xlsx", lambda _events: handle)
    response = admin_api.get("/api/v1/attendance/export?format=xlsx")
    assert async_to_sync(_first_part)(response)
    assert 0 < handle.bytes_read < size


def test_csv_lines_still_stream_synchronously(admin_api, db, monkeypatch):
    produced: list[int] = []
    monkeypatch.setattr(exports, "csv_lines", _counting_lines(produced))
    response = admin_api.get("/api/v1/attendance/export?format=csv")
    assert next(iter(response.streaming_content)) == b"0\n"
    assert len(produced) == 1
