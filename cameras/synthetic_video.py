"""Synthetic door-camera videos built from package-shipped face images.

The demo camera of the embedded run (``manage.py seed_demo``) plays one, and the camera
and pipeline tests build theirs with it (``cameras.testing.video`` adds what only tests
need). A recorded clip of real people cannot ship with the code, and a flat-colour scene would let
bugs through (codecs, detectors and trackers all behave differently on texture). So tests
draw a textured background, move real portraits across it on known paths and time windows,
and encode the result as H.264 with Debian's ``ffmpeg`` (OpenCV's own writer only produces
MPEG-4 Part 2, which the RTSP server cannot packetise). A keyframe every second lets an RTSP
client that joins mid-stream start decoding within a second.

Each frame also carries its frame number as a row of black and white cells in the top-left
corner (``cameras.testing.video.read_stamp``), so a test can tell which frame of the file
it is looking at after compression, a network hop and a reconnect.

The portraits come from ``face_crops()``: two people of insightface's ``t1.jpg`` and the
astronaut of scikit-image as a stranger; see ``T1_FACES`` for which two.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np


class T1Face(NamedTuple):
    """A face of insightface's ``t1.jpg``, as the sface detector reports it."""

    index: int
    """Position in ``engine.detect(t1)`` (best score first) at the default detect width."""
    bbox: tuple[int, int, int, int]
    """``(x, y, width, height)`` in the 1280x886 original."""

    @property
    def center(self) -> tuple[float, float]:
        """The box's centre, which identifies the face whatever the detector's order."""
        x, y, w, h = self.bbox
        return x + w / 2, y + h / 2


#: The two enrolled people of the test video, by their index in ``build_engine("sface")
#: .detect(t1)`` and their box in the original ``t1.jpg``. Both are frontal (face 3 of t1 is
#: turned about 39 degrees and is avoided). Enrol them from t1 with these indexes, or match
#: enrolled faces to these centres, which do not depend on the detector's order.
T1_FACES = (
    T1Face(index=0, bbox=(751, 346, 95, 126)),
    T1Face(index=1, bbox=(462, 266, 114, 151)),
)

#: The stranger's face box in scikit-image's 512x512 ``data.astronaut()``.
ASTRONAUT_FACE = (178, 63, 90, 114)

#: Number of cells in the frame-number stamp, and the side of one cell in pixels.
STAMP_BITS = 16
STAMP_CELL = 8


class Appearance(NamedTuple):
    """When portrait ``index`` (position in ``people``) is on screen, in seconds."""

    index: int
    start_s: float
    end_s: float


@dataclass(frozen=True)
class VideoInfo:
    """What was written, so tests can predict what a reader should see and when."""

    path: Path
    fps: int
    frames: int
    size: tuple[int, int]
    """``(width, height)``."""
    appearances: list[Appearance]

    @property
    def seconds(self) -> float:
        """The video's duration."""
        return self.frames / self.fps


def ffmpeg_path() -> str | None:
    """Debian's ffmpeg binary, or None when it is not installed."""
    return shutil.which("ffmpeg")


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {name} package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _crop_face(
    image: np.ndarray, bbox: tuple[int, int, int, int], face_width: int, margin: float
) -> np.ndarray:
    x, y, w, h = bbox
    cx, cy = x + w / 2, y + h / 2
    half_w, half_h = w * margin / 2, h * margin / 2
    top, bottom = max(0, round(cy - half_h)), min(image.shape[0], round(cy + half_h))
    left, right = max(0, round(cx - half_w)), min(image.shape[1], round(cx + half_w))
    crop = image[top:bottom, left:right]
    scale = face_width / w
    return cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)


def face_crops(face_width: int = 120, margin: float = 1.7) -> list[np.ndarray]:
    """Three BGR portraits: t1 faces ``T1_FACES[0]``, ``T1_FACES[1]``, then the astronaut.

    Each is cropped ``margin`` times the face box around its centre and scaled so the face
    is ``face_width`` pixels wide (t1's faces are about 100 pixels wide in the original).
    """
    t1_path = _package_dir("insightface") / "data" / "images" / "t1.jpg"
    t1 = cv2.imread(str(t1_path))
    if t1 is None:
        raise RuntimeError(f"cannot read {t1_path}")
    from skimage import data

    astronaut = np.ascontiguousarray(data.astronaut()[:, :, ::-1])
    crops = [_crop_face(t1, face.bbox, face_width, margin) for face in T1_FACES]
    crops.append(_crop_face(astronaut, ASTRONAUT_FACE, face_width, margin))
    return crops


