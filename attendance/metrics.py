"""The attendance app's Prometheus series (declared through ``config.metrics``)."""

from __future__ import annotations

from config.metrics import counter

EVENTS = counter(
    "attendance_events",
    "Attendance events created (committed), by source (camera, manual, import, "
    "auto_close) and kind.",
    ["source", "kind"],
)
