"""Reading camera streams: one reader thread per source that keeps only the newest frame.

The supervisor and the ``/cameras/{id}/test`` endpoint share this layer, so it knows nothing
of Django models: it takes an open target (see ``cameras.sources.open_target``) and a
masked label for logs, and reports ``StreamStatus`` snapshots.
"""

import os

# FFmpeg's RTSP client tries UDP first. Behind NAT or a firewall the UDP packets never
# arrive and the stream silently stalls, and over lossy links UDP drops corrupt frames; TCP
# interleaving works everywhere a camera is reachable at all. OpenCV reads this variable each
# time a capture is opened, so it must be set before the first one; an operator's own value
# is left alone.
os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")

from .probe import ProbeResult, probe_source
from .reader import Frame, StreamReader, StreamState, StreamStatus, backoff_delays

__all__ = [
    "Frame",
    "ProbeResult",
    "StreamReader",
    "StreamState",
    "StreamStatus",
    "backoff_delays",
    "probe_source",
]
