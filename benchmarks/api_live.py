"""Latency of the endpoints the frontend polls, under 50 users, against daphne and PostgreSQL.

The frontend polls ``GET /detections/live`` every 4 s (ceiling 200 ms) and ``GET /cameras``
every 6.5 s (ceiling 300 ms) on every open screen (see api.md); our goal is p95 <= 20 ms
each with 50 users and 1M detections in the table. A test client in process would leave
out what users actually wait for (daphne, the ASGI handler's per-request thread and the
connections it opens, the network stack, real PostgreSQL and Redis), so this runs the
production shape: daphne as a subprocess, PostgreSQL and Redis on loopback, and an asyncio
keep-alive client (``benchmarks/loadgen.py``) in this process. It also counts the
PostgreSQL and Redis connections the server opens per scenario, and EXPLAIN ANALYZEs the
history endpoint's SQL (``--explain`` prints the plans).

Setup (reused across runs): a ``presence_bench`` database, migrated; 20 cameras; 300
people; ``--rows`` detections inserted server-side with one ``INSERT ... SELECT FROM
generate_series`` per chunk, as the pipeline would have left them (camera, person for the
recognised ones, bbox, quality, a 512-byte embedding, image paths), over the last 30 days;
the live cache filled with the 50 newest, serialized as the recorder does. While the load
runs a thread keeps a few detections "seen now", as cameras would, so the live window
(10 s) is never empty.

Scenarios, each reported per endpoint:

- baseline: one client, one request at a time: the service time without queueing.
- frontend: ``--clients`` users polling on the frontend's timers with random phases; each
  also opens the detection history (``/detections?page_size=50``, with its count, and the
  ``?cursor=`` variant) every ``--history-interval`` s. This is the goal's scenario.
- saturation: ``--clients`` connections in a closed loop (no think time) on one endpoint at
  a time: throughput and the headroom above the frontend's load. The client, daphne,
  PostgreSQL and Redis share the machine's cores, so these latencies are mostly queueing.

Run from the repository root (PostgreSQL and Redis must be up)::

    .venv/bin/python benchmarks/api_live.py [--rows 1000000] [--duration 60] [--clients 50]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

    from accounts.models import User

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.loadgen import Client, Connection, Samples, closed_loop  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/presence_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
BENCH_SECRET_KEY = "presence-benchmark-only-secret-key-0123456789-abcdefghijklmnop"  # noqa: S105
HOST = "127.0.0.1"

LIVE = "/api/v1/detections/live"
CAMERAS = "/api/v1/cameras"
HISTORY = "/api/v1/detections?page_size=50"
HISTORY_CURSOR = "/api/v1/detections?cursor=&page_size=50"
ENDPOINTS = [LIVE, CAMERAS, HISTORY, HISTORY_CURSOR]
HEALTH = "/api/v1/health/live"  # no auth, no database: the floor of daphne + Django
LIVE_INTERVAL_S = 4.0
CAMERAS_INTERVAL_S = 6.5
GOAL_P95_MS = 20.0
CEILINGS_MS = {LIVE: 200.0, CAMERAS: 300.0}

CAMERA_COUNT = 20
PEOPLE_COUNT = 300
LIVE_CACHED = 50
LIVE_REFRESHES_PER_SECOND = 3.0
INSERT_CHUNK = 200_000
BENCH_USER_EMAIL = "bench-live@example.com"


# --- Environment and setup ---------------------------------------------------------------
def bench_env(database_url: str, redis_url: str) -> dict[str, str]:
    """The environment of both this process and daphne: production engines, nothing
    embedded, tokens valid for the whole run."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY=BENCH_SECRET_KEY,
        DEBUG="0",
        EMBEDDED_SCHEDULER="0",
        EMBEDDED_CAMERAS="0",
        JWT_ACCESS_MINUTES="120",
        LOG_LEVEL="WARNING",
        PRESENCE_SERVER="1",
        PYTHONUNBUFFERED="1",
    )
    return env


