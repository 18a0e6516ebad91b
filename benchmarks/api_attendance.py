"""Attendance API under 50 users, over a year of a mid-size company, against daphne and
PostgreSQL; and the year's export as CSV and XLSX, with the server's peak memory.

Goals (issue 8): p95 <= 50 ms for ``/attendance/logs`` (first page and a deep cursor
page), ``/attendance/days`` and ``/attendance/present``; p95 <= 150 ms for
``/attendance/summary`` and ``/attendance/analytics``; the export of the year may raise
the server's resident memory by at most 150 MB above its idle size. The SQL query count
of each request is printed too: it must not grow with the rows (an N+1 is a bug).

Data (seeded once per database, reused afterwards; ``--reseed`` starts over): 5,000
people in 20 departments on one Monday-to-Friday 09:00-17:00 schedule, four door cameras
(two entry, two exit), and a year of working days up to yesterday in which each person
comes in on about 38 % of the days (a hybrid company: check-in around 09:00, check-out
around 17:00, both from cameras) and is absent on 3 %; each such day has its
``AttendanceDay`` row, as the rules and the nightly pass would have left it. Today 40 %
of the people are checked in (the roll call). That is 1,000,000 events and about
540,000 day rows, inserted server-side with ``INSERT ... SELECT`` (about a minute).

Scenarios:

- queries: each endpoint once in process (DRF's test client, same settings), counting
  its SQL queries with ``CaptureQueriesContext`` and naming the slowest one;
  ``--explain`` prints that query's ``EXPLAIN ANALYZE``.
- baseline: one client, one request at a time: service time without queueing.
- users: ``--clients`` users, each opening one of the endpoints after another with a
  random think time (mean ``--think`` s), for ``--duration`` s: the goal's scenario.
  Both run against ``manage.py serve`` once per count in ``--workers`` (daphne
  processes on one socket; ``--workers 1 2`` compares one with two in one sitting).
- export: a fresh daphne per format, warmed up; the whole year downloaded once, its
  time to first byte and total time, while a thread samples the server's RSS
  (``/proc/<pid>/status``) every 20 ms; peak minus idle is the figure.

Run from the repository root (PostgreSQL and Redis must be up)::

    .venv/bin/python benchmarks/api_attendance.py [--duration 60] [--clients 50]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import math
import os
import random
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accounts.models import User

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.api_live import (  # noqa: E402
    HOST,
    bench_env,
    cpu_model,
    daphne_process,
    ensure_database,
    fmt,
    setup_django,
)
from benchmarks.loadgen import Client, Connection, Samples  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/presence_bench_attendance"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
ASGI_APP = "config.asgi:application"
API = "/api/v1/attendance"

PEOPLE = 5_000
DEPARTMENTS = 20
EVENTS = 1_000_000
PRESENT_TODAY = 0.40
ABSENT_RATE = 0.03
CODE_PREFIX = "ATT-"
BENCH_USER_EMAIL = "bench-attendance@example.com"
SCHEDULE_NAME = "Bench office 09-17"
FAST_GOAL_MS = 50.0
REPORT_GOAL_MS = 150.0
MEMORY_GOAL_MB = 150.0
RSS_SAMPLE_S = 0.02


# --- Seeding -----------------------------------------------------------------------------
def ensure_user() -> User:
    """The admin the simulated users sign in as (every endpoint, exports included)."""
    from accounts.models import User
    from accounts.roles import Role

    user, _ = User.objects.get_or_create(
        email=BENCH_USER_EMAIL, defaults={"full_name": "Bench HR", "role": Role.ADMIN}
    )
    return user


def ensure_organisation() -> None:
    """Departments, the schedule for all of them, four door cameras and the people."""
    from django.conf import settings
    from django.utils import timezone

    from attendance.models import DepartmentSchedule, ScheduleInterval, WorkSchedule
    from cameras.models import Camera, Direction
    from faces.models import Department, Person

    schedule, created = WorkSchedule.objects.get_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "time_zone": settings.TIME_ZONE,
            "late_grace_minutes": 5,
            "early_grace_minutes": 5,
            "break_minutes": 30,
        },
    )
    if created:
        ScheduleInterval.objects.bulk_create(
            ScheduleInterval(schedule=schedule, weekday=day, start="09:00", end="17:00")
            for day in range(5)
        )
    departments = []
    for index in range(DEPARTMENTS):
        department, _ = Department.objects.get_or_create(name=f"Bench department {index + 1:02d}")
        DepartmentSchedule.objects.get_or_create(
            department=department, defaults={"schedule": schedule}
        )
        departments.append(department)
    directions = [Direction.ENTRY, Direction.ENTRY, Direction.EXIT, Direction.EXIT]
    for index, direction in enumerate(directions):
        Camera.objects.get_or_create(
            name=f"Bench gate {index + 1}",
            defaults={"source_url": f"rtsp://10.30.0.{index + 10}/s", "direction": direction},
        )
    now = timezone.now()
    Person.objects.bulk_create(
        [
            Person(
                employee_code=f"{CODE_PREFIX}{index:05d}",
                full_name=f"Employee {index:05d}",
                email=f"employee{index}@example.com",
                department=departments[index % DEPARTMENTS],
                consent_at=now,
            )
            for index in range(PEOPLE)
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )


# Every (person, working day) of the year gets one random draw: below the attendance
# rate it is a day on site, below that plus ABSENT_RATE an absence.
CREATE_DAYS = """
CREATE TEMP TABLE bench_days AS
SELECT person_id, work_date, r,
       (work_date + time '09:00') AT TIME ZONE %(zone)s
           + (random() * 45 - 30) * interval '1 minute' AS in_at,
       (work_date + time '17:00') AT TIME ZONE %(zone)s
           + (random() * 100 - 25) * interval '1 minute' AS out_at
