"""Recent detections per camera, in the cache, for ``GET /detections/live``.

The frontend polls this every few seconds; answering from the cache keeps that off the
detections table. Each camera's list is written by the one supervisor holding the camera
(and by an assignment), so writers rarely meet; entries older than ``WINDOW_SECONDS`` or
beyond ``MAX_PER_CAMERA`` are dropped on write.

Redis may be down (issue 7, "Faults"): a writer then drops its entries and, once Redis
answers again, stamps ``COMPLETE_SINCE_KEY`` with the time from which the lists are whole
again; ``recent`` answers None (the view reads the database) while Redis is down or when
the window asked for reaches back before that stamp.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.core.cache import BaseCache
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from config.cache import UNAVAILABLE_ERRORS, cache_available, strict_cache

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 600
MAX_PER_CAMERA = 100
COMPLETE_SINCE_KEY = "detections:live:complete-since"

_missed_lock = threading.Lock()
_missed = False


def _key(camera_id: int) -> str:
    return f"detections:live:{camera_id}"


def remember(camera_id: int, detection: dict) -> None:
    """Insert or replace one serialized detection (by id) in its camera's list."""

    def write(cache: BaseCache) -> None:
        entries = [e for e in cache.get(_key(camera_id), []) if e["id"] != detection["id"]]
        entries.insert(0, detection)
        horizon = timezone.now() - timedelta(seconds=WINDOW_SECONDS)
        entries = [e for e in entries if _when(e) >= horizon][:MAX_PER_CAMERA]
        entries.sort(key=_when, reverse=True)
        cache.set(_key(camera_id), entries, timeout=WINDOW_SECONDS)

    _write(write)


def forget(camera_id: int, detection_id: int) -> None:
    """Drop a deleted detection from the live list before its window ends."""

    def write(cache: BaseCache) -> None:
        entries = cache.get(_key(camera_id))
        if entries:
            kept = [e for e in entries if e["id"] != detection_id]
            cache.set(_key(camera_id), kept, timeout=WINDOW_SECONDS)

    _write(write)


def _write(write: Callable[[BaseCache], None]) -> None:
    """Run ``write`` on the cache; while Redis is down, note that an entry was missed."""
    global _missed
    if cache_available():
        cache = strict_cache()
        try:
            write(cache)
        except UNAVAILABLE_ERRORS:
            pass
        else:
            if _missed:
                with _missed_lock:
                    cache.set(COMPLETE_SINCE_KEY, time.time(), timeout=WINDOW_SECONDS)
                    _missed = False
            return
    with _missed_lock:
        _missed = True


def recent(camera_ids: list[int], seconds: float) -> list[dict] | None:
    """Detections seen in the last ``seconds`` across ``camera_ids``, latest first, or
    None when the cache cannot answer for that window (read the database instead)."""
    if not cache_available():
        return None
    horizon = timezone.now() - timedelta(seconds=seconds)
    try:
        found = strict_cache().get_many([COMPLETE_SINCE_KEY, *(_key(c) for c in camera_ids)])
    except UNAVAILABLE_ERRORS:
        return None
    complete_since = found.pop(COMPLETE_SINCE_KEY, None)
    if complete_since is not None and complete_since > horizon.timestamp():
        return None
    entries = [e for entries in found.values() for e in entries if _when(e) >= horizon]
    return sorted(entries, key=_when, reverse=True)


def _when(entry: dict) -> datetime:
    return parse_datetime(entry["last_seen_at"])