def raw_connection(database_url: str, dbname: str | None = None) -> psycopg.Connection:
    """A plain autocommit psycopg connection, outside Django, to ``dbname`` (default: the
    URL's database)."""
    import dj_database_url
    import psycopg

    params = dj_database_url.parse(database_url)
    return psycopg.connect(
        host=params["HOST"] or HOST,
        port=int(params["PORT"] or 5432),
        user=params["USER"] or "postgres",
        password=params["PASSWORD"] or None,
        dbname=dbname or params["NAME"],
        autocommit=True,
    )


def ensure_database(database_url: str) -> str:
    """Create the benchmark database if missing; its name."""
    import dj_database_url
    from psycopg import sql

    params = dj_database_url.parse(database_url)
    name = params["NAME"]
    if "bench" not in name:
        raise SystemExit(
            f"Refusing to use database {name!r}: this benchmark may truncate the detections "
            "table, so the database name must contain 'bench'."
        )
    with raw_connection(database_url, "postgres") as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")
    return name


def setup_django(env: dict[str, str]) -> None:
    """Configure Django for the bench database and migrate it."""
    os.environ.update(env)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def ensure_cameras() -> None:
    """Twenty door cameras in a mix of states, a few with credentials; refreshed each run
    so the online ones look alive."""
    from django.utils import timezone

    from cameras.models import Camera, CameraStatus, Direction

    now = timezone.now()
    directions = [Direction.ENTRY, Direction.EXIT, Direction.BOTH]
    for index in range(CAMERA_COUNT):
        camera, _ = Camera.objects.get_or_create(
            name=f"Bench door {index + 1:02d}",
            defaults={
                "source_url": f"rtsp://10.20.0.{index + 10}:554/stream1",
                "location": f"Building {'AB'[index % 2]}, floor {index // 4}",
                "direction": directions[index % 3],
                "username": "viewer" if index % 3 == 0 else "",
                "password": f"cam-secret-{index}" if index % 3 == 0 else "",
            },
        )
        if index < 14:
            state = {
                "status": CameraStatus.ONLINE,
                "last_frame_at": now - timedelta(milliseconds=200 * index),
                "fps": 2.0,
                "width": 1920,
                "height": 1080,
                "last_error": "",
                "enabled": True,
            }
        elif index < 17:
            state = {
                "status": CameraStatus.OFFLINE,
                "last_frame_at": now - timedelta(hours=index),
                "fps": None,
                "last_error": "",
                "enabled": True,
            }
        elif index < 19:
            state = {
                "status": CameraStatus.ERROR,
                "last_frame_at": now - timedelta(minutes=5 * index),
                "fps": None,
                "last_error": "Connection refused while opening rtsp://10.20.0.9:554/stream1",
                "enabled": True,
            }
        else:
            state = {"status": CameraStatus.DISABLED, "enabled": False, "fps": None}
        Camera.objects.filter(pk=camera.pk).update(heartbeat_at=now, **state)


def ensure_people() -> None:
    """People for the detections to name (created once)."""
    from django.utils import timezone

    from faces.models import Person

    Person.objects.bulk_create(
        [
            Person(
                employee_code=f"BENCH-{index:04d}",
                full_name=f"Bench Person {index:04d}",
                email=f"person{index}@example.com",
                consent_at=timezone.now(),
            )
            for index in range(PEOPLE_COUNT)
        ],
        ignore_conflicts=True,
    )


def ensure_user() -> User:
    """The operator the simulated clients sign in as."""
    from accounts.models import User
    from accounts.roles import Role

    user, _ = User.objects.get_or_create(
        email=BENCH_USER_EMAIL, defaults={"full_name": "Bench Operator", "role": Role.OPERATOR}
    )
    return user


