"""Camera URLs may only reach the networks of ``CAMERA_ALLOWED_NETWORKS`` (no SSRF).

Refused hosts are tried in every form (literal, integer, IPv4-mapped IPv6, a name that
resolves to loopback) through the API, the admin, the probe and the supervisor. Where a
refused address is a real listening socket, the test also checks that nothing connected
to it: a refusal must happen before any connection, or the probe is a port scanner.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from django.test import Client

from cameras.addresses import (
    DEFAULT_ALLOWED_NETWORKS,
    AddressRefused,
    check_url_address,
    literal_address,
)
from cameras.models import Camera, CameraStatus
from cameras.testing.supervisor import RunningSupervisor

REFUSED_URLS = [
    "rtsp://127.0.0.1:6379/",
    "http://127.0.0.1:5432/",
    "http://169.254.169.254/latest/meta-data/",
    "rtsp://[::1]/cam",
    "rtsp://0.0.0.0/cam",
    "rtsp://[::]/cam",
    "rtsp://224.0.0.1/cam",
    "http://localhost:8000/admin/",
    "http://2130706433/",
    "http://0x7f.1/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://8.8.8.8/",
]
ALLOWED_URLS = [
    "rtsp://10.1.2.3:554/stream1",
    "rtsp://172.16.0.9/live",
    "http://192.168.1.64/video.mjpg",
    "rtsp://[fd00::64]/live",
    "http://[::ffff:192.168.1.64]/video.mjpg",
]


@pytest.fixture(autouse=True)
def production_networks(settings) -> None:
    """The default rule, not the loopback-friendly one of the other camera tests."""
    settings.CAMERA_ALLOWED_NETWORKS = list(DEFAULT_ALLOWED_NETWORKS)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A real TCP port on loopback, to prove that a refused camera never connected."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        sock.setblocking(False)
        yield sock


def connections_to(sock: socket.socket) -> int:
    count = 0
    while True:
        try:
            conn, _ = sock.accept()
        except BlockingIOError:
            return count
        conn.close()
        count += 1


def port_of(sock: socket.socket) -> int:
    return sock.getsockname()[1]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_refused_addresses(url):
    with pytest.raises(AddressRefused, match="CAMERA_ALLOWED_NETWORKS"):
        check_url_address(url, DEFAULT_ALLOWED_NETWORKS)


@pytest.mark.parametrize("url", ALLOWED_URLS)
def test_allowed_addresses(url):
    check_url_address(url, DEFAULT_ALLOWED_NETWORKS)


def test_integer_host_forms_are_read_as_the_resolver_reads_them():
    for host in ("2130706433", "0x7f.1", "0177.0.0.1", "127.1", "0x7f000001"):
        assert str(literal_address(host)) == "127.0.0.1"
    assert literal_address("cam-7.local") is None


def test_listing_a_network_allows_it():
    check_url_address("rtsp://127.0.0.1:8554/cam", ["127.0.0.0/8"])
    with pytest.raises(AddressRefused):
        check_url_address("rtsp://10.0.0.1/cam", ["127.0.0.0/8"])


def test_a_name_is_checked_on_every_address_it_resolves_to():
    with pytest.raises(AddressRefused, match=r"localhost resolves to (127\.0\.0\.1|::1)"):
        check_url_address("rtsp://localhost/cam", DEFAULT_ALLOWED_NETWORKS)


def test_files_and_devices_are_not_network_sources():
    check_url_address("file:///srv/videos/door.mp4", DEFAULT_ALLOWED_NETWORKS)
    check_url_address("0", DEFAULT_ALLOWED_NETWORKS)


def test_a_malformed_setting_fails_the_system_check(settings):
    from cameras.apps import check_allowed_networks

    settings.CAMERA_ALLOWED_NETWORKS = ["10.0.0.0/8", "10.0.0/33"]
    errors = check_allowed_networks()
    assert [e.id for e in errors] == ["cameras.E001"]
    assert "10.0.0/33" in errors[0].msg


# --- the API ---------------------------------------------------------------------------


def assert_address_refused(response) -> None:
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "camera_address_not_allowed"
    assert "CAMERA_ALLOWED_NETWORKS" in error["message"]
    assert "CAMERA_ALLOWED_NETWORKS" in error["details"]["source_url"][0]


@pytest.mark.django_db
@pytest.mark.parametrize("url", REFUSED_URLS)
def test_api_create_refuses(api, url):
    response = api["operator"].post(
        "/api/v1/cameras", {"name": "internal", "source_url": url}, format="json"
    )
    assert_address_refused(response)
    assert not Camera.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["rtsp://127.0.0.1:6379/", "http://[::1]/", "http://2130706433/"])
def test_api_update_refuses(api, url):
    camera = Camera.objects.create(name="Door", source_url="rtsp://10.0.0.5/live")
    response = api["admin"].patch(
        f"/api/v1/cameras/{camera.pk}", {"source_url": url}, format="json"
    )
    assert_address_refused(response)
    camera.refresh_from_db()
    assert camera.source_url == "rtsp://10.0.0.5/live"


@pytest.mark.django_db
@pytest.mark.parametrize("url", ALLOWED_URLS)
def test_api_accepts_private_addresses(api, url):
    response = api["operator"].post(
        "/api/v1/cameras", {"name": "lan", "source_url": url}, format="json"
    )
    assert response.status_code == 201, response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["127.0.0.1", "2130706433", "localhost", "[::ffff:127.0.0.1]"])
def test_api_probe_of_a_stored_camera_refuses_without_connecting(api, listener, host):
    """The port-scanner case: a camera stored before the rule (with the ORM) points at a
    real local service. The probe answers 422 and nothing connects to that port."""
    url = f"http://{host}:{port_of(listener)}/"
    camera = Camera.objects.create(name="Stored", source_url=url)
    response = api["operator"].post(f"/api/v1/cameras/{camera.pk}/test")
    assert_address_refused(response)
    assert connections_to(listener) == 0


@pytest.mark.django_db
def test_api_probe_of_a_host_that_does_not_resolve_says_so(api):
    camera = Camera.objects.create(name="Gone", source_url="rtsp://camera.invalid/live")
    response = api["operator"].post(f"/api/v1/cameras/{camera.pk}/test")
    assert response.status_code == 200
    assert response.json()["ok"] is False
    assert "not found" in response.json()["error"]


@pytest.mark.django_db
def test_the_probe_itself_checks_right_before_opening(listener):
    """Not only the view: the probe's guard refuses too, for a name that resolves to a
    refused address only by the time the probe runs."""
    from cameras.services import connect_guard
    from cameras.streams.probe import probe_source

    url = f"http://127.0.0.1:{port_of(listener)}/"
    result = probe_source(url, timeout=5, label="stored", guard=connect_guard(url))
    assert not result.ok
    assert "CAMERA_ALLOWED_NETWORKS" in result.error
    assert connections_to(listener) == 0


# --- the admin -------------------------------------------------------------------------


def admin_browser(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def admin_form(url: str, **extra) -> dict:
    return {
        "name": "Via admin",
        "source_url": url,
        "username": "",
        "password": "",
        "location": "",
        "direction": "both",
        "enabled": "on",
        "analysis_fps": "2",
        "detection_width": "640",
        "min_face_size": "60",
        "roi": "null",
        **extra,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    ["rtsp://127.0.0.1:6379/", "http://169.254.169.254/", "http://localhost/", "http://0x7f.1/"],
)
def test_admin_form_refuses(admin_user, url):
    response = admin_browser(admin_user).post("/admin/cameras/camera/add/", admin_form(url))
    assert response.status_code == 200  # the form again, with the error on the field
    errors = response.context["adminform"].form.errors
    assert "CAMERA_ALLOWED_NETWORKS" in errors["source_url"][0]
    assert not Camera.objects.exists()


@pytest.mark.django_db
def test_admin_form_accepts_a_private_address(admin_user):
    response = admin_browser(admin_user).post(
        "/admin/cameras/camera/add/", admin_form("rtsp://192.168.1.64/live")
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Camera.objects.get().source_url == "rtsp://192.168.1.64/live"


@pytest.mark.django_db
def test_admin_probe_action_refuses_without_connecting(admin_user, listener):
    camera = Camera.objects.create(
        name="Stored", source_url=f"rtsp://127.0.0.1:{port_of(listener)}/cam"
    )
    response = admin_browser(admin_user).post(
        "/admin/cameras/camera/",
        {"action": "test_sources", "_selected_action": [camera.pk]},
        follow=True,
    )
    messages = [str(m) for m in response.context["messages"]]
    assert any("CAMERA_ALLOWED_NETWORKS" in m for m in messages), messages
    assert connections_to(listener) == 0


# --- the supervisor --------------------------------------------------------------------


class NullHandler:
    def __init__(self, camera) -> None:
        pass

    def process(self, image, captured_at, detail=None) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.mark.django_db(transaction=True)
def test_supervisor_refuses_a_stored_camera_and_marks_it_in_error(listener):
    camera = Camera.objects.create(
        name="Stored", source_url=f"http://127.0.0.1:{port_of(listener)}/video.mjpg"
    )
    with RunningSupervisor(handler_factory=NullHandler):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            camera.refresh_from_db()
            if camera.status == CameraStatus.ERROR:
                break
            time.sleep(0.2)
    assert camera.status == CameraStatus.ERROR
    assert "CAMERA_ALLOWED_NETWORKS" in camera.last_error
    assert connections_to(listener) == 0


def test_an_http_camera_cannot_redirect_ffmpeg_past_the_address_policy(listener):
    """FFmpeg follows HTTP redirects by default: a camera (or whoever answers for its
    allowed address) could send the decoder to a refused one. The decoder's command
    follows none, so the redirect's target sees no connection."""
    import http.server
    import subprocess
    import threading

    from cameras.streams.ffmpeg import ffmpeg_command
    from config.loopback import free_port

    target = f"http://127.0.0.1:{port_of(listener)}/video.mjpg"

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", target)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        command = ffmpeg_command(f"http://127.0.0.1:{server.server_port}/", io_timeout=3)
        result = subprocess.run(command, capture_output=True, timeout=30, check=False)
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode != 0 and result.stdout == b""
    assert connections_to(listener) == 0
