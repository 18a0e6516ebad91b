"""A small HTTP/1.1 keep-alive load generator on asyncio streams, for the API benchmarks.

The API benchmarks measure the server, so the client has to be cheap, predictable and
free of anything that would blur the figures: no third-party client with its own pooling,
retries or connection limits (and nothing to install). It speaks just enough HTTP/1.1 for
daphne: one request at a time per connection (no pipelining), a status line, headers, and
a body framed by ``Content-Length``, chunked encoding or the end of the connection.
Latency is taken from just before the request is written to the last byte of the body.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

DEFAULT_TIMEOUT_SECONDS = 10.0


class HttpError(Exception):
    """The server closed the connection mid-answer or sent something we cannot parse."""


@dataclass
class Response:
    """An HTTP answer as read off the wire."""

    status: int
    headers: dict[str, str]
    body: bytes


class Connection:
    """One keep-alive connection to ``host:port``; its requests run one after another.

    A reused connection that the server closed while idle fails before the first byte of
    the answer; such a request is retried once on a fresh connection, as browsers do.
    """

    def __init__(
        self,
        host: str,
        port: int,
        headers: dict[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        self._extra_headers = extra
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    @property
    def is_open(self) -> bool:
        """Whether the connection can be reused."""
        return self._writer is not None

    async def request(self, path: str, method: str = "GET") -> Response:
        """Send one request and read its answer, opening the connection if needed."""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Accept: application/json\r\n{self._extra_headers}\r\n"
        ).encode("latin-1")
        async with asyncio.timeout(self.timeout):
            for attempt in (1, 2):
                reused = self.is_open
                if not reused:
                    await self._connect()
                try:
                    return await self._exchange(head)
                except _StaleConnection:
                    await self.close()
                    if not reused or attempt == 2:
                        raise HttpError("connection closed before the answer") from None
                except BaseException:
                    await self.close()
                    raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        """Close the connection; a server that already closed it is fine."""
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _connect(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def _exchange(self, head: bytes) -> Response:
        reader, writer = self._reader, self._writer
        assert reader is not None and writer is not None
        try:
            writer.write(head)
            await writer.drain()
            raw = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise HttpError("connection closed inside the response head") from exc
            raise _StaleConnection from exc
        except (ConnectionResetError, BrokenPipeError) as exc:
            raise _StaleConnection from exc
        lines = raw[:-4].decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise HttpError(f"bad status line {lines[0]!r}")
        version, status = parts[0], int(parts[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        try:
            body, closed = await self._read_body(reader, headers)
        except asyncio.IncompleteReadError as exc:
            raise HttpError("connection closed inside the response body") from exc
        if closed or version == "HTTP/1.0" or headers.get("connection", "").lower() == "close":
            await self.close()
        return Response(status, headers, body)

    @staticmethod
    async def _read_body(
        reader: asyncio.StreamReader, headers: dict[str, str]
    ) -> tuple[bytes, bool]:
        """The body and whether the server ends it by closing the connection."""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks = []
            while True:
                size_line = await reader.readuntil(b"\r\n")
                size = int(size_line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while await reader.readuntil(b"\r\n") != b"\r\n":
                        pass  # trailers
                    return b"".join(chunks), False
                chunks.append((await reader.readexactly(size + 2))[:-2])
        if "content-length" in headers:
            return await reader.readexactly(int(headers["content-length"])), False
        return await reader.read(), True


class _StaleConnection(Exception):
    """Nothing of the answer arrived: the server had closed the idle connection."""


class Client:
    """One simulated user: keep-alive connections reused like a browser's, opened only
    when all of them are busy (overlapping polls)."""

    def __init__(
        self,
        host: str,
        port: int,
        headers: dict[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._factory = lambda: Connection(host, port, headers, timeout)
        self._idle: list[Connection] = []

    async def get(self, path: str) -> Response:
        """GET on an idle connection, or a new one when all are busy."""
        connection = self._idle.pop() if self._idle else self._factory()
        try:
            response = await connection.request(path)
        finally:
            if connection.is_open:
                self._idle.append(connection)
        return response

    async def close(self) -> None:
        """Close every idle connection."""
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()


@dataclass
class Samples:
    """Latencies of successful (2xx) answers and failures, for one endpoint in one run."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    error_examples: dict[str, bytes] = field(default_factory=dict)
    body_bytes: int = 0
    elapsed_s: float = 0.0

    async def timed(self, send: Callable[[str], Awaitable[Response]], path: str) -> Response | None:
        """Await ``send(path)`` and record it; None when it failed."""
        start = time.perf_counter()
        try:
            response = await send(path)
        except (OSError, HttpError, TimeoutError) as exc:
            kind = type(exc).__name__
            self.errors[kind] += 1
            self.error_examples.setdefault(kind, str(exc).encode()[:300])
            return None
        took = (time.perf_counter() - start) * 1000.0
        if not 200 <= response.status < 300:
            kind = f"HTTP {response.status}"
            self.errors[kind] += 1
            self.error_examples.setdefault(kind, response.body[:300])
            return None
        self.latencies_ms.append(took)
        self.body_bytes += len(response.body)
        return response

    @property
    def count(self) -> int:
        """Successful answers."""
        return len(self.latencies_ms)

    @property
    def error_count(self) -> int:
        """Failed requests of every kind."""
        return sum(self.errors.values())

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile in ms (NaN without samples)."""
        if not self.latencies_ms:
            return math.nan
        ordered = sorted(self.latencies_ms)
        rank = max(1, math.ceil(p / 100.0 * len(ordered)))
        return ordered[rank - 1]

    @property
    def rate(self) -> float:
        """Successful answers per second."""
        return self.count / self.elapsed_s if self.elapsed_s else math.nan

    @property
    def mean_body_bytes(self) -> float:
        """Mean body size, to see that answers were not empty."""
        return self.body_bytes / self.count if self.count else math.nan


async def closed_loop(
    host: str,
    port: int,
    path: str,
    connections: int,
    seconds: float,
    headers: dict[str, str] | None = None,
    warmup_seconds: float = 1.0,
) -> Samples:
    """``connections`` clients each sending the next request as soon as the last answer
    arrived, for ``warmup_seconds`` (not recorded) and then ``seconds`` (recorded)."""
    samples = Samples()
    discard = Samples()
    loop = asyncio.get_running_loop()
    record_from = loop.time() + warmup_seconds
    stop_at = record_from + seconds

    async def worker() -> None:
        connection = Connection(host, port, headers)
        try:
            while (now := loop.time()) < stop_at:
                target = samples if now >= record_from else discard
                await target.timed(connection.request, path)
        finally:
            await connection.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    samples.elapsed_s = max(loop.time() - record_from, 1e-9)
    return samples