# One chunk of detections: row g of n is (n - g) * 30 days / n old, so ids and time agree as
# in the live system; 70 % recognised (with a person), 12 % uncertain, 18 % unknown.
INSERT_DETECTIONS = """
WITH cams AS (
    SELECT array_agg(id ORDER BY id) AS ids, array_agg(name ORDER BY id) AS names,
           count(*)::int AS n
    FROM cameras_camera WHERE name LIKE 'Bench door %%'
), ppl AS (
    SELECT array_agg(id ORDER BY id) AS ids, count(*)::int AS n
    FROM faces_person WHERE employee_code LIKE 'BENCH-%%'
)
INSERT INTO detections_detection (
    camera_id, camera_name, person_id, status, score, margin, votes, track_id, bbox,
    quality, captured_at, last_seen_at, updated_at, model_key, face_crop, frame, embedding
)
SELECT
    cams.ids[1 + g %% cams.n], cams.names[1 + g %% cams.n],
    CASE WHEN g %% 100 < 70 THEN ppl.ids[1 + (g::bigint * 7919) %% ppl.n] END,
    CASE WHEN g %% 100 < 70 THEN 'recognized' WHEN g %% 100 < 82 THEN 'uncertain'
         ELSE 'unknown' END,
    CASE WHEN g %% 100 < 70 THEN 0.5 + (g %% 37) / 100.0 WHEN g %% 100 < 82 THEN 0.42
         ELSE 0.1 + (g %% 29) / 100.0 END,
    (g %% 23) / 100.0,
    2 + g %% 9,
    't' || g,
    jsonb_build_array(100 + g %% 500, 60 + g %% 300, 110 + g %% 60, 140 + g %% 70),
    jsonb_build_object(
        'face_width', 110 + g %% 60, 'face_height', 140 + g %% 70,
        'inter_eye_px', 42 + g %% 30, 'det_score', 0.9, 'blur', 60 + g %% 200,
        'yaw_deg', (g %% 61) - 30, 'weight', 0.8
    ),
    t.at, t.at + (g %% 20) * interval '1 second', t.at + (g %% 20) * interval '1 second',
    %(model_key)s,
    'detections/' || cams.ids[1 + g %% cams.n] || '/' || to_char(t.at, 'YYYY/MM/DD') || '/'
        || md5(g::text) || '-face.jpg',
    'detections/' || cams.ids[1 + g %% cams.n] || '/' || to_char(t.at, 'YYYY/MM/DD') || '/'
        || md5((-g)::text) || '-frame.jpg',
    decode(repeat(md5(g::text), 32), 'hex')
FROM generate_series(%(first)s::int, %(last)s::int) AS g
CROSS JOIN cams CROSS JOIN ppl
CROSS JOIN LATERAL (
    SELECT %(t0)s::timestamptz - (%(n)s::int - g) * (interval '30 days' / %(n)s::int) AS at
) AS t
"""


def ensure_detections(rows: int) -> tuple[int, bool]:
    """Make the table hold exactly ``rows`` detections; (rows, whether they were inserted)."""
    from django.db import connection
    from django.utils import timezone

    from faces.engine.sface import MODEL_KEY

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM detections_detection")
        present = cursor.fetchone()[0]
        if present == rows:
            cursor.execute("ANALYZE detections_detection")
            return rows, False
        print(f"detections: {present:,} rows, want {rows:,}: truncating and inserting")
        cursor.execute("TRUNCATE detections_detection RESTART IDENTITY CASCADE")
        t0 = timezone.now()
        started = time.perf_counter()
        for first in range(1, rows + 1, INSERT_CHUNK):
            last = min(first + INSERT_CHUNK - 1, rows)
            cursor.execute(
                INSERT_DETECTIONS,
                {"first": first, "last": last, "n": rows, "t0": t0, "model_key": MODEL_KEY},
            )
            print(f"  inserted {last:,} rows ({time.perf_counter() - started:.0f} s)")
        cursor.execute("VACUUM (ANALYZE) detections_detection")
        print(f"  vacuumed and analysed ({time.perf_counter() - started:.0f} s)")
    return rows, True