FROM (
    SELECT p.id AS person_id, d::date AS work_date, random() AS r
    FROM faces_person p
    CROSS JOIN generate_series(%(first)s::date, %(last)s::date, interval '1 day') d
    WHERE p.employee_code LIKE 'ATT-%%' AND extract(isodow FROM d) < 6
) draws
WHERE r < %(attend)s + %(absent)s
"""

INSERT_EVENTS = """
INSERT INTO attendance_attendanceevent
    (person_id, kind, at, source, camera_id, reason, created_at, void_reason)
SELECT person_id, kind, at, 'camera', camera_id, '', at, ''
FROM (
    SELECT person_id, 'check_in' AS kind, in_at AS at,
           (%(entry)s::int[])[1 + person_id %% 2] AS camera_id
    FROM bench_days WHERE r < %(attend)s
    UNION ALL
    SELECT person_id, 'check_out', out_at, (%(exit)s::int[])[1 + person_id %% 2]
    FROM bench_days WHERE r < %(attend)s
) e
ORDER BY at
"""

# Minutes as attendance.md defines them, for a 09:00-17:00 day with a 30-minute break
# past 6 hours and 5 minutes of grace either side.
INSERT_DAYS = """
INSERT INTO attendance_attendanceday
    (person_id, work_date, schedule_id, first_in, last_out, worked_minutes,
     scheduled_minutes, late_minutes, early_leave_minutes, overtime_minutes, status,
     is_open, updated_at)
SELECT person_id, work_date, %(schedule)s, first_in, last_out, worked, 480, late, early,
       greatest(worked - 480, 0),
       CASE WHEN first_in IS NULL THEN 'absent' WHEN late > 0 THEN 'late' ELSE 'present' END,
       false, now()
FROM (
    SELECT person_id, work_date, first_in, last_out,
           CASE WHEN first_in IS NULL THEN 0
                ELSE greatest(floor(extract(epoch FROM last_out - first_in) / 60)::int - 30, 0)
           END AS worked,
           CASE WHEN first_in > start_at + interval '5 minutes'
                THEN floor(extract(epoch FROM first_in - start_at) / 60)::int ELSE 0 END AS late,
           CASE WHEN last_out < end_at - interval '5 minutes'
                THEN floor(extract(epoch FROM end_at - last_out) / 60)::int ELSE 0 END AS early
    FROM (
        SELECT person_id, work_date,
               CASE WHEN r < %(attend)s THEN in_at END AS first_in,
               CASE WHEN r < %(attend)s THEN out_at END AS last_out,
               (work_date + time '09:00') AT TIME ZONE %(zone)s AS start_at,
               (work_date + time '17:00') AT TIME ZONE %(zone)s AS end_at
        FROM bench_days
    ) d
) m
"""

# Today: PRESENT_TODAY of the people checked in during the last hours, still on site.
INSERT_TODAY = """
WITH chosen AS (
    SELECT id AS person_id,
           %(now)s::timestamptz - random() * least(interval '6 hours', %(since_midnight)s)
               AS at
    FROM faces_person
    WHERE employee_code LIKE 'ATT-%%' AND random() < %(present)s
), events AS (
    INSERT INTO attendance_attendanceevent
        (person_id, kind, at, source, camera_id, reason, created_at, void_reason)
    SELECT person_id, 'check_in', at, 'camera', (%(entry)s::int[])[1 + person_id %% 2],
           '', at, ''
    FROM chosen ORDER BY at
    RETURNING id, person_id, at, camera_id
), days AS (
    INSERT INTO attendance_attendanceday
        (person_id, work_date, schedule_id, first_in, worked_minutes, scheduled_minutes,
         late_minutes, early_leave_minutes, overtime_minutes, status, is_open, updated_at)
    SELECT person_id, %(today)s, %(schedule)s, at, 0, 480, 0, 0, 0, 'incomplete', true, now()
    FROM events
)
INSERT INTO attendance_personattendancestate
    (person_id, is_in, open_event_id, last_event_at, last_counted_sighting_at,
     last_seen_at, last_camera_id)
