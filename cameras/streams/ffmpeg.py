"""A capture backed by one ``ffmpeg`` process per camera, writing raw BGR frames to a pipe.

OpenCV's FFmpeg backend opens captures one at a time under a global lock (24 opens of a
1280x720 RTSP stream took 35 s, see design/test-streams.md), decodes under the reader's
thread, and a read stuck in C code can only be abandoned, never ended. A decoder process
per camera opens in parallel, decodes outside the server's GIL, and a stuck one is killed.

How it works. ``ffmpeg -nostdin -loglevel info -i SOURCE ... -f rawvideo -pix_fmt bgr24
pipe:1`` decodes the first video stream; RTSP goes over TCP with FFmpeg's own I/O
``-timeout``, HTTP with ``-rw_timeout`` and without following redirects
(``-max_redirects 0``: a camera on an allowed network could otherwise send FFmpeg to any
address, past ``CAMERA_ALLOWED_NETWORKS``). The frame size and rate are learnt from FFmpeg's
own description of its *output* stream on stderr (the ``Output #0`` header, printed once the
first frame went through the filters, so the size is the scaled one), not from ffprobe: a
second connection would double every open (and a camera's connection limit) for facts the
decoder prints anyway. ``-loglevel info`` stays on for the life of the process (a process
cannot change it), which costs nothing after the header: FFmpeg prints little more than
warnings, and every line is masked, logged at debug and kept for the error message.

``read()`` waits with ``select`` for each chunk of a frame, so a source that goes silent
ends a read after ``read_timeout`` (the reader then reconnects and this process is killed),
whatever FFmpeg does. Files are not paced here (no ``-re``): the reader paces them itself
when ``realtime_files``, and FFmpeg blocks on the full pipe meanwhile; a rewind
(``set(CAP_PROP_POS_FRAMES, 0)``) starts a fresh process. Frames are scaled in the decoder
when ``scale_width`` is given (never up, even height, aspect kept), and thinned to at most
``fps`` frames a second when that is given, before the scaler: every frame must still be
decoded (H.264 frames refer to each other), but only the kept ones are scaled, converted to
BGR and sent through the pipe, which is most of the cost of a large frame. A stream is
thinned with ``select`` (keep a frame once ``0.9 / fps`` s have passed since the last kept
one), which only drops: FFmpeg's ``fps`` filter would also *repeat* frames, for a camera
slower than ``fps`` and for every gap after a network hiccup, all at once. A file is thinned
with the ``fps`` filter, whose exact rate the reader needs to pace it in real time.
``keyframes_only`` decodes key frames alone (``-skip_frame nokey``): a stream read only for
snapshots then costs a fraction of a full decode.

Credentials: the target (with its credentials) is only on FFmpeg's command line, which
stays inside this host; everything FFmpeg says is masked with ``mask_url`` and by removing
the target's own secret values (FFmpeg may print them decoded or in pieces) before it
reaches a log or ``error``.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import re
import select
import shutil
import subprocess
import threading
import time
from collections import deque
from typing import IO
from urllib.parse import quote, unquote

import cv2
import numpy as np

from cameras.sources import mask_url, split_credentials, split_query_secrets

logger = logging.getLogger("cameras.streams.ffmpeg")

#: How long ``release()`` waits after SIGTERM before SIGKILL, and after SIGKILL.
TERMINATE_WAIT_S = 0.5
#: How many of FFmpeg's last stderr lines are kept for an error message.
KEPT_LINES = 5
BYTES_PER_PIXEL = 3

_OUTPUT_HEADER = re.compile(r"^Output #0\b")
_OUTPUT_VIDEO = re.compile(r"^\s*Stream #0:\d+.*: Video: rawvideo\b")
_SIZE = re.compile(r", (\d{1,5})x(\d{1,5})[\s,]")
_FPS = re.compile(r", (\d+(?:\.\d+)?) fps\b")
#: Lines that describe the streams rather than say something went wrong.
_INFO_LINE = re.compile(
    r"^(\s|Input #|Output #|Stream mapping|Press \[q\]|frame=|video:|Exiting normally"
    r"|\[.*\] (Opening|Skipping))"
)


def ffmpeg_executable() -> str | None:
    """The ``ffmpeg`` binary on ``PATH``, or None when it is not installed."""
    return shutil.which("ffmpeg")


def ffmpeg_command(
    target: str,
    *,
    io_timeout: float,
    scale_width: int | None = None,
    fps: float | None = None,
    keyframes_only: bool = False,
    executable: str = "ffmpeg",
) -> list[str]:
    """The command line that decodes ``target``'s first video stream to raw BGR on stdout."""
    microseconds = str(max(1, round(io_timeout * 1_000_000)))
    scheme = target.partition("://")[0].lower() if "://" in target else ""
    # FFmpeg probes 5 s of a stream by default before it decodes anything (2.6 s to the
    # first frame of the loopback RTSP camera, OpenCV takes 1.5 s); one second of probing
    # finds an H.264 or MJPEG camera's size and rate as well (1.0 s to the first frame).
    source_options = ["-analyzeduration", "1000000", "-probesize", "1000000"]
    if scheme in ("rtsp", "rtsps"):
        source_options += ["-rtsp_transport", "tcp", "-timeout", microseconds]
    elif scheme in ("http", "https"):
        # No redirects: the address policy checked this URL's host, not a Location's.
        source_options += ["-rw_timeout", microseconds, "-max_redirects", "0"]
    if keyframes_only:
        source_options += ["-skip_frame", "nokey"]
    chain = []
    if fps and not scheme:
        chain.append(f"fps={fps:g}")
    elif fps:
        chain.append(f"select='isnan(prev_selected_t)+gte(t-prev_selected_t\\,{0.9 / fps:.4g})'")
    if scale_width:
        chain.append(f"scale='min({scale_width},iw)':-2")
    filters = ["-vf", ",".join(chain)] if chain else []
    return [
        executable,
        *("-hide_banner", "-nostdin", "-nostats", "-loglevel", "info"),
        *source_options,
        *("-i", target),
        *("-map", "0:v:0", "-an", "-sn", "-dn"),
        *filters,
        # Each decoded (and kept) frame once: the rawvideo muxer would otherwise keep a
        # constant rate by repeating frames, undoing the thinning above.
        *("-fps_mode", "vfr"),
        *("-f", "rawvideo", "-pix_fmt", "bgr24", "pipe:1"),
    ]