def fill_live_cache() -> list[dict]:
    """The 50 newest detections, serialized and remembered as the recorder does: ten
    seen within the last 10 s, the rest over the last 10 minutes."""
    from django.core.cache import cache
    from django.utils import timezone

    from detections import live_cache
    from detections.api.serializers import DetectionSerializer
    from detections.models import Detection

    cache.delete_many([live_cache._key(pk) for pk in ensure_camera_ids()])
    newest = list(
        Detection.objects.select_related("person").order_by("-captured_at", "-id")[:LIVE_CACHED]
    )
    now = timezone.now()
    for index, detection in enumerate(newest):
        seen = now - (timedelta(seconds=index) if index < 10 else timedelta(seconds=12 * index))
        detection.last_seen_at = seen
        detection.captured_at = min(detection.captured_at, seen - timedelta(seconds=3))
    Detection.objects.bulk_update(newest, ["last_seen_at", "captured_at"])
    entries = [DetectionSerializer(detection).data for detection in reversed(newest)]
    for entry in entries:
        live_cache.remember(entry["camera"]["id"], entry)
    return entries


def ensure_camera_ids() -> list[int]:
    """The ids of the cameras the detections belong to."""
    from cameras.models import Camera

    return list(Camera.objects.values_list("id", flat=True))