SELECT p.id, e.id IS NOT NULL, e.id, coalesce(e.at, last.at), e.at, coalesce(e.at, last.at),
       coalesce(e.camera_id, last.camera_id)
FROM faces_person p
LEFT JOIN events e ON e.person_id = p.id
LEFT JOIN LATERAL (
    SELECT at, camera_id FROM attendance_attendanceevent x
    WHERE x.person_id = p.id ORDER BY at DESC LIMIT 1
) last ON e.id IS NULL
WHERE p.employee_code LIKE 'ATT-%%'
"""

ANALYZED_TABLES = ("faces_person",)
ATTENDANCE_TABLES = (
    "attendance_sightingdecision",
    "attendance_personattendancestate",
    "attendance_attendanceday",
    "attendance_attendanceevent",
)


def working_days(first: date, last: date) -> int:
    """Monday-to-Friday dates from ``first`` to ``last`` inclusive."""
    return sum(
        1 for n in range((last - first).days + 1) if (first + timedelta(days=n)).weekday() < 5
    )


def ensure_year(reseed: bool) -> tuple[int, int, bool]:
    """Seed the year unless it is there; the events and days in the tables, and whether
    they were inserted now."""
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    from attendance.models import AttendanceDay, AttendanceEvent, WorkSchedule
    from attendance.reports import local_today
    from cameras.models import Camera, Direction

    events = AttendanceEvent.objects.count()
    if events >= EVENTS * 0.99 and not reseed:
        return events, AttendanceDay.objects.count(), False
    now = timezone.now()
    today = local_today(now)
    first, last = today - timedelta(days=365), today - timedelta(days=1)
    present = round(PEOPLE * PRESENT_TODAY)
    attend = (EVENTS - present) / 2 / (PEOPLE * working_days(first, last))
    cameras = Camera.objects.filter(name__startswith="Bench gate").order_by("id")
    params = {
        "zone": settings.TIME_ZONE,
        "first": first,
        "last": last,
        "attend": attend,
        "absent": ABSENT_RATE,
        "present": PRESENT_TODAY,
        "entry": [c.pk for c in cameras if c.direction == Direction.ENTRY],
        "exit": [c.pk for c in cameras if c.direction == Direction.EXIT],
        "schedule": WorkSchedule.objects.get(name=SCHEDULE_NAME).pk,
        "now": now,
        "today": today,
        "since_midnight": now - datetime.combine(today, datetime.min.time(), tzinfo=now.tzinfo),
    }
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(ATTENDANCE_TABLES)} RESTART IDENTITY CASCADE")
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(CREATE_DAYS, params)
        cursor.execute(INSERT_EVENTS, params)
        cursor.execute(INSERT_DAYS, params)
        cursor.execute(INSERT_TODAY, params)
        cursor.execute("DROP TABLE bench_days")
    with connection.cursor() as cursor:
        for table in (*ATTENDANCE_TABLES, *ANALYZED_TABLES):
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"seeded the year in {time.perf_counter() - started:.0f} s")
    return AttendanceEvent.objects.count(), AttendanceDay.objects.count(), True


# --- Endpoints ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Endpoint:
    """One request of the benchmark, with its goal."""

    label: str
    path: str
    goal_ms: float


def deep_cursor() -> str:
    """A ``?cursor=`` token half a year back in the log (DRF's encoding: the position
    of the first ordering field, base64 of a query string)."""
    from django.utils import timezone

    from attendance.models import AttendanceEvent

    target = timezone.now() - timedelta(days=182)
    at = (
        AttendanceEvent.objects.filter(at__lte=target)
        .order_by("-at", "-id")
        .values_list("at", flat=True)
        .first()
    )
    query = urllib.parse.urlencode({"p": str(at)})
    return base64.b64encode(query.encode("ascii")).decode("ascii")


def endpoints() -> list[Endpoint]:
    """The requests measured, in report order."""
    cursor = urllib.parse.quote(deep_cursor())
    return [
        Endpoint("logs, first page", f"{API}/logs?page_size=50", FAST_GOAL_MS),
        Endpoint("logs, first cursor page", f"{API}/logs?cursor=&page_size=50", FAST_GOAL_MS),
        Endpoint("logs, cursor 6 months back", f"{API}/logs?cursor={cursor}", FAST_GOAL_MS),
        Endpoint("days, first page", f"{API}/days?page_size=50", FAST_GOAL_MS),
        Endpoint("present, first page", f"{API}/present", FAST_GOAL_MS),
        Endpoint("summary, month", f"{API}/summary?period=month", REPORT_GOAL_MS),
        Endpoint("summary, week", f"{API}/summary?period=week", REPORT_GOAL_MS),
        Endpoint("analytics", f"{API}/analytics", REPORT_GOAL_MS),
    ]


@dataclass
class QueryProfile:
    """What one request costs the database, measured in process."""

    count: int
    total_ms: float
    slowest_ms: float
    slowest_sql: str


def profile_queries(user: User, targets: list[Endpoint]) -> dict[str, QueryProfile]:
    """Each endpoint once (after one warm-up), its queries counted and timed."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    client = APIClient(SERVER_NAME=HOST)
    client.force_authenticate(user)
    profiles = {}
    for endpoint in targets:
        client.get(endpoint.path)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(endpoint.path)
        if response.status_code != 200:
            raise RuntimeError(
                f"GET {endpoint.path}: HTTP {response.status_code} {response.content[:300]!r}"
            )
        timed = [(float(q["time"]) * 1000, q["sql"]) for q in captured.captured_queries]
        slowest = max(timed)
        profiles[endpoint.path] = QueryProfile(
            len(timed), sum(t for t, _ in timed), slowest[0], slowest[1]
        )
    return profiles


