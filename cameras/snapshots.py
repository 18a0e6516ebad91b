"""The newest frame of each camera, as a JPEG in the cache.

The supervisor that holds a camera writes it about once a second; the API reads it. A
frame older than ``SNAPSHOT_TTL`` disappears by itself, so a dead camera has no snapshot
rather than a stale one.
"""

from __future__ import annotations

from django.core.cache import cache

SNAPSHOT_TTL = 30


def snapshot_key(camera_id: int) -> str:
    return f"cameras:snapshot:{camera_id}"


def store_snapshot(camera_id: int, jpeg: bytes) -> None:
    cache.set(snapshot_key(camera_id), jpeg, timeout=SNAPSHOT_TTL)


def latest_snapshot(camera_id: int) -> bytes | None:
    return cache.get(snapshot_key(camera_id))