class LiveRefresher(threading.Thread):
    """Keeps the live feed moving while the load runs, as camera supervisors would: a few
    times a second one cached detection is seen again and re-remembered."""

    def __init__(self, entries: list[dict]) -> None:
        super().__init__(name="live-refresher", daemon=True)
        self.entries = entries
        self.stopping = threading.Event()
        self.writes = 0

    def run(self) -> None:
        """Re-remember a random cached detection a few times a second until stopped."""
        from detections import live_cache

        rng = random.Random(7)
        while not self.stopping.wait(1.0 / LIVE_REFRESHES_PER_SECOND):
            entry = rng.choice(self.entries)
            entry["last_seen_at"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
            live_cache.remember(entry["camera"]["id"], entry)
            self.writes += 1


class ConnectionMonitor(threading.Thread):
    """Samples how many PostgreSQL connections the benchmark database has, twice a second,
    so that a server leaking or churning connections shows in the report."""

    def __init__(self, database_url: str) -> None:
        super().__init__(name="pg-monitor", daemon=True)
        self.database_url = database_url
        self.stopping = threading.Event()
        self.peak = 0

    def take_peak(self) -> int:
        """The peak since the last call (this monitor's own connection not counted)."""
        peak, self.peak = self.peak, 0
        return peak

    def run(self) -> None:
        """Sample the database's session count twice a second, keeping the peak."""
        with raw_connection(self.database_url) as connection:
            while not self.stopping.wait(0.5):
                row = connection.execute(
                    "SELECT count(*) - 1 FROM pg_stat_activity WHERE datname = current_database()"
                ).fetchone()
                self.peak = max(self.peak, row[0])


# --- The SQL behind the history endpoint ------------------------------------------------
def explain_history(token: str, show_plans: bool) -> list[str]:
    """Run both history requests in process, EXPLAIN ANALYZE every query they sent to the
    detections table, and compare count(*) with the planner's estimate."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    lines = []
    for path in (HISTORY, HISTORY_CURSOR):
        client.get(path)  # warm
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        assert response.status_code == 200, response.content[:300]
        for query in captured.captured_queries:
            sql = query["sql"]
            if "detections_detection" not in sql or not sql.lstrip().upper().startswith("SELECT"):
                continue
            with connection.cursor() as cursor:
                for _ in range(2):  # the second run, with warm buffers, is reported
                    cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                    plan = [row[0] for row in cursor.fetchall()]
            took = next(
                (line.split(":", 1)[1].strip() for line in plan if "Execution Time" in line), "?"
            )
            kind = "count" if re.search(r"COUNT\(\*\)", sql, re.IGNORECASE) else "page"
            lines.append(f"`GET {path}`, {kind} query: {took} ({plan[0].split('  (')[0].strip()})")
            if show_plans:
                lines.append("")
                lines.append("    " + sql)
                lines.extend("    " + line for line in plan)
                lines.append("")
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = 'detections_detection'::regclass"
        )
        estimate = cursor.fetchone()[0]
        took = (time.perf_counter() - started) * 1000
    lines.append(
        f"planner's row estimate (`pg_class.reltuples`): {estimate:,} in {took:.2f} ms "
        "(round trip included)"
    )
    return lines


# --- daphne ------------------------------------------------------------------------------
def free_port() -> int:
    """A port for daphne that nothing listens on."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def daphne_executable() -> Path:
    """daphne of the venv running this script (the repository's own, or a shared one)."""
    own = REPO_ROOT / ".venv" / "bin" / "daphne"
    return own if own.exists() else Path(sys.executable).parent / "daphne"


@contextlib.contextmanager
def daphne(env: dict[str, str], asgi_app: str) -> Iterator[int]:
    """daphne serving ``asgi_app`` on a free port, stopped on the way out whatever happens."""
    with daphne_process(env, asgi_app) as (port, _process):
        yield port


@contextlib.contextmanager
def daphne_process(
    env: dict[str, str], asgi_app: str, workers: int | None = None
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """``daphne``, also yielding the server process (to read its memory); with
    ``workers``, ``manage.py serve`` (that many daphne children on one socket, serving
    ``config.asgi:application``), yielding the launcher."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="api_live-daphne-", suffix=".log", delete=False)  # noqa: SIM115
    if workers is None:
        command = [str(daphne_executable()), "--bind", HOST, "--port", str(port), asgi_app]
    else:
        command = [sys.executable, "manage.py", "serve", "--workers", str(workers)]
        command += ["--bind", f"{HOST}:{port}"]
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"daphne exited with {process.returncode}:\n{_tail(log.name)}")
            try:
                url = f"http://{HOST}:{port}/api/v1/health/live"
                with urllib.request.urlopen(url, timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"daphne did not answer in 60 s:\n{_tail(log.name)}")
            time.sleep(0.2)
        yield port, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        text = Path(log.name).read_text(errors="replace")
        if match := re.search(r"^.*(Traceback|ERROR|CRITICAL)", text, re.MULTILINE):
            first = "\n".join(text[match.start() :].splitlines()[:40])
            print(f"\ndaphne's log ({log.name}) has errors; the first:\n{first}")
        else:
            os.unlink(log.name)


def _tail(path: str, lines: int = 30) -> str:
    return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])


# --- Scenarios ---------------------------------------------------------------------------
async def sanity_check(port: int, headers: dict[str, str]) -> list[str]:
    """One answer per endpoint, checked, so that the figures describe real work."""
    connection = Connection(HOST, port, headers)
    notes = []
    try:
        for path in ENDPOINTS:
            response = await connection.request(path)
            if response.status != 200:
                raise RuntimeError(f"GET {path}: HTTP {response.status}: {response.body[:300]!r}")
            data = json.loads(response.body)
            size = f"{len(response.body) / 1024:.1f} KiB"
            if path == LIVE or "cursor" in path:
                notes.append(f"`{path}`: {len(data['results'])} detections, {size}")
            else:
                notes.append(
                    f"`{path}`: count {data['count']:,}, {len(data['results'])} results, {size}"
                )
                if path == CAMERAS and len(data["results"]) < CAMERA_COUNT:
                    raise RuntimeError(f"GET {path} shows {len(data['results'])} cameras")
    finally:
        await connection.close()
    return notes


async def baseline(port: int, headers: dict[str, str], requests: int) -> dict[str, Samples]:
    """Sequential requests on one connection: the latency without contention."""
    results = {}
    connection = Connection(HOST, port, headers)
    try:
        for path in [HEALTH, *ENDPOINTS]:
            for _ in range(10):  # warm-up, not recorded
                await connection.request(path)
            samples = Samples()
            started = time.perf_counter()
            for _ in range(requests):
                await samples.timed(connection.request, path)
            samples.elapsed_s = time.perf_counter() - started
            results[path] = samples
    finally:
        await connection.close()
    return results


async def frontend(
    port: int, headers: dict[str, str], clients: int, duration: float, history_interval: float
) -> dict[str, Samples]:
    """``clients`` users, each polling on the frontend's timers from a random phase."""
    results = {path: Samples() for path in ENDPOINTS}
    intervals = {
        LIVE: LIVE_INTERVAL_S,
        CAMERAS: CAMERAS_INTERVAL_S,
        HISTORY: history_interval,
        HISTORY_CURSOR: history_interval,
    }
    loop = asyncio.get_running_loop()
    start = loop.time()
    stop_at = start + duration
    rng = random.Random(42)

    async def poll(client: Client, path: str, phase: float) -> None:
        interval = intervals[path]
        due = start + phase
        while due < stop_at:
            await asyncio.sleep(max(0.0, due - loop.time()))
            await results[path].timed(client.get, path)
            due += interval  # a fixed timer, like setInterval

    async def user() -> None:
        client = Client(HOST, port, headers)
        try:
            await asyncio.gather(
                *(poll(client, path, rng.uniform(0, intervals[path])) for path in ENDPOINTS)
            )
        finally:
            await client.close()

    await asyncio.gather(*(user() for _ in range(clients)))
    for samples in results.values():
        samples.elapsed_s = duration
    return results


async def saturation(
    port: int, headers: dict[str, str], connections: int, seconds: float
) -> dict[str, Samples]:
    """Every connection requesting back to back: the throughput ceiling per endpoint."""
    results = {}
    for path in ENDPOINTS:
        results[path] = await closed_loop(HOST, port, path, connections, seconds, headers)
        await asyncio.sleep(1.0)
    return results


# --- Report ------------------------------------------------------------------------------
def fmt(value: float, digits: int = 1) -> str:
    """A number for the report, ``-`` for NaN (no samples)."""
    return "-" if math.isnan(value) else f"{value:,.{digits}f}"


def table(rows: list[tuple[str, str, Samples]]) -> list[str]:
    """The markdown table of the scenarios' latencies and errors."""
    lines = [
        "| scenario | endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for scenario, path, samples in rows:
        lines.append(
            f"| {scenario} | `{path}` | {samples.count:,} | {fmt(samples.rate)} "
            f"| {fmt(samples.percentile(50))} | {fmt(samples.percentile(95))} "
            f"| {fmt(samples.percentile(99))} | {fmt(samples.percentile(100))} "
            f"| {samples.error_count} |"
        )
    return lines


def verdicts(front: dict[str, Samples]) -> list[str]:
    """Whether each endpoint's p95 stays under its ceiling."""
    lines = []
    for path in (LIVE, CAMERAS):
        p95 = front[path].percentile(95)
        ceiling = CEILINGS_MS[path]
        goal = "PASS" if p95 <= GOAL_P95_MS else "FAIL"
        within = "within" if p95 <= ceiling else "OVER"
        lines.append(
            f"- `{path}`, frontend scenario: p95 {fmt(p95)} ms: goal p95 <= "
            f"{GOAL_P95_MS:.0f} ms **{goal}**; {within} the frontend's {ceiling:.0f} ms ceiling; "
            f"{front[path].error_count} errors."
        )
    return lines


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo``, for the results' machine notes."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown CPU"


def machine_notes() -> list[str]:
    """The machine and versions, so results can be compared."""
    from django.db import connection

    cpu = cpu_model()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('detections_detection'))")
        table_size = cursor.fetchone()[0]
    import daphne as daphne_package
    import django
    import rest_framework

    load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
    return [
        f"- {os.cpu_count()} cores ({cpu}), shared by the client, daphne, PostgreSQL and "
        "Redis (and other work on the VM); load average before the run "
        f"{load[0]:.2f}.",
        f"- Python {platform.python_version()}, Django {django.get_version()}, DRF "
        f"{rest_framework.__version__}, daphne {daphne_package.__version__} (one process), "
        f"PostgreSQL {pg_version.split()[0]} (stock settings), Redis cache.",
        f"- detections table with its indexes: {table_size}.",
        f"- measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
    ]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line: size of the table, length and width of the load."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="detections in the table")
    parser.add_argument("--duration", type=float, default=60, help="frontend scenario, s")
    parser.add_argument("--clients", type=int, default=50, help="users and connections")
    parser.add_argument(
        "--saturation-seconds", type=float, default=10, help="closed loop per endpoint, s"
    )
    parser.add_argument(
        "--history-interval", type=float, default=30, help="each user's history loads, s"
    )
    parser.add_argument("--baseline-requests", type=int, default=100)
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL))
    parser.add_argument(
        "--asgi-app", default="config.asgi:application", help="what daphne serves (experiments)"
    )
    parser.add_argument("--explain", action="store_true", help="print the history SQL plans")
    args = parser.parse_args(argv)
    args.arguments = " ".join(sys.argv[1:] if argv is None else argv)
    return args