def explain(sql: str) -> list[str]:
    """``EXPLAIN ANALYZE`` of one captured query, indented for the report."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return [f"    {row[0]}" for row in cursor.fetchall()]


# --- Load --------------------------------------------------------------------------------
async def baseline(
    port: int, headers: dict[str, str], targets: list[Endpoint], requests: int
) -> dict[str, Samples]:
    """One connection, sequential requests per endpoint after three unrecorded."""
    connection = Connection(HOST, port, headers)
    results = {}
    try:
        for endpoint in targets:
            for _ in range(3):
                await connection.request(endpoint.path)
            samples = Samples()
            started = time.perf_counter()
            for _ in range(requests):
                await samples.timed(connection.request, endpoint.path)
            samples.elapsed_s = time.perf_counter() - started
            results[endpoint.path] = samples
    finally:
        await connection.close()
    return results


async def users(
    port: int,
    headers: dict[str, str],
    targets: list[Endpoint],
    clients: int,
    seconds: float,
    think_s: float,
) -> dict[str, Samples]:
    """``clients`` users, each opening the endpoints in a random order with a think time
    drawn uniformly from 0 to twice ``think_s`` between requests."""
    results = {endpoint.path: Samples() for endpoint in targets}
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + seconds

    async def user(seed: int) -> None:
        rng = random.Random(seed)
        client = Client(HOST, port, headers, timeout=30.0)
        await asyncio.sleep(rng.uniform(0, 2 * think_s))
        try:
            while loop.time() < stop_at:
                endpoint = rng.choice(targets)
                await results[endpoint.path].timed(client.get, endpoint.path)
                await asyncio.sleep(rng.uniform(0, 2 * think_s))
        finally:
            await client.close()

    await asyncio.gather(*(user(n) for n in range(clients)))
    for samples in results.values():
        samples.elapsed_s = seconds
    return results


# --- Export memory -----------------------------------------------------------------------
def rss_mb(pid: int) -> float:
    """The process's resident set now, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


