"""A real RTSP camera on loopback: serve an H.264 MP4 with GStreamer's RTSP server, looped.

Tests must meet a real RTSP stack (DESCRIBE/SETUP/PLAY over TCP, RTP packetisation,
keyframes, a server that vanishes), and ffmpeg cannot serve RTSP clients, so this script
uses GStreamer's RTSP server. Its Python bindings belong to Debian's interpreter, so run it
with ``/usr/bin/python3``, not from the venv (``cameras.testing.servers.RtspServer`` does):

    /usr/bin/python3 cameras/testing/rtsp_server.py --file X.mp4 --port N [--mount /cam]
        [--user NAME]   (basic authentication; the password comes from $RTSP_SERVER_PASSWORD)

It prints ``READY rtsp://127.0.0.1:N/cam`` once it listens, and exits when its stdin
closes (the test process that started it is gone), on SIGTERM or SIGINT.

Why not ``filesrc ! qtdemux ! h264parse ! rtph264pay``: that pipeline ends with the file,
and a camera that stops after 20 s is no camera. Looping that pipeline is awkward: the RTSP
media owns its bus (EOS) and its seeking, and an MP4 cannot be concatenated by
``multifilesrc loop=true``. Instead the file's H.264 access units are read into memory once
(a test clip is a few megabytes) and an ``appsrc`` feeds them in a loop with timestamps that
keep increasing, as a live camera's do. The source is live, so the sink paces them at the
file's frame rate and a client joining late starts at the current frame (the clip has a
keyframe every second, with SPS/PPS in front of each).

Only the standard library and GStreamer are imported: this runs outside the venv.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def load_access_units(path: str) -> tuple[list[tuple[bytes, bool]], Gst.Caps, int, int]:
    """Demux ``path`` into Annex B access units: ``(units, caps, fps_num, fps_den)``.

    Each unit is ``(bytes, is_keyframe)``; ``h264parse config-interval=-1`` puts SPS and PPS
    in front of every keyframe so a client can start at any of them.
    """
    pipeline = Gst.parse_launch(
        "filesrc name=src ! qtdemux ! h264parse config-interval=-1 ! "
        "video/x-h264,stream-format=byte-stream,alignment=au ! appsink name=sink sync=false"
    )
    pipeline.get_by_name("src").set_property("location", path)
    sink = pipeline.get_by_name("sink")
    pipeline.set_state(Gst.State.PLAYING)
    units: list[tuple[bytes, bool]] = []
    caps = None
    while True:
        sample = sink.emit("pull-sample")
        if sample is None:
            break
        caps = sample.get_caps()
        buffer = sample.get_buffer()
        keyframe = not buffer.has_flags(Gst.BufferFlags.DELTA_UNIT)
        units.append((buffer.extract_dup(0, buffer.get_size()), keyframe))
    bus_error = pipeline.get_bus().pop_filtered(Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    if bus_error is not None or not units or caps is None:
        detail = bus_error.parse_error()[0].message if bus_error is not None else "no video"
        raise SystemExit(f"cannot read H.264 from {path}: {detail}")
    structure = caps.get_structure(0)
    ok, num, den = structure.get_fraction("framerate")
    if not ok or num <= 0:
        num, den = 10, 1
    while units and not units[0][1]:
        units.pop(0)
    return units, caps, num, den


class LoopingFactory(GstRtspServer.RTSPMediaFactory):
    """One shared live media per server, fed with the file's access units forever."""

    def __init__(self, units: list[tuple[bytes, bool]], caps: Gst.Caps, num: int, den: int):
        super().__init__()
        self.units = units
        self.caps = caps
        self.duration = Gst.util_uint64_scale_int(Gst.SECOND, den, num)
        self.set_shared(True)
        self.set_launch(
            "( appsrc name=src is-live=true format=time do-timestamp=false "
            "! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )"
        )
        self.connect("media-configure", self.on_media_configure)

    def on_media_configure(
        self, _factory: GstRtspServer.RTSPMediaFactory, media: GstRtspServer.RTSPMedia
    ) -> None:
        appsrc = media.get_element().get_child_by_name("src")
        appsrc.set_property("caps", self.caps)
        state = {"count": 0}
        appsrc.connect("need-data", self.on_need_data, state)

    def on_need_data(self, appsrc: Gst.Element, _length: int, state: dict[str, int]) -> None:
        count = state["count"]
        data, keyframe = self.units[count % len(self.units)]
        buffer = Gst.Buffer.new_wrapped(data)
        buffer.pts = buffer.dts = count * self.duration
        buffer.duration = self.duration
        if not keyframe:
            buffer.set_flags(Gst.BufferFlags.DELTA_UNIT)
        state["count"] = count + 1
        appsrc.emit("push-buffer", buffer)


def require_basic_auth(
    server: GstRtspServer.RTSPServer,
    factory: GstRtspServer.RTSPMediaFactory,
    user: str,
    password: str,
) -> None:
    """Only ``user`` with ``password`` may see the media; others get 401, as from a camera."""
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string("media.factory.role", "viewer")
    auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
    server.set_auth(auth)
    permissions = GstRtspServer.RTSPPermissions()
    permissions.add_permission_for_role("viewer", "media.factory.access", True)
    permissions.add_permission_for_role("viewer", "media.factory.construct", True)
    factory.set_permissions(permissions)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", required=True, help="H.264 MP4 to serve")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mount", default="/cam")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--user", help="require basic auth; password in $RTSP_SERVER_PASSWORD")
    args = parser.parse_args(argv)

    Gst.init(None)
    units, caps, num, den = load_access_units(args.file)
    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))
    factory = LoopingFactory(units, caps, num, den)
    if args.user is not None:
        require_basic_auth(server, factory, args.user, os.environ.get("RTSP_SERVER_PASSWORD", ""))
    server.get_mount_points().add_factory(args.mount, factory)
    if server.attach(None) == 0:
        print(f"cannot listen on {args.host}:{args.port}", file=sys.stderr, flush=True)
        return 1

    loop = GLib.MainLoop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, loop.quit)
    print(f"READY rtsp://{args.host}:{args.port}{args.mount}", flush=True)
    threading.Thread(target=_exit_with_parent, args=(loop,), daemon=True).start()
    loop.run()
    return 0


def _exit_with_parent(loop: GLib.MainLoop) -> None:
    """Quit when stdin closes: the test process that started us is gone, crashed or not."""
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except OSError:
        pass
    loop.quit()


if __name__ == "__main__":
    sys.exit(main())