@dataclass
class Results:
    """What one run measured, for the report."""

    sanity: list[str] = field(default_factory=list)
    scenarios: dict[str, dict[str, Samples]] = field(default_factory=dict)
    connections: list[str] = field(default_factory=list)
    cache_writes: int = 0


def run_load(
    args: argparse.Namespace, env: dict[str, str], headers: dict[str, str], entries: list[dict]
) -> Results:
    """Start daphne, run the three scenarios against it, and stop it whatever happens."""
    server_env = dict(env)
    results = Results()
    refresher = LiveRefresher(entries)
    monitor = ConnectionMonitor(args.database_url)
    refresher.start()
    monitor.start()

    def measured(name: str, scenario: Coroutine[Any, Any, dict[str, Samples]]) -> None:
        monitor.take_peak()
        before = connection_counters()
        samples = asyncio.run(scenario)
        time.sleep(1.5)  # PostgreSQL publishes session counts about once a second
        after = connection_counters()
        requests = sum(s.count + s.error_count for s in samples.values())
        pg, redis = (b - a for a, b in zip(before, after, strict=True))
        results.scenarios[name] = samples
        results.connections.append(
            f"{name}: {requests:,} recorded requests (and warm-ups) opened {pg:,} PostgreSQL "
            f"and {redis:,} Redis connections, at most {monitor.take_peak()} PostgreSQL "
            "connections open at once"
        )

    try:
        with daphne(server_env, args.asgi_app) as port:
            results.sanity = asyncio.run(sanity_check(port, headers))
            print("baseline ...")
            measured("baseline", baseline(port, headers, args.baseline_requests))
            print(f"frontend: {args.clients} users for {args.duration:g} s ...")
            measured(
                "frontend",
                frontend(port, headers, args.clients, args.duration, args.history_interval),
            )
            print(f"saturation: {args.clients} connections, {args.saturation_seconds:g} s each")
            measured("saturation", saturation(port, headers, args.clients, args.saturation_seconds))
    finally:
        refresher.stopping.set()
        monitor.stopping.set()
        refresher.join(timeout=5)
        monitor.join(timeout=5)
    results.cache_writes = refresher.writes
    return results


