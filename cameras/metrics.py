"""The cameras app's Prometheus series (declared through ``config.metrics``).

Counters are labelled by camera id (bounded by the number of cameras; names change, ids
do not). Whether a camera is online comes from its row, which the supervisor's heartbeats
keep current, at scrape time (``collect_cameras``): whichever process reads a camera, the
web process that serves ``/metrics`` sees its state in one query.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily, Metric

from config.metrics import PREFIX, counter, live_gauge

FRAMES_READ = counter("camera_frames_read", "Frames decoded from the camera's stream.", ["camera"])
FRAMES_ANALYSED = counter(
    "camera_frames_analysed",
    "Frames run through the recognition pipeline (at most the camera's analysis rate).",
    ["camera"],
)
RECONNECTS = counter(
    "camera_reconnects", "Times the stream reader reconnected after a loss.", ["camera"]
)
WORKERS = live_gauge("camera_workers", "Cameras being read by live supervisor processes.")


def collect_cameras() -> Iterable[Metric]:
    """``presence_camera_online`` and ``presence_camera_heartbeat_age_seconds`` per
    enabled camera, from one query."""
    from cameras.models import Camera, CameraStatus

    online = GaugeMetricFamily(
        PREFIX + "camera_online",
        "1 if the camera's stream is online (as its supervisor last reported), else 0.",
        labels=["camera"],
    )
    age = GaugeMetricFamily(
        PREFIX + "camera_heartbeat_age_seconds",
        "Seconds since the camera's supervisor last reported on it.",
        labels=["camera"],
    )
    now = time.time()
    rows = Camera.objects.filter(enabled=True).values_list("pk", "status", "heartbeat_at")
    for pk, status, heartbeat_at in rows:
        online.add_metric([str(pk)], 1 if status == CameraStatus.ONLINE else 0)
        if heartbeat_at is not None:
            age.add_metric([str(pk)], max(0.0, now - heartbeat_at.timestamp()))
    return [online, age]
