"""Streaming responses that stay streamed under an ASGI server.

Django's ``StreamingHttpResponse`` served by an ASGI server (daphne, in production)
consumes a synchronous iterator with ``sync_to_async(list)``: the whole body is built in
memory before its first byte is sent, so a year's attendance export held the year in the
server's memory (BENCHMARKS.md, "Attendance API"). These responses pull the iterator in
small batches instead (the first part alone, then ``PARTS_PER_BATCH`` at a time), each
batch in the request's own thread (``thread_sensitive``, the thread the view ran in),
so the database cursor the iterator reads from stays on the thread and connection that
opened it. Under WSGI and the test client nothing changes: the iterator is consumed
lazily there already.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from itertools import islice

from asgiref.sync import sync_to_async
from django.http import StreamingHttpResponse

PARTS_PER_BATCH = 64


def next_batch(parts: Iterator[bytes], size: int = PARTS_PER_BATCH) -> list[bytes]:
    """Up to ``size`` parts of the body (fewer at its end, none after it)."""
    return list(islice(parts, size))


class BatchedStreamMixin:
    """``__aiter__`` that hops to the request's thread once per batch of parts instead
    of reading the whole synchronous iterator at once."""

    is_async: bool
    streaming_content: Iterator[bytes]

    async def __aiter__(self) -> AsyncIterator[bytes]:
        """The body's parts, a batch at a time."""
        if self.is_async:
            async for part in self.streaming_content:  # type: ignore[attr-defined]
                yield part
            return
        take = sync_to_async(next_batch, thread_sensitive=True)
        parts = self.streaming_content
        # The first part alone, so the download starts as soon as it exists (an XLSX's
        # first part is its small fixed files, before any row is read); then batches.
        size = 1
        while batch := await take(parts, size):
            for part in batch:
                yield part
            size = PARTS_PER_BATCH


class BatchedStreamingHttpResponse(BatchedStreamMixin, StreamingHttpResponse):
    """A ``StreamingHttpResponse`` whose body stays streamed under ASGI."""
