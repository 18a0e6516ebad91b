"""Opening an OpenCV capture with bounded waits, and saying why an open failed.

The reader and the probe both open sources; this is the one place that knows how. OpenCV
only answers "not opened", which tells an operator nothing, so ``describe_open_failure``
looks at what it can (the file, a TCP connection, the time the open took) to give a reason
they can act on.

Checked with opencv-python-headless 5.0 (FFmpeg backend): ``CAP_PROP_OPEN_TIMEOUT_MSEC``
bounds the open against an RTSP or HTTP server that accepts the connection and never
answers (3.0 s asked, 3.01 s taken), through FFmpeg's interrupt callback, so opens need no
helper thread. ``CAP_PROP_READ_TIMEOUT_MSEC`` does not bound a read from an RTSP server
that hangs with its connection open: the interrupt fires every timeout, but the read is
retried and never returns. The reader's watchdog covers that (see ``reader``).
"""

from __future__ import annotations

import math
import os
import socket
from urllib.parse import urlsplit

import cv2

DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}

#: A reported frame rate outside this range is a container's time base, not a frame rate.
MAX_PLAUSIBLE_FPS = 240.0


def open_capture(
    target: str | int, *, open_timeout: float, read_timeout: float
) -> cv2.VideoCapture:
    """Open ``target`` with FFmpeg (files and URLs) or the default backend (device index)."""
    if isinstance(target, int):
        return cv2.VideoCapture(target)
    params = [
        cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
        max(1, round(open_timeout * 1000)),
        cv2.CAP_PROP_READ_TIMEOUT_MSEC,
        max(1, round(read_timeout * 1000)),
    ]
    return cv2.VideoCapture(target, cv2.CAP_FFMPEG, params)


def plausible_fps(value: float | None) -> float | None:
    """``value`` if it can be a camera's frame rate, else None (0, NaN and 90000 happen)."""
    if value is None or not math.isfinite(value) or not 0 < value <= MAX_PLAUSIBLE_FPS:
        return None
    return float(value)


def capture_size(capture: cv2.VideoCapture) -> tuple[int | None, int | None]:
    """The stream's frame size, None where the backend does not know it yet."""
    width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH) or 0)
    height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
    return (width or None, height or None)


def describe_open_failure(
    target: str | int, *, label: str, elapsed: float, open_timeout: float
) -> str:
    """A reason for a failed open, for people. Contains ``label`` only, never ``target``."""
    if isinstance(target, int):
        return f"{label}: cannot open camera device {target} (missing, busy or not a camera)"
    if not urlsplit(target).scheme or target.startswith("/"):
        return f"{label}: {_file_problem(target)}"
    if elapsed >= open_timeout * 0.9:
        return f"{label}: no answer within {open_timeout:g} s (host down or not a camera?)"
    return f"{label}: {_network_problem(target, timeout=max(0.2, open_timeout - elapsed))}"


def _file_problem(path: str) -> str:
    if not os.path.exists(path):
        return "file not found"
    if not os.path.isfile(path):
        return "not a regular file"
    if not os.access(path, os.R_OK):
        return "the file cannot be read (permissions)"
    if os.path.getsize(path) == 0:
        return "the file is empty"
    return "not a readable video (corrupt file or unsupported format)"


def _network_problem(url: str, *, timeout: float) -> str:
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port or DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return "malformed URL"
    if not host or not port:
        return "malformed URL"
    try:
        with socket.create_connection((host, port), timeout=min(timeout, 2.0)):
            pass
    except socket.gaierror:
        return "host not found"
    except ConnectionRefusedError:
        return f"connection refused on port {port}"
    except TimeoutError:
        return "no answer (timed out)"
    except OSError as error:
        return f"cannot connect ({error.strerror or error.__class__.__name__})"
    return (
        "the server answered but no video stream could be opened "
        "(check the path, the credentials and the codec)"
    )