class RssSampler(threading.Thread):
    """Samples a process's RSS until stopped; keeps the peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_mb = 0.0
        self._halt = threading.Event()

    def run(self) -> None:
        """Sample every ``RSS_SAMPLE_S`` seconds."""
        while not self._halt.is_set():
            with contextlib.suppress(OSError):
                self.peak_mb = max(self.peak_mb, rss_mb(self.pid))
            self._halt.wait(RSS_SAMPLE_S)

    def stop(self) -> float:
        """Stop sampling and return the peak in MB."""
        self._halt.set()
        self.join()
        return self.peak_mb


@dataclass
class Download:
    """One export as the client saw it, and the server's memory meanwhile."""

    fmt: str
    first_byte_s: float
    total_s: float
    size_mb: float
    lines: int
    idle_mb: float
    peak_mb: float


def download(port: int, token: str, path: str) -> tuple[float, float, int, int]:
    """GET ``path`` reading the body as it arrives (up to 1 MiB at a time): time to
    first byte, total time, bytes and newlines."""
    request = urllib.request.Request(
        f"http://{HOST}:{port}{path}", headers={"Authorization": f"Bearer {token}"}
    )
    started = time.perf_counter()
    size = lines = 0
    first_byte = math.nan
    with urllib.request.urlopen(request, timeout=900) as answer:  # noqa: S310
        # read1, not read: read(n) waits for n bytes, which timed the first MiB.
        while chunk := answer.read1(1 << 20):
            if math.isnan(first_byte):
                first_byte = time.perf_counter() - started
            size += len(chunk)
            lines += chunk.count(b"\n")
    return first_byte, time.perf_counter() - started, size, lines


def measure_export(env: dict[str, str], token: str, export_format: str) -> Download:
    """The year's export in one format from a fresh, warmed-up daphne."""
    path = f"{API}/export?format={export_format}"
    warm_to = urllib.parse.quote((datetime.now(UTC) - timedelta(days=360)).isoformat())
    with daphne_process(env, ASGI_APP) as (port, process):
        download(port, token, f"{path}&to={warm_to}")
        time.sleep(1.0)
        idle = rss_mb(process.pid)
        sampler = RssSampler(process.pid)
        sampler.start()
        first_byte, total, size, lines = download(port, token, path)
        peak = sampler.stop()
    return Download(export_format, first_byte, total, size / 2**20, lines, idle, peak)


# --- Report ------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line: database, length and width of the load, what to skip."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60, help="users scenario, s")
    parser.add_argument("--clients", type=int, default=50, help="simulated users")
    parser.add_argument("--think", type=float, default=2.0, help="mean think time, s")
    parser.add_argument("--baseline-requests", type=int, default=20)
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1],
        help="daphne processes of `manage.py serve`; several counts run one after another",
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--reseed", action="store_true", help="drop and insert the year")
    parser.add_argument("--explain", action="store_true", help="print the slowest plans")
    parser.add_argument("--no-load", action="store_true", help="skip baseline and users")
    parser.add_argument("--no-export", action="store_true", help="skip the export")
    args = parser.parse_args(argv)
    args.arguments = " ".join(argv if argv is not None else sys.argv[1:])
    return args


def load_table(
    targets: list[Endpoint],
    profiles: dict[str, QueryProfile],
    base: dict[str, Samples],
    load: dict[str, Samples],
) -> list[str]:
    """Per endpoint: queries, baseline and loaded latencies, and the verdict."""
    lines = [
        "| endpoint | SQL queries | SQL ms | 1 client p50 | 1 client p95 | users: requests "
        "| users p50 ms | users p95 ms | users max ms | errors | KB | goal p95 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for endpoint in targets:
        profile = profiles[endpoint.path]
        one = base.get(endpoint.path, Samples())
        many = load.get(endpoint.path, Samples())
        p95 = many.percentile(95)
        verdict = "-" if math.isnan(p95) else ("PASS" if p95 <= endpoint.goal_ms else "FAIL")
        lines.append(
            f"| {endpoint.label} | {profile.count} | {fmt(profile.total_ms)} "
            f"| {fmt(one.percentile(50))} | {fmt(one.percentile(95))} | {many.count:,} "
            f"| {fmt(many.percentile(50))} | {fmt(p95)} | {fmt(many.percentile(100))} "
            f"| {one.error_count + many.error_count} | {fmt(many.mean_body_bytes / 1024)} "
            f"| <= {endpoint.goal_ms:.0f} ms **{verdict}** |"
        )
    return lines


def export_table(downloads: list[Download]) -> list[str]:
    """Per format: time, size and the server's memory against the goal."""
    lines = [
        "| format | first byte s | total s | MB | lines | server idle MB | server peak MB "
        "| peak - idle MB | goal |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for item in downloads:
        grown = item.peak_mb - item.idle_mb
        verdict = "PASS" if grown <= MEMORY_GOAL_MB else "FAIL"
        lines.append(
            f"| {item.fmt} | {fmt(item.first_byte_s)} | {fmt(item.total_s)} "
            f"| {fmt(item.size_mb)} | {item.lines:,} | {fmt(item.idle_mb)} "
            f"| {fmt(item.peak_mb)} | {fmt(grown)} | <= {MEMORY_GOAL_MB:.0f} MB **{verdict}** |"
        )
    return lines


def machine_notes() -> list[str]:
    """The machine and versions, so results can be compared."""
    from django.db import connection

    cpu = cpu_model()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0].split()[0]
        cursor.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('attendance_attendanceevent')), "
            "pg_size_pretty(pg_total_relation_size('attendance_attendanceday'))"
        )
        events_size, days_size = cursor.fetchone()
    import django

    return [
        f"- {os.cpu_count()} cores ({cpu}), shared by the client, daphne, "
        f"PostgreSQL {version} (stock settings) and Redis, and with other work on the VM: "
        f"load average {os.getloadavg()[0]:.2f} at the end.",
        f"- Python {sys.version.split()[0]}, Django {django.get_version()}; events table "
        f"with indexes {events_size}, days table {days_size}.",
        f"- measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
    ]