def report(
    args: argparse.Namespace,
    rows: int,
    results: Results,
    sql_notes: list[str],
    machine: list[str],
    timing: str,
) -> list[str]:
    """The markdown section of BENCHMARKS.md for this run."""
    base = results.scenarios["baseline"]
    front = results.scenarios["frontend"]
    sat = results.scenarios["saturation"]
    table_rows = [("baseline, 1 client", p, samples) for p, samples in base.items()]
    table_rows += [(f"frontend, {args.clients} users", p, front[p]) for p in ENDPOINTS]
    table_rows += [(f"saturation, {args.clients} conns", p, sat[p]) for p in ENDPOINTS]
    return [
        "",
        f"## API under load (`benchmarks/api_live.py`), {rows:,} detections",
        "",
        f"    .venv/bin/python benchmarks/api_live.py {args.arguments}".rstrip(),
        "",
        *table(table_rows),
        "",
        "Goal (issue): p95 <= 20 ms each with 50 users; the frontend's ceilings are 200 ms "
        "(live) and 300 ms (cameras).",
        "",
        *verdicts(front),
        "",
        "- requests, req/s and the latencies count 2xx answers only; errors are counted apart.",
        f"- baseline: one keep-alive connection, {args.baseline_requests} sequential requests "
        f"per endpoint after 10 unrecorded: service time without queueing; `{HEALTH}` (no "
        "auth, no database) is the floor that daphne, Django's middleware and the client set.",
        f"- frontend: {args.clients} users, each polling `{LIVE}` every {LIVE_INTERVAL_S:g} s "
        f"and `{CAMERAS}` every {CAMERAS_INTERVAL_S:g} s from random phases, and loading "
        f"each history variant every {args.history_interval:g} s, for {args.duration:g} s; "
        "keep-alive connections reused like a browser's.",
        f"- saturation: {args.clients} connections in a closed loop (no think time), one "
        f"endpoint at a time, {args.saturation_seconds:g} s after 1 s of warm-up. Its "
        "latencies are mostly queueing: the client, daphne, PostgreSQL and Redis share "
        f"{os.cpu_count()} cores, and daphne is one process (Django runs each request's sync "
        "code in a thread of its own, all under one GIL).",
        f"- live feed: {LIVE_CACHED} detections in the cache, ~{LIVE_REFRESHES_PER_SECOND:g} "
        f"re-seen per second during the run ({results.cache_writes} cache writes).",
        *(f"- connections: {note}." for note in results.connections),
        "- PostgreSQL through the application's connection pool (`DB_POOL_MAX` per process), "
        f"`max_connections` {max_connections()}; Redis counts every client.",
        *(f"- answer: {note}" for note in results.sanity),
        *(f"- SQL: {note}" if note and not note.startswith("    ") else note for note in sql_notes),
        *error_notes(base, front, sat),
        *machine,
        f"- load average after the run {os.getloadavg()[0]:.2f}; {timing}.",
    ]