def textured_background(size: tuple[int, int], seed: int = 0) -> np.ndarray:
    """A static wall-and-door scene with low-frequency colour noise and fine grain."""
    width, height = size
    rng = np.random.default_rng(seed)
    low = rng.uniform(60, 190, size=(6, 8, 3)).astype(np.float32)
    image = cv2.resize(low, (width, height), interpolation=cv2.INTER_CUBIC)
    image += rng.normal(0, 9, size=(height, width, 3)).astype(np.float32)
    tile = max(16, width // 16)
    image[::tile, :, :] *= 0.7
    image[:, ::tile, :] *= 0.7
    door = (int(width * 0.38), int(height * 0.08), int(width * 0.62), height)
    image[door[1] : door[3], door[0] : door[2]] = image[door[1] : door[3], door[0] : door[2]] * 0.5
    image[door[1] : door[3], door[0] : door[2], 2] += 40
    return np.clip(image, 0, 255).astype(np.uint8)


def _stamp(frame: np.ndarray, number: int) -> None:
    cell = STAMP_CELL
    frame[0 : cell + 4, 0 : STAMP_BITS * cell + 4] = 127
    for bit in range(STAMP_BITS):
        value = 255 if (number >> (STAMP_BITS - 1 - bit)) & 1 else 0
        frame[2 : 2 + cell, 2 + bit * cell : 2 + (bit + 1) * cell] = value


def _soft_mask(height: int, width: int) -> np.ndarray:
    """An elliptical alpha mask with a feathered edge, so a portrait is not a pasted box."""
    mask = np.zeros((height, width), np.float32)
    centre = (width // 2, height // 2)
    axes = (max(1, int(width * 0.47)), max(1, int(height * 0.47)))
    cv2.ellipse(mask, centre, axes, 0, 0, 360, 1.0, -1)
    blur = max(3, (min(height, width) // 12) | 1)
    return cv2.GaussianBlur(mask, (blur, blur), 0)[:, :, None]


def default_windows(count: int, seconds: float) -> list[tuple[float, float]]:
    """Equal, back-to-back windows between 1 s and 1 s before the end, one per person.

    For three people in 20 s: 1-7, 7-13 and 13-19 s.
    """
    if count == 0:
        return []
    start, end = min(1.0, seconds / 10), max(seconds - 1.0, seconds * 0.9)
    step = (end - start) / count
    return [(start + i * step, start + (i + 1) * step) for i in range(count)]


def _paste(frame: np.ndarray, portrait: np.ndarray, mask: np.ndarray, x: int, y: int) -> None:
    height, width = frame.shape[:2]
    ph, pw = portrait.shape[:2]
    left, top = max(0, x), max(0, y)
    right, bottom = min(width, x + pw), min(height, y + ph)
    if left >= right or top >= bottom:
        return
    src = portrait[top - y : bottom - y, left - x : right - x].astype(np.float32)
    alpha = mask[top - y : bottom - y, left - x : right - x]
    region = frame[top:bottom, left:right].astype(np.float32)
    frame[top:bottom, left:right] = (src * alpha + region * (1 - alpha)).astype(np.uint8)


def render_scene(
    *,
    seconds: float,
    fps: int,
    size: tuple[int, int],
    people: list[np.ndarray],
    windows: list[tuple[float, float]],
    person_height: int | None,
    stamp: bool,
    seed: int,
) -> Iterator[np.ndarray]:
    """The frames of the scene, one by one (see ``make_test_video``)."""
    width, height = size
    frames = max(1, round(seconds * fps))
    target_height = person_height or round(height * 0.55)
    sprites = []
    for portrait in people:
        scale = target_height / portrait.shape[0]
        sprite = cv2.resize(portrait, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        sprites.append((sprite, _soft_mask(*sprite.shape[:2])))
    background = textured_background(size, seed)
    for number in range(frames):
        t = number / fps
        frame = background.copy()
        for index, ((sprite, mask), (start, end)) in enumerate(zip(sprites, windows, strict=True)):
            if not start <= t < end:
                continue
            progress = (t - start) / (end - start)
            ph, pw = sprite.shape[:2]
            x = round(-pw / 2 + progress * width)
            bob = 6 * math.sin(2 * math.pi * progress * 3)
            y = round(height * (0.45 + 0.05 * (index % 3 - 1)) - ph / 2 + bob)
            _paste(frame, sprite, mask, x, y)
        if stamp:
            _stamp(frame, number)
        yield frame


def make_test_video(
    path: Path,
    *,
    seconds: float = 20,
    fps: int = 10,
    size: tuple[int, int] = (640, 360),
    people: list[np.ndarray] | None = None,
    windows: list[tuple[float, float]] | None = None,
    person_height: int | None = None,
    stamp: bool = True,
    seed: int = 0,
    encoder: str = "ffmpeg",
) -> VideoInfo:
    """Write an MP4 in which each portrait of ``people`` crosses the frame left to right.

    ``windows`` gives each person's ``(start_s, end_s)`` on screen (they may overlap);
    by default ``default_windows``. Portraits are scaled to ``person_height`` pixels tall
    (default 55 % of the frame height) and enter and leave half off-screen, so a face is
    whole for about three quarters of its window.

    ``encoder="ffmpeg"`` writes H.264 with Debian's ffmpeg (raises ``RuntimeError`` without
    it), which RTSP can carry; ``"opencv"`` writes MPEG-4 Part 2 with OpenCV alone, which
    a file camera reads but RTSP cannot packetise (the demo uses it when ffmpeg is absent).
    """
    people = list(people or [])
    windows = list(windows) if windows is not None else default_windows(len(people), seconds)
    if len(windows) != len(people):
        raise ValueError("windows must have one (start_s, end_s) per person")
    width, height = size
    if width % 2 or height % 2:
        raise ValueError("width and height must be even for yuv420p")
    frames = render_scene(
        seconds=seconds,
        fps=fps,
        size=size,
        people=people,
        windows=windows,
        person_height=person_height,
        stamp=stamp,
        seed=seed,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    if encoder == "opencv":
        count = _write_with_opencv(path, frames, fps, size)
    elif encoder == "ffmpeg":
        count = _write_with_ffmpeg(path, frames, fps, size)
    else:
        raise ValueError(f"unknown encoder {encoder!r}")
    appearances = [Appearance(i, start, end) for i, (start, end) in enumerate(windows)]
    return VideoInfo(path=path, fps=fps, frames=count, size=size, appearances=appearances)


def _write_with_opencv(
    path: Path, frames: Iterable[np.ndarray], fps: int, size: tuple[int, int]
) -> int:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path}")
    count = 0
    try:
        for frame in frames:
            writer.write(frame)
            count += 1
    finally:
        writer.release()
    return count


def _write_with_ffmpeg(
    path: Path, frames: Iterable[np.ndarray], fps: int, size: tuple[int, int]
) -> int:
    executable = ffmpeg_path()
    if executable is None:
        raise RuntimeError("ffmpeg is not installed (apt-get install ffmpeg)")
    width, height = size
    command = [
        executable,
        *("-hide_banner", "-loglevel", "error", "-y"),
        *("-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{width}x{height}", "-r", str(fps)),
        *("-i", "-", "-an", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", str(fps)),
        *("-preset", "veryfast", "-tune", "zerolatency", "-movflags", "+faststart"),
        str(path),
    ]
    process = subprocess.Popen(  # noqa: S603 - fixed argument list, no shell
        command, stdin=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdin is not None
    count = 0
    try:
        for frame in frames:
            process.stdin.write(frame.tobytes())
            count += 1
    except BrokenPipeError:
        pass
    finally:
        with contextlib.suppress(BrokenPipeError):
            process.stdin.close()
        error = process.stderr.read().decode(errors="replace") if process.stderr else ""
        returncode = process.wait()
    if returncode != 0:
        raise RuntimeError(f"ffmpeg failed ({returncode}): {error.strip()}")
    return count