def main(argv: list[str] | None = None) -> None:
    """Seed, profile, load, export, and print the report."""
    args = parse_args(argv)
    started = time.perf_counter()
    ensure_database(args.database_url)
    env = bench_env(args.database_url, args.redis_url)
    env["SECURE_SSL_REDIRECT"] = "0"  # plain HTTP on loopback, as behind the TLS proxy
    # 50 simulated people sign in as one account: its per-user limit (600/min) would
    # answer about half of their requests with 429 and time nothing but the refusal.
    env["THROTTLE_USER_RATE"] = ""
    setup_django(env)
    from rest_framework_simplejwt.tokens import AccessToken

    user = ensure_user()
    ensure_organisation()
    events, days, inserted = ensure_year(args.reseed)
    print(f"{'inserted' if inserted else 'reused'} {events:,} events and {days:,} days")
    targets = endpoints()
    profiles = profile_queries(user, targets)
    token = str(AccessToken.for_user(user))
    headers = {"Authorization": f"Bearer {token}"}
    tables: list[str] = []
    for workers in [] if args.no_load else args.workers:
        with daphne_process(env, ASGI_APP, workers=workers) as (port, _process):
            base = asyncio.run(baseline(port, headers, targets, args.baseline_requests))
            load = asyncio.run(
                users(port, headers, targets, args.clients, args.duration, args.think)
            )
        errors = sum((samples.errors for samples in (*base.values(), *load.values())), Counter())
        tables += [
            "",
            f"`manage.py serve --workers {workers}` (load average "
            f"{os.getloadavg()[0]:.2f} after it):",
            "",
            *load_table(targets, profiles, base, load),
            "",
            f"- errors: {dict(errors) or 'none'}",
        ]
    lines = [
        "",
        f"## Attendance API (`benchmarks/api_attendance.py`), {events:,} events, "
        f"{days:,} days, {PEOPLE:,} people",
        "",
        f"    .venv/bin/python benchmarks/api_attendance.py {args.arguments}".rstrip(),
        *tables,
        "",
        f"- users: {args.clients} users, each opening one of the endpoints at random, think "
        f"time uniform 0-{2 * args.think:g} s, for {args.duration:g} s; 1 client: "
        f"{args.baseline_requests} sequential requests after 3 unrecorded.",
        "- SQL queries and SQL ms: one request in process (CaptureQueriesContext).",
    ]
    for endpoint in targets:
        profile = profiles[endpoint.path]
        lines.append(
            f"- slowest query of {endpoint.label}: {fmt(profile.slowest_ms)} ms: "
            f"`{profile.slowest_sql[:160]}...`"
        )
        if args.explain:
            lines += ["", *explain(profile.slowest_sql), ""]
    print("\n".join(lines), flush=True)
    downloads = []
    if not args.no_export:
        downloads = [measure_export(env, token, name) for name in ("csv", "xlsx")]
    lines = [*export_table(downloads), ""] if downloads else []
    lines += ["", *machine_notes(), f"- whole run {time.perf_counter() - started:.0f} s."]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
