"""The one signal detections send upward.

``detection_recognized`` is sent, after the transaction commits, the first time a
detection's verdict becomes ``recognized``: once per tracked face, never per frame.
Receivers get ``detection`` (a Detection with ``person`` and ``camera`` loaded). The
attendance app connects to it in its ``apps.py`` to turn sightings into check-ins.
"""

from django.dispatch import Signal

detection_recognized = Signal()
