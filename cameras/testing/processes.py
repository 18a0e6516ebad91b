"""Counting what camera readers leave behind: ``ffmpeg`` child processes and threads.

A decoder process that is not reaped, or a thread that outlives its reader, is a leak that
only shows after days of reconnects; tests count both after faults instead of trusting that
cleanup ran.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

#: Name prefixes of the threads the stream layer and the supervisor start per camera.
CAMERA_THREAD_PREFIXES = ("camera-", "ffmpeg-stderr")
#: The one process-wide thread that serves every reader and ends when none is left.
WATCHDOG_THREAD = "camera-watchdog"


def ffmpeg_children() -> list[int]:
    """Process ids of this process's ``ffmpeg`` children, zombies included (from /proc)."""
    found = []
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            comm = stat[stat.index("(") + 1 : stat.rindex(")")]
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
            if ppid == me and comm == "ffmpeg":
                found.append(int(entry.name))
    return found


def camera_threads() -> list[str]:
    """Names of the live per-camera threads (readers, decoders' stderr, workers)."""
    return [
        thread.name
        for thread in threading.enumerate()
        if thread.name.startswith(CAMERA_THREAD_PREFIXES) and thread.name != WATCHDOG_THREAD
    ]
