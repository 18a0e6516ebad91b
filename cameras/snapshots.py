"""The newest frame of each camera, as a JPEG in the cache.

The supervisor that holds a camera writes it about once a second; the API reads it. A
frame older than ``SNAPSHOT_TTL`` disappears by itself, so a dead camera has no snapshot
rather than a stale one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.cache import cache

if TYPE_CHECKING:
    import numpy as np

SNAPSHOT_TTL = 30
SNAPSHOT_JPEG_QUALITY = 80


def encode_snapshot(image_bgr: np.ndarray) -> bytes:
    """A frame as the JPEG the snapshot endpoints serve. Kept here, not borrowed from
    ``faces``: the cameras app sits below it and imports nothing above ``accounts``."""
    import cv2

    ok, buffer = cv2.imencode(".jpg", image_bgr, [cv2.IMWRITE_JPEG_QUALITY, SNAPSHOT_JPEG_QUALITY])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buffer.tobytes()


def snapshot_key(camera_id: int) -> str:
    """One cache key per camera: only the latest snapshot is kept."""
    return f"cameras:snapshot:{camera_id}"


def store_snapshot(camera_id: int, jpeg: bytes) -> None:
    """Keep the latest frame for a short while; a stalled camera's snapshot expires."""
    cache.set(snapshot_key(camera_id), jpeg, timeout=SNAPSHOT_TTL)


def latest_snapshot(camera_id: int) -> bytes | None:
    """The camera's latest JPEG, or None when it has sent nothing recently."""
    return cache.get(snapshot_key(camera_id))