def target_secrets(target: str) -> list[str]:
    """The secret values in ``target`` (password, secret query values), in every spelling
    FFmpeg might print them: as typed, percent-decoded and percent-encoded."""
    values: list[str] = []
    _, _, password = split_credentials(target)
    if password:
        values.append(password)
    _, pairs = split_query_secrets(target)
    values += [value for _, value in pairs if value]
    spelled = {form for value in values for form in (value, unquote(value), quote(value, safe=""))}
    return sorted((value for value in spelled if value), key=len, reverse=True)


class SecretMasker:
    """Masks URL credentials and the target's own secret values in FFmpeg's messages."""

    def __init__(self, target: str) -> None:
        self._secrets = target_secrets(target)

    def __call__(self, text: str) -> str:
        """``text`` with nothing in it that could reveal the target's credentials."""
        masked = mask_url(text)
        for secret in self._secrets:
            masked = masked.replace(secret, "***")
        return masked


class _StderrDrain(threading.Thread):
    """Reads FFmpeg's stderr to its end: learns the output stream, keeps the last lines.

    The pipe must be drained or FFmpeg blocks on a full stderr; the thread ends when the
    process closes it (it exits or is killed), so none is left behind.
    """

    def __init__(self, stream: IO[bytes] | None, mask: SecretMasker, label: str) -> None:
        super().__init__(name=f"ffmpeg-stderr {label}", daemon=True)
        self._stream = stream
        self._mask = mask
        self._label = label
        self.header = threading.Event()
        self.width = self.height = 0
        self.fps = 0.0
        self.lines: deque[str] = deque(maxlen=KEPT_LINES)
        self._in_output = False
        # Made in the reader's thread: its log context (the camera) carries over.
        self._context = contextvars.copy_context()

    def run(self) -> None:
        """Consume lines until EOF, in the log context of the thread that started it."""
        self._context.run(self._consume)

    def _consume(self) -> None:
        """Read to EOF; the header event is set then at the latest."""
        try:
            if self._stream is None:
                return
            for raw in iter(self._stream.readline, b""):
                self._line(self._mask(raw.decode("utf-8", "replace").rstrip()))
        except (OSError, ValueError):
            pass
        finally:
            self.header.set()

    def _line(self, line: str) -> None:
        if not line:
            return
        logger.debug("camera %s: ffmpeg: %s", self._label, line)
        if _OUTPUT_HEADER.match(line):
            self._in_output = True
        elif self._in_output and not self.header.is_set() and _OUTPUT_VIDEO.match(line):
            size, fps = _SIZE.search(line), _FPS.search(line)
            if size:
                self.width, self.height = int(size[1]), int(size[2])
            self.fps = float(fps[1]) if fps else 0.0
            self.header.set()
        if not _INFO_LINE.match(line):
            self.lines.append(line)

    @property
    def last_error(self) -> str | None:
        """FFmpeg's last complaint (masked), if it made any."""
        return self.lines[-1] if self.lines else None


