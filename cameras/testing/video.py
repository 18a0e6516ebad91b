"""Test-only helpers for the synthetic videos of ``cameras.synthetic_video``.

Reading a frame's stamp back and writing a corrupt file matter only to tests; the video
builder itself is production code, because the demo camera plays one of its videos.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from cameras.synthetic_video import STAMP_BITS, STAMP_CELL


def read_stamp(image: np.ndarray) -> int:
    """The frame number ``make_test_video`` drew into ``image``.

    The cells are large enough to survive H.264; the image must be at the video's own size.
    """
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    number = 0
    centre = 2 + STAMP_CELL // 2
    for bit in range(STAMP_BITS):
        x = 2 + bit * STAMP_CELL + STAMP_CELL // 2
        patch = grey[centre - 2 : centre + 2, x - 2 : x + 2]
        number = (number << 1) | int(patch.mean() > 127)
    return number


def write_corrupt_video(path: Path, size_bytes: int = 64_000, seed: int = 0) -> Path:
    """Random bytes under a video file name: what a truncated or foreign upload looks like."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(np.random.default_rng(seed).bytes(size_bytes))
    return path
