"""Recent detections per camera, in the cache, for ``GET /detections/live``.

The frontend polls this every few seconds; answering from the cache keeps that off the
detections table. Each camera's list is written by the one supervisor holding the camera
(and by an assignment), so writers rarely meet; entries older than ``WINDOW_SECONDS`` or
beyond ``MAX_PER_CAMERA`` are dropped on write.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone
from django.utils.dateparse import parse_datetime

WINDOW_SECONDS = 600
MAX_PER_CAMERA = 100


def _key(camera_id: int) -> str:
    return f"detections:live:{camera_id}"


def remember(camera_id: int, detection: dict) -> None:
    """Insert or replace one serialized detection (by id) in its camera's list."""
    entries = [e for e in cache.get(_key(camera_id), []) if e["id"] != detection["id"]]
    entries.insert(0, detection)
    horizon = timezone.now() - timedelta(seconds=WINDOW_SECONDS)
    entries = [e for e in entries if _when(e) >= horizon][:MAX_PER_CAMERA]
    entries.sort(key=_when, reverse=True)
    cache.set(_key(camera_id), entries, timeout=WINDOW_SECONDS)


def forget(camera_id: int, detection_id: int) -> None:
    entries = cache.get(_key(camera_id))
    if entries:
        kept = [e for e in entries if e["id"] != detection_id]
        cache.set(_key(camera_id), kept, timeout=WINDOW_SECONDS)


def recent(camera_ids: list[int], seconds: float) -> list[dict]:
    """Detections seen in the last ``seconds`` across ``camera_ids``, latest first."""
    horizon = timezone.now() - timedelta(seconds=seconds)
    lists = cache.get_many([_key(c) for c in camera_ids]).values()
    found = [e for entries in lists for e in entries if _when(e) >= horizon]
    return sorted(found, key=_when, reverse=True)


def _when(entry: dict) -> datetime:
    return parse_datetime(entry["last_seen_at"])