class FfmpegCapture:
    """The reader's ``Capture`` protocol over an ``ffmpeg`` process (see the module doc).

    The constructor opens: it starts the process and waits up to ``open_timeout`` for the
    first frame's description; ``isOpened()`` says whether that came. ``error`` is FFmpeg's
    last complaint, masked, for the reader's message.
    """

    def __init__(
        self,
        target: str,
        *,
        open_timeout: float,
        read_timeout: float,
        scale_width: int | None = None,
        fps: float | None = None,
        keyframes_only: bool = False,
        label: str | None = None,
        executable: str | None = None,
    ) -> None:
        self._target = target
        self._mask = SecretMasker(target)
        self._label = self._mask(label or target)
        self.open_timeout = open_timeout
        self.read_timeout = read_timeout
        self.scale_width = scale_width
        self.fps = fps
        self.keyframes_only = keyframes_only
        self._executable = executable or ffmpeg_executable() or "ffmpeg"
        self._process: subprocess.Popen[bytes] | None = None
        self._drain: _StderrDrain | None = None
        self._opened = False
        self._start()

    # -- the Capture protocol ----------------------------------------------------------------

    def isOpened(self) -> bool:
        """Whether the decoder described its first frame within the open timeout."""
        return self._opened

    def read(self) -> tuple[bool, np.ndarray | None]:
        """The next frame, or ``(False, None)`` at the end, on death or after a silence of
        ``read_timeout`` seconds between chunks of a frame."""
        process, drain = self._process, self._drain
        if not self._opened or process is None or drain is None or process.stdout is None:
            return False, None
        size = drain.width * drain.height * BYTES_PER_PIXEL
        buffer = bytearray(size)
        view = memoryview(buffer)
        filled = 0
        fd = process.stdout.fileno()
        while filled < size:
            ready, _, _ = select.select([fd], [], [], self.read_timeout)
            if not ready:
                return False, None
            count = os.readv(fd, [view[filled:]])
            if count == 0:
                return False, None
            filled += count
        image = np.frombuffer(buffer, np.uint8).reshape(drain.height, drain.width, 3)
        return True, image

    def get(self, prop: int) -> float:
        """Frame width, height and rate as FFmpeg reported its output; 0 for anything else."""
        drain = self._drain
        if drain is None:
            return 0.0
        values = {
            cv2.CAP_PROP_FRAME_WIDTH: float(drain.width),
            cv2.CAP_PROP_FRAME_HEIGHT: float(drain.height),
            cv2.CAP_PROP_FPS: min(drain.fps, self.fps) if self.fps and drain.fps else drain.fps,
        }
        return values.get(prop, 0.0)

    def set(self, prop: int, value: float) -> bool:
        """Only a rewind to the first frame is supported: it starts a fresh decoder."""
        if prop != cv2.CAP_PROP_POS_FRAMES or value != 0:
            return False
        self.release()
        self._start()
        return self._opened

    def release(self) -> None:
        """End the decoder: SIGTERM, then SIGKILL, always reaped; pipes closed."""
        process, self._process = self._process, None
        self._opened = False
        if process is None:
            return
        if process.stdout is not None:  # first, so a decoder blocked on the pipe ends at once
            with contextlib.suppress(OSError):
                process.stdout.close()
        stop_process(process)
        if process.stderr is not None:
            with contextlib.suppress(OSError):
                process.stderr.close()
        if self._drain is not None:
            self._drain.join(TERMINATE_WAIT_S)

    # -- extras for the reader -----------------------------------------------------------------

    @property
    def error(self) -> str | None:
        """FFmpeg's last complaint, masked, or None."""
        return self._drain.last_error if self._drain is not None else None

    @property
    def pid(self) -> int | None:
        """The decoder's process id while it runs (tests count processes)."""
        return self._process.pid if self._process is not None else None

    def _start(self) -> None:
        command = ffmpeg_command(
            self._target,
            io_timeout=self.read_timeout,
            scale_width=self.scale_width,
            fps=self.fps,
            keyframes_only=self.keyframes_only,
            executable=self._executable,
        )
        try:
            process = subprocess.Popen(  # noqa: S603 - a fixed binary; the URL is one argument
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                bufsize=0,
            )
        except OSError as error:
            raise RuntimeError(f"cannot start ffmpeg: {error.strerror or error}") from None
        self._process = process
        self._drain = _StderrDrain(process.stderr, self._mask, self._label)
        self._drain.start()
        deadline = time.monotonic() + self.open_timeout
        while not self._drain.header.wait(0.05):
            if time.monotonic() >= deadline:
                break
        self._opened = (
            self._drain.width > 0 and self._drain.height > 0 and process.poll() in (None, 0)
        )
        if not self._opened:
            stop_process(process)
            self._drain.join(TERMINATE_WAIT_S)  # its last lines say why


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate ``process``, kill it if it lingers, and reap it (no zombie left)."""
    if process.poll() is None:
        with contextlib.suppress(OSError):
            process.terminate()
        try:
            process.wait(TERMINATE_WAIT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(TERMINATE_WAIT_S)
