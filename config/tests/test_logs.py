"""Log lines: JSON format, request and camera ids, and secrets masked in every record."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.logs import (
    ContextFilter,
    MaskSecretsFilter,
    PresenceJsonFormatter,
    bound_camera,
    logging_config,
)

ROOT = Path(__file__).resolve().parents[2]
CAMERA_URL = "rtsp://admin:hunter2@cam.local:554/live?token=s3cr3t-t0ken&channel=1"


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """The root logger also writes to a buffer, through the handler LOG_FORMAT=json builds."""
    config = logging_config("json", "INFO")["handlers"]["console"]
    assert config["formatter"] == "json"
    assert config["filters"] == ["context", "mask_secrets"]
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(PresenceJsonFormatter())
    handler.addFilter(ContextFilter())
    handler.addFilter(MaskSecretsFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)


def parsed(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


@pytest.mark.django_db
def test_each_request_gets_an_id_that_its_log_lines_carry(client, json_lines):
    response = client.get("/api/v1/no-such-endpoint", HTTP_X_REQUEST_ID="req-42.abc")
    assert response.status_code == 404
    assert response["X-Request-ID"] == "req-42.abc"
    (line,) = [r for r in parsed(json_lines) if r["logger"] == "django.request"]
    assert line["request_id"] == "req-42.abc"
    assert line["level"] == "WARNING"
    assert {"time", "message", "camera_id"} <= set(line)


@pytest.mark.django_db
@pytest.mark.parametrize("given", ["", "x" * 129, "a b", "id\nforged: line", "ü", "a;b"])
def test_an_unusable_incoming_id_is_replaced(client, given):
    response = client.get("/api/v1/health/live", HTTP_X_REQUEST_ID=given)
    assert response.status_code == 200
    request_id = response["X-Request-ID"]
    assert request_id != given
    assert len(request_id) == 32
    int(request_id, 16)


@pytest.mark.django_db
def test_ids_differ_between_requests(client):
    first = client.get("/api/v1/health/live")["X-Request-ID"]
    assert client.get("/api/v1/health/live")["X-Request-ID"] != first


def test_records_in_a_camera_context_carry_its_id(json_lines):
    with bound_camera(7):
        logging.getLogger("cameras.streams").warning("camera lost")
    logging.getLogger("cameras.streams").warning("outside")
    inside, outside = parsed(json_lines)
    assert inside["camera_id"] == 7
    assert outside["camera_id"] == "-"


def test_a_url_with_credentials_is_masked_whatever_logs_it(json_lines):
    logging.getLogger("some.library").error("cannot open %s", CAMERA_URL)
    logging.getLogger("other").warning(f"ffmpeg said: {CAMERA_URL}: 401 Unauthorized")
    logging.getLogger("other").info("calling", extra={"url": CAMERA_URL})
    logging.getLogger("http").info("sent Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload")
    try:
        raise ConnectionError(f"connect to {CAMERA_URL} failed")
    except ConnectionError:
        logging.getLogger("task").exception("push failed")
    text = json_lines.getvalue()
    assert "hunter2" not in text
    assert "s3cr3t-t0ken" not in text
    assert "eyJhbGciOiJIUzI1NiJ9" not in text
    lines = parsed(json_lines)
    assert lines[0]["message"] == (
        "cannot open rtsp://admin:***@cam.local:554/live?token=***&channel=1"
    )
    assert lines[2]["url"] == "rtsp://admin:***@cam.local:554/live?token=***&channel=1"
    assert "Bearer ***" in lines[3]["message"]
    assert "ConnectionError: connect to rtsp://admin:***@cam.local" in lines[4]["exc_info"]


def test_the_default_format_is_a_masked_line_for_people():
    """Through the handler settings.LOGGING configured: what production writes."""
    (console,) = [
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, MaskSecretsFilter) for f in handler.filters)
    ]
    buffer = io.StringIO()
    stream = console.setStream(buffer)
    try:
        logging.getLogger("some.library").warning("opening %s", CAMERA_URL)
    finally:
        console.setStream(stream)
    line = buffer.getvalue()
    assert "WARNING some.library [request=- camera=-] opening rtsp://admin:***@cam.local" in line
    assert "hunter2" not in line


def test_log_format_json_makes_every_line_json():
    """A process started with LOG_FORMAT=json, as a container is."""
    code = (
        "import django, logging; django.setup(); "
        f"logging.getLogger('cameras.streams').warning('cannot open %s', {CAMERA_URL!r}); "
        "logging.getLogger('django.request').error('boom')"
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "k" * 20 + "-json-log-test-key-0123456789abcdefghij",
        "LOG_FORMAT": "json",
        "PRESENCE_VAR_DIR": "/tmp/presence-test-var",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert [line["logger"] for line in lines] == ["cameras.streams", "django.request"]
    assert lines[0]["message"].startswith("cannot open rtsp://admin:***@")
    assert "hunter2" not in result.stderr
    assert all(line["request_id"] == "-" for line in lines)


def test_an_unknown_log_format_is_refused():
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logging_config("xml", "INFO")
