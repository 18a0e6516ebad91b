"""PostgreSQL restarted under a running web server and camera supervisor (issue 7, "Faults").

A throwaway cluster on a free port holds the data; ``daphne`` and ``manage.py run_cameras``
run against it as in production. PostgreSQL is stopped (``pg_ctl stop -m fast`` cuts every
connection) and started again: the web answers 503 meanwhile, the supervisor keeps
running, and both work again without a restart, with no detection written twice.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from config.testing import LOOPBACK, PostgresCluster, free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
ASGI_APP = "config.asgi:application"
PASSWORD = "a-long-test-password-1"
SEED = """
from accounts.models import User
from cameras.models import Camera
User.objects.create_user("admin@example.com", {password!r}, role="admin", full_name="Admin")
Camera.objects.create(name="Door", source_url="file://{video}", analysis_fps=5)
"""


def http(method: str, url: str, body: dict | None = None, token: str | None = None):
    """(status, JSON body) of one request; a refused connection is (None, None)."""
    data = json.dumps(body).encode() if body else None
    request = urllib.request.Request(url, method=method, data=data)  # noqa: S310 - loopback
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
    except OSError:
        return None, None


def query(url: str, sql: str, *params: object) -> list[tuple]:
    with psycopg.connect(url, connect_timeout=5) as conn:
        return conn.execute(sql, params).fetchall()


def test_web_and_supervisor_recover_from_a_postgres_restart(scene_video, tmp_path):
    with PostgresCluster() as cluster:
        query_url = cluster.url()
        with psycopg.connect(query_url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE presence_faults")
        db_url = cluster.url("presence_faults")
        env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
        env.update(
            DATABASE_URL=db_url,
            DEBUG="0",
            EMBEDDED_CAMERAS="0",
            EMBEDDED_SCHEDULER="0",
            CAMERA_FILE_ROOT=str(scene_video.path.parent),
            MEDIA_ROOT=str(tmp_path / "media"),
            DB_POOL_TIMEOUT="3",
            PYTHONUNBUFFERED="1",
        )
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
        seed = SEED.format(password=PASSWORD, video=scene_video.path)
        subprocess.run([*manage, "shell", "-c", seed], cwd=ROOT, env=env, check=True, timeout=60)

        port = free_port()
        base = f"http://{LOOPBACK}:{port}/api/v1"
        web_log, supervisor_log = tmp_path / "web.log", tmp_path / "supervisor.log"
        web = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", LOOPBACK, "-p", str(port), ASGI_APP],
            cwd=ROOT, env=env, stdout=web_log.open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        supervisor = subprocess.Popen(
            [*manage, "run_cameras", "--poll-seconds", "0.5", "--lease-seconds", "10"],
            cwd=ROOT, env=env, stdout=supervisor_log.open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            db = f"{query_url.rsplit('/', 1)[0]}/presence_faults"
            wait_until(lambda: http("GET", f"{base}/health/ready")[0] == 200, 30, message="web")
            wait_until(
                lambda: query(db, "SELECT count(*) FROM detections_detection")[0][0] > 0,
                40,
                message="a detection before the outage",
            )

            cluster.stop()

            status, body = http("GET", f"{base}/health/ready")
            assert status == 503, body
            assert body["checks"]["database"]["ok"] is False
            wait_until(
                lambda: "Heartbeat of camera" in supervisor_log.read_text(),
                20,
                message="the supervisor to notice the outage",
            )
            assert supervisor.poll() is None, supervisor_log.read_text()[-3000:]
            assert web.poll() is None, web_log.read_text()[-3000:]

            cluster.start()
            restarted = datetime.now(UTC)

            wait_until(
                lambda: http("GET", f"{base}/health/ready")[0] == 200, 30, message="ready again"
            )
            status, body = http(
                "POST", f"{base}/auth/login", {"email": "admin@example.com", "password": PASSWORD}
            )
            assert status == 200, body
            status, cameras = http("GET", f"{base}/cameras", token=body["access"])
            assert status == 200, cameras
            wait_until(
                lambda: query(db, "SELECT heartbeat_at FROM cameras_camera")[0][0] > restarted,
                30,
                message="supervisor heartbeats after the restart",
            )
            wait_until(
                lambda: query(
                    db,
                    "SELECT count(*) FROM detections_detection WHERE captured_at > %s",
                    restarted,
                )[0][0],
                40,
                message="detections recorded after the restart",
            )
            assert supervisor.poll() is None and web.poll() is None
            twice = query(
                db,
                "SELECT a.id, b.id FROM detections_detection a JOIN detections_detection b "
                "ON a.camera_id = b.camera_id AND a.id < b.id AND (a.track_id = b.track_id "
                "OR (a.captured_at = b.captured_at AND a.bbox = b.bbox))",
            )
            assert twice == [], "a detection was written twice"
        finally:
            for process in (supervisor, web):
                process.terminate()
            for process in (supervisor, web):
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
