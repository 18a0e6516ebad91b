"""The web server as the image runs it: ``manage.py serve`` (daphne children on one
socket, config/launcher.py) started with the Dockerfile's own command.

daphne with ``--proxy-headers`` took the first ``X-Forwarded-For`` hop, which any client
writes, as the client's address, so a throttled client was let in again by sending a new
header each time (issue 7, item 3); and twisted wrote ``429 Unknown Status``. Both are
checked here against a real daphne on a free port.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
from http import HTTPStatus
from pathlib import Path

import pytest
import yaml

from config.http_status import register_status_phrases
from config.launcher import Launcher
from config.testing import LOOPBACK, answers, child_database_url, free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
METRICS_TOKEN = "daphne-metrics-token-0123456789abcdef"


def dockerfile_command() -> list[str]:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    return json.loads(next(line for line in lines if line.startswith("CMD "))[4:])


def compose_web_command() -> list[str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return compose["services"]["web"]["command"]


def test_the_image_and_compose_run_daphne_without_proxy_headers():
    assert dockerfile_command() == compose_web_command()
    for command in (dockerfile_command(), compose_web_command()):
        assert command[:3] == ["python", "manage.py", "serve"], command
        assert not any(arg.startswith("--proxy-headers") for arg in command), command
    with socket.socket() as listener:
        child = Launcher(listener, workers=1).child_command()
    assert child[1:3] == ["-m", "daphne"]
    assert not any(arg.startswith("--proxy-headers") for arg in child), child


def test_twisted_knows_the_reason_phrase_of_429():
    from twisted.web import http as twisted_http

    register_status_phrases()
    assert twisted_http.RESPONSES[429] == b"Too Many Requests"
    assert twisted_http.RESPONSES[422] == HTTPStatus(422).phrase.encode()
    assert register_status_phrases() == []  # once is enough


@pytest.fixture
def daphne(transactional_db, tmp_path):
    """The server with the Dockerfile's arguments, on a free port, on the test database."""
    port = free_port()
    command = dockerfile_command()
    command[command.index("--bind") + 1] = f"{LOOPBACK}:{port}"
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    env.update(
        DATABASE_URL=child_database_url(),
        TRUSTED_PROXY_COUNT="0",
        LOGIN_FAILURE_LIMIT="3",
        LOGIN_ADDRESS_FAILURE_LIMIT="3",
        SECURE_SSL_REDIRECT="0",
        DEBUG="0",
        LOG_FORMAT="json",
        METRICS_TOKEN=METRICS_TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
    )
    log = tmp_path / "daphne.log"
    process = subprocess.Popen(
        [sys.executable, *command[1:]],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(
            lambda: answers(port) or process.poll() is not None, 60, message="daphne to answer"
        )
        assert process.poll() is None, log.read_text()[-3000:]
        yield port
    finally:
        process.terminate()
        process.wait(10)


def get(port: int, path: str, **headers: str) -> tuple[http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=20)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response, body


def test_request_ids_json_logs_and_metrics_under_daphne(daphne, tmp_path):
    response, _ = get(daphne, "/api/v1/no-such-thing", **{"X-Request-ID": "e2e-request-1"})
    assert response.status == 404
    assert response.getheader("X-Request-ID") == "e2e-request-1"
    response, _ = get(daphne, "/api/v1/health/live")
    assert len(response.getheader("X-Request-ID")) == 32

    refused, _ = get(daphne, "/metrics")
    assert refused.status == 401
    response, body = get(daphne, "/metrics", Authorization=f"Bearer {METRICS_TOKEN}")
    assert response.status == 200
    text = body.decode()
    assert 'presence_http_request_duration_seconds_count{method="GET",status="2xx",' in text
    assert 'view="health-live"' in text
    assert any((tmp_path / "metrics").glob("histogram_*.db"))  # multiprocess mode

    lines = [
        json.loads(line)
        for line in (tmp_path / "daphne.log").read_text().splitlines()
        if line.startswith("{")
    ]
    requests = [line for line in lines if line["logger"] == "django.request"]
    (not_found,) = [line for line in requests if "no-such-thing" in line["message"]]
    assert not_found["request_id"] == "e2e-request-1"
    assert all(len(line["request_id"]) >= 13 for line in requests)  # never "-"


def login(port: int, email: str, forwarded: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=20)
    body = json.dumps({"email": email, "password": "wrong-password"})
    conn.request(
        "POST",
        "/api/v1/auth/login",
        body=body,
        headers={"Content-Type": "application/json", "X-Forwarded-For": forwarded},
    )
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def test_a_forged_forwarded_header_does_not_escape_the_address_limit(daphne):
    for i in range(3):
        response = login(daphne, f"guess{i}@example.com", f"6.6.6.{i}")
        assert (response.status, response.reason) == (401, "Unauthorized")
    for i in range(3):
        response = login(daphne, f"more{i}@example.com", f"7.7.7.{i}")
        assert (response.status, response.reason) == (429, "Too Many Requests")
        assert int(response.getheader("Retry-After")) > 0


def test_an_overlong_request_line_or_header_is_answered_not_dropped(daphne):
    """Twisted hung up without a word on lines over 16 KiB (found by fuzzing)."""
    response, body = get(daphne, "/api/v1/detections/live?camera=" + "1," * 10_000)
    assert response.status == 414
    assert json.loads(body)["error"]["code"] == "uri_too_long"
    response, body = get(daphne, "/api/v1/health/live", **{"X-Long": "x" * 20_000})
    assert response.status == 431
    assert json.loads(body)["error"]["code"] == "header_too_large"
    response, _ = get(daphne, "/api/v1/health/live")
    assert response.status == 200
