"""What a reader hands out: frames, its state and status snapshots, and its retry delays.

These are the stream layer's vocabulary for the supervisor, the API and tests; they live
apart from the reader's threading so they can be read (and imported) on their own.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Frame:
    """One decoded image and where it stands in the stream."""

    image: np.ndarray
    """BGR uint8, as OpenCV decodes it; each frame owns its array."""
    seq: int
    """Increases by one per published frame for the reader's lifetime, across reconnects;
    a consumer sees gaps where it was too slow."""
    captured_at: float
    """``time.time()`` when the frame was decoded."""
    pass_index: int = 0
    """For a looping file, which pass over the file (0, 1, ...); always 0 for streams."""


class StreamState(enum.StrEnum):
    """Where a reader stands; the supervisor stores it as the camera's status."""

    CONNECTING = "connecting"
    ONLINE = "online"
    OFFLINE = "offline"
    """Was streaming, then the stream ended, failed or stalled; reconnecting."""
    ERROR = "error"
    """The source could not be opened or decoded; retrying with back-off."""
    STOPPED = "stopped"
    """``stop()`` was called, or a file played once has ended."""


@dataclass(frozen=True)
class StreamStatus:
    """A snapshot of a reader, safe to show: ``last_error`` is always masked."""

    state: StreamState
    last_frame_at: float | None = None
    fps: float = 0.0
    last_error: str | None = None
    reconnects_last_hour: int = 0
    width: int | None = None
    height: int | None = None


def backoff_delays(
    initial: float = 1.0,
    maximum: float = 30.0,
    jitter: float = 0.0,
    rng: random.Random | None = None,
) -> Iterator[float]:
    """``initial``, doubling each time, capped at ``maximum``: 1, 2, 4, 8, 16, 30, 30, ...

    With ``jitter`` (0 to 1) each delay is drawn at random from ``[(1 - jitter) * d, d]``:
    a hundred cameras behind one switch lose their streams at the same instant, and
    without jitter they would all reconnect at the same instants too, every time. ``rng``
    draws the numbers (tests pass a seeded one)."""
    if not 0.0 <= jitter <= 1.0:
        raise ValueError(f"jitter must be between 0 and 1, not {jitter}")
    draw = rng or random.Random()
    delay = initial
    while True:
        capped = min(delay, maximum)
        yield capped * (1.0 - jitter * draw.random()) if jitter else capped
        delay = min(delay * 2, maximum)