def main(argv: list[str] | None = None) -> None:
    """Fill the database, run the load, and print the report."""
    args = parse_args(argv)
    started = time.perf_counter()
    ensure_database(args.database_url)
    env = bench_env(args.database_url, args.redis_url)
    setup_django(env)
    from rest_framework_simplejwt.tokens import AccessToken

    ensure_cameras()
    ensure_people()
    user = ensure_user()
    rows, inserted = ensure_detections(args.rows)
    entries = fill_live_cache()
    token = str(AccessToken.for_user(user))
    sql_notes = explain_history(token, args.explain)
    machine = machine_notes()
    setup_s = time.perf_counter() - started
    print(f"setup done in {setup_s:.0f} s ({'inserted' if inserted else 'reused'} {rows:,} rows)")

    results = run_load(args, env, {"Authorization": f"Bearer {token}"}, entries)
    timing = f"whole run {time.perf_counter() - started:.0f} s (setup {setup_s:.0f} s)"
    print("\n".join(report(args, rows, results, sql_notes, machine, timing)))


def connection_counters() -> tuple[int, int]:
    """Sessions PostgreSQL has opened to the benchmark database, and connections Redis has
    accepted (from anyone), so far."""
    from django.core.cache import cache
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        sessions = cursor.fetchone()[0]
    stats = cache._cache.get_client().info("stats")
    return sessions, stats["total_connections_received"]


def max_connections() -> str:
    """PostgreSQL's connection limit, against which the pool's use is judged."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW max_connections")
        return cursor.fetchone()[0]


def error_notes(*scenarios: dict[str, Samples]) -> list[str]:
    """One example of each kind of error, so a failure can be diagnosed."""
    seen = []
    for results in scenarios:
        for path, samples in results.items():
            for kind, count in samples.errors.items():
                example = samples.error_examples.get(kind, b"")
                seen.append(f"- errors on `{path}`: {count} x {kind}, e.g. {example!r}")
    return seen


if __name__ == "__main__":
    main()
