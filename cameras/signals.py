"""The one signal cameras send upward.

``camera_status_changed`` is sent with ``camera`` (a Camera) whenever the supervisor or
the staleness job changes its status. The detections app connects it to the live
WebSocket (``camera.status`` messages) in its ``apps.py``.
"""

from django.dispatch import Signal

camera_status_changed = Signal()
