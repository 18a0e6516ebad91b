"""A camera host's own ``/metrics`` (``run_cameras --metrics-bind``, config.metrics_server):
the same guards as the web's, its process's series, and nothing else served."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from cameras.models import Camera
from config.loopback import LOOPBACK, free_port
from config.metrics_server import serve_metrics
from config.testing import child_database_url, wait_until

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "scrape-token-for-tests-0123456789"


def get(port: int, path: str = "/metrics", method: str = "GET", token: str | None = TOKEN):
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=10)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        conn.request(method, path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


@pytest.fixture
def listener(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = []
    port = free_port()
    server = serve_metrics(f"{LOOPBACK}:{port}")
    try:
        yield port
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.django_db
def test_it_serves_the_process_series_behind_the_same_guards(listener):
    Camera.objects.create(name="Door", source_url="rtsp://10.0.0.5/live")
    status, body = get(listener)
    assert status == 200
    assert "presence_camera_workers" in body
    # The database's series (camera_online, ...) are the main host's to give, once.
    assert "presence_camera_online" not in body and "metrics_collector_up" not in body
    assert get(listener, token=None)[0] == 401
    assert get(listener, token="wrong")[0] == 401


def test_nothing_else_is_served(listener):
    assert get(listener, "/admin/")[0] == 404
    assert get(listener, "/api/v1/health/live")[0] == 404
    assert get(listener, method="POST")[0] == 405


@pytest.mark.django_db(transaction=True)
def test_run_cameras_answers_scrapes_and_stops_its_listener_with_it():
    port = free_port()
    connection.close()
    env = {
        **os.environ,
        "DATABASE_URL": child_database_url(),
        "DEBUG": "0",
        "METRICS_TOKEN": TOKEN,
        "METRICS_ALLOWED_NETWORKS": "127.0.0.0/8",
    }
    command = [sys.executable, "manage.py", "run_cameras", "--poll-seconds", "0.5"]
    process = subprocess.Popen(
        [*command, "--metrics-bind", f"{LOOPBACK}:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        status, body = wait_until(
            lambda: _scrape_or_none(port), timeout=60, message="run_cameras' /metrics"
        )
        assert status == 200 and "presence_camera_workers" in body
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
        with pytest.raises(OSError):
            get(port)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)


def _scrape_or_none(port: int) -> tuple[int, str] | None:
    try:
        return get(port)
    except OSError:
        return None


def test_a_bad_bind_is_refused_before_the_supervisor_starts():
    result = subprocess.run(
        [sys.executable, "manage.py", "run_cameras", "--metrics-bind", "nonsense"],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "0"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "--metrics-bind 'nonsense'" in result.stderr and "Supervisor" not in result.stdout
