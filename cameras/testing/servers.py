"""Stand-in cameras on loopback for tests: RTSP, MJPEG over HTTP, and a host that never answers.

The stream layer is tested against real servers (architecture: "real servers wherever the
production code would meet one"), and its faults are produced the way they happen in the
field: killing the RTSP server process is a camera losing power, starting it again on the
same port is the camera coming back, freezing it (SIGSTOP) is a camera that hangs with its
connections open, and ``SilentTcpServer`` is a host that accepts and never speaks.

Every helper is a context manager and also cleans up at interpreter exit, so a failing test
leaves no child process or listening socket behind. The RTSP server runs under Debian's
``/usr/bin/python3`` because the GStreamer bindings belong to it, not to the venv; a missing
dependency is reported by ``rtsp_unavailable_reason()`` so that tests fail with a clear
message instead of skipping.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import select
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from config.testing import LOOPBACK, free_port, stop_at_exit

#: Debian's interpreter, which owns the GStreamer bindings (python3-gi).
SYSTEM_PYTHON = "/usr/bin/python3"
RTSP_SERVER_SCRIPT = Path(__file__).with_name("rtsp_server.py")
START_TIMEOUT_S = 15.0

_GST_CHECK = """
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer
Gst.init(None)
missing = [name for name in ("qtdemux", "h264parse", "rtph264pay", "appsrc", "appsink")
           if Gst.ElementFactory.find(name) is None]
if missing:
    raise SystemExit("missing GStreamer elements: " + ", ".join(missing))
"""


def wait_for_port(port: int, timeout: float, host: str = LOOPBACK) -> bool:
    """Whether ``host:port`` accepts a TCP connection within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return True
        time.sleep(0.05)
    return False


@functools.cache
def rtsp_unavailable_reason() -> str | None:
    """Why the RTSP test server cannot run here, or None when it can."""
    if shutil.which("ffmpeg") is None:
        return "ffmpeg is not installed (apt-get install ffmpeg)"
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return f"{SYSTEM_PYTHON} is missing (Debian's python3 runs the RTSP server)"
    result = subprocess.run(  # noqa: S603 - fixed interpreter and script
        [SYSTEM_PYTHON, "-c", _GST_CHECK], capture_output=True, text=True, timeout=60
    )
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
        return (
            f"GStreamer's RTSP server is not usable from {SYSTEM_PYTHON} ({detail}); install "
            "gir1.2-gst-rtsp-server-1.0 python3-gi gstreamer1.0-plugins-good "
            "gstreamer1.0-plugins-bad gstreamer1.0-plugins-base gstreamer1.0-libav"
        )
    return None


def rtsp_available() -> bool:
    """Whether ffmpeg and GStreamer's RTSP server (under /usr/bin/python3) are installed."""
    return rtsp_unavailable_reason() is None


class RtspServer:
    """GStreamer's RTSP server in a child process, serving ``file`` in a loop.

    ``stop()`` kills it (SIGKILL: a camera losing power), ``restart()`` starts it again on
    the same port, ``freeze()``/``thaw()`` stop and continue it (a hung camera that keeps
    its connections open). With ``username`` the server demands basic authentication.
    """

    def __init__(
        self,
        file: Path | str,
        port: int | None = None,
        *,
        mount: str = "/cam",
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.file = Path(file)
        self.port = port or free_port()
        self.mount = mount
        self.username = username
        self.password = password
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The stream URL, without credentials."""
        return f"rtsp://{LOOPBACK}:{self.port}{self.mount}"

    def start(self) -> RtspServer:
        reason = rtsp_unavailable_reason()
        if reason is not None:
            raise RuntimeError(reason)
        if self.process is not None:
            raise RuntimeError("the RTSP server is already running")
        command = [
            SYSTEM_PYTHON,
            str(RTSP_SERVER_SCRIPT),
            *("--file", str(self.file), "--port", str(self.port), "--mount", self.mount),
        ]
        env = dict(os.environ)
        if self.username is not None:
            command += ["--user", self.username]
            env["RTSP_SERVER_PASSWORD"] = self.password or ""
        # stdin stays open as a lifeline: the server exits when this process dies.
        self.process = subprocess.Popen(  # noqa: S603 - fixed interpreter and script
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        stop_at_exit(self)
        deadline = time.monotonic() + START_TIMEOUT_S
        line = _read_line(self.process, deadline)
        if not line.startswith("READY") or not wait_for_port(
            self.port, deadline - time.monotonic()
        ):
            output = self._kill()
            raise RuntimeError(f"the RTSP server did not start: {line.strip()} {output}".strip())
        return self

    def stop(self) -> None:
        """Kill the server at once, like pulling a camera's power."""
        self._kill()

    def restart(self) -> RtspServer:
        self.stop()
        return self.start()

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def _kill(self) -> str:
        process, self.process = self.process, None
        if process is None:
            return ""
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGCONT)
            process.kill()
        process.wait(timeout=10)
        output = ""
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is None:
                continue
            with contextlib.suppress(OSError, ValueError):
                if stream is process.stderr:
                    output = stream.read().decode(errors="replace").strip()
                stream.close()
        return output

    def __enter__(self) -> RtspServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _read_line(process: subprocess.Popen[bytes], deadline: float) -> str:
    """One line of the child's stdout, or "" when it says nothing before ``deadline``."""
    assert process.stdout is not None
    buffer = b""
    fd = process.stdout.fileno()
    while b"\n" not in buffer:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buffer += chunk
    return buffer.decode(errors="replace").partition("\n")[0]


