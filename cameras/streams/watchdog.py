"""One process-wide thread that notices readers stuck inside OpenCV and has them replaced.

A reader thread cannot watch itself while it is blocked in ``VideoCapture.read()``, and that
happens: against an RTSP camera that hangs with its TCP connection open, OpenCV 5.0's read
never returns (FFmpeg's interrupt fires every read timeout, but the read is retried). So a
separate thread looks at every running reader a few times a second and calls its
``_watch(now)``, which abandons a stuck thread and starts a fresh one. One thread serves all
cameras, so a camera still costs one reader thread; it exits when no reader is left.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from typing import Protocol

logger = logging.getLogger("cameras.streams")

#: How often readers are checked, in seconds.
INTERVAL_S = 0.25


class Watched(Protocol):
    """What the watchdog calls: ``StreamReader._watch`` (kept private to the package)."""

    def _watch(self, now: float) -> None: ...


class Watchdog:
    """Calls ``_watch(time.monotonic())`` on each registered reader every ``INTERVAL_S``."""

    def __init__(self) -> None:
        self._readers: weakref.WeakSet[Watched] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, reader: Watched) -> None:
        """Watch ``reader``; the thread starts with the first reader, not at import."""
        with self._lock:
            self._readers.add(reader)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="camera-watchdog", daemon=True
                )
                self._thread.start()

    def discard(self, reader: Watched) -> None:
        """Stop watching ``reader`` (a stopped reader needs no watchdog)."""
        with self._lock:
            self._readers.discard(reader)

    def _loop(self) -> None:
        while True:
            time.sleep(INTERVAL_S)
            with self._lock:
                readers = list(self._readers)
                if not readers:
                    self._thread = None
                    return
            now = time.monotonic()
            for reader in readers:
                try:
                    reader._watch(now)
                except Exception:
                    logger.exception("camera watchdog failed on %r", reader)


WATCHDOG = Watchdog()