class MjpegServer:
    """An HTTP camera: ``/video.mjpg`` streams ``multipart/x-mixed-replace`` JPEG parts at
    ``fps``, looping over the frames; ``/snapshot.jpg`` answers one JPEG per request.

    ``source`` is a list of BGR images or a video file (decoded once, up to ``max_frames``).
    """

    boundary = "presenceframe"

    def __init__(
        self,
        source: Iterable[np.ndarray] | Path | str,
        port: int | None = None,
        *,
        fps: float = 10.0,
        max_frames: int = 200,
    ) -> None:
        if isinstance(source, str | Path):
            images = _decode_video(Path(source), max_frames)
        else:
            images = list(source)
        if not images:
            raise ValueError("MjpegServer needs at least one frame")
        self.jpegs = [_jpeg(image) for image in images]
        self.fps = fps
        self.port = port or free_port()
        self._httpd: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/video.mjpg"

    @property
    def snapshot_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/snapshot.jpg"

    def start(self) -> MjpegServer:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.startswith("/snapshot.jpg"):
                    server._snapshot(self)
                elif self.path.startswith("/video.mjpg"):
                    server._stream(self)
                else:
                    self.send_error(404)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._stopping.clear()
        self._httpd = http.server.ThreadingHTTPServer((LOOPBACK, self.port), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        stop_at_exit(self)
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        self._stopping.set()
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def _snapshot(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        index = int(time.monotonic() * self.fps) % len(self.jpegs)
        data = self.jpegs[index]
        handler.send_response(200)
        handler.send_header("Content-Type", "image/jpeg")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _stream(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={self.boundary}")
        handler.send_header("Cache-Control", "no-cache")
        handler.end_headers()
        started, count = time.monotonic(), 0
        try:
            while not self._stopping.is_set():
                data = self.jpegs[count % len(self.jpegs)]
                handler.wfile.write(
                    f"--{self.boundary}\r\nContent-Type: image/jpeg\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n".encode()
                    + data
                    + b"\r\n"
                )
                handler.wfile.flush()
                count += 1
                delay = started + count / self.fps - time.monotonic()
                if delay > 0 and self._stopping.wait(delay):
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass

    def __enter__(self) -> MjpegServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _jpeg(image: np.ndarray) -> bytes:
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise ValueError("cannot encode a frame as JPEG")
    return buffer.tobytes()


def _decode_video(path: Path, max_frames: int) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    frames = []
    try:
        while len(frames) < max_frames:
            ok, image = capture.read()
            if not ok:
                break
            frames.append(image)
    finally:
        capture.release()
    return frames


class SilentTcpServer:
    """Accepts TCP connections on loopback and never sends a byte: a host that hangs.

    ``url(scheme)`` gives a URL pointing at it (``rtsp`` by default).
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or 0
        self._sock: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._thread: threading.Thread | None = None

    def url(self, scheme: str = "rtsp", path: str = "/cam") -> str:
        return f"{scheme}://{LOOPBACK}:{self.port}{path}"

    def start(self) -> SilentTcpServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((LOOPBACK, self.port))
        sock.listen(32)
        self.port = sock.getsockname()[1]
        self._sock = sock
        self._thread = threading.Thread(target=self._accept, args=(sock,), daemon=True)
        self._thread.start()
        stop_at_exit(self)
        return self

    def _accept(self, sock: socket.socket) -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            self._conns.append(conn)

    @property
    def connections(self) -> int:
        """How many connections were accepted so far."""
        return len(self._conns)

    def stop(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> SilentTcpServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
