"""Sightings per second through the attendance rules into events and days, on PostgreSQL.

Goal (issue 8): at least 500 sightings per second on one core. The same stream runs three
times, the attendance written by each run deleted before the next:

1. one by one, each a call of ``attendance.sightings.record_sighting`` (a batch of one):
   in one transaction, the person's row lock, the decision, maybe an event (with its
   audit row, its Odoo outbox row and the live broadcast through Redis after the
   commit), the state, the days and the decision row;
2. in consecutive batches of ``--batch`` (``record_sightings``: one transaction and a
   fixed number of statements per batch);
3. as the pipeline sends it: ``detection_recognized`` for each sighting, which the
   receiver queues for the process's batcher thread (``attendance.batcher``), timed
   until the thread has decided the last one. This is the live path.

The stream is a few working days of ``--people`` people at two entry and two exit doors:
per person and day a check-in sighting around 08:50, a second entry camera a few seconds
later (cooldown), another entry sighting mid-morning (already in), the exit around
17:00 (check-out) and a repeat at the exit (cooldown): five sightings, two events. The
detections are inserted beforehand (not timed), the stream runs in time order, and the
SQL statements of each outcome are counted with an execute wrapper. The people, their
detections and attendance are this benchmark's own (codes ``RULES-``), deleted at the
start of each run, so it can share the attendance API benchmark's database (whose year
of events makes the indexes realistic); ``--database-url`` chooses another.

Run from the repository root (PostgreSQL and Redis must be up)::

    .venv/bin/python benchmarks/rules_throughput.py [--people 200] [--days 5] [--batch 100]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.api_attendance import DEFAULT_DATABASE_URL  # noqa: E402
from benchmarks.api_live import bench_env, ensure_database, fmt, setup_django  # noqa: E402

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
CODE_PREFIX = "RULES-"
CAMERA_PREFIX = "Rules door"
SCHEDULE_NAME = "Rules bench 09-17"
GOAL_PER_S = 500.0


def ensure_setup(people: int) -> tuple[list[int], dict[str, list[int]]]:
    """The benchmark's people (on a Monday-to-Friday schedule) and doors, with all their
    previous attendance deleted; their ids and the door ids by direction."""
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from attendance.models import PersonSchedule, ScheduleInterval, WorkSchedule
    from cameras.models import Camera, Direction
    from faces.models import Person

    schedule, created = WorkSchedule.objects.get_or_create(
        name=SCHEDULE_NAME, defaults={"time_zone": settings.TIME_ZONE, "break_minutes": 30}
    )
    if created:
        ScheduleInterval.objects.bulk_create(
            ScheduleInterval(schedule=schedule, weekday=day, start="09:00", end="17:00")
            for day in range(5)
        )
    Person.objects.bulk_create(
        [
            Person(
                employee_code=f"{CODE_PREFIX}{index:05d}",
                full_name=f"Rules person {index:05d}",
                consent_at=timezone.now(),
            )
            for index in range(people)
        ],
        ignore_conflicts=True,
    )
    ids = list(
        Person.objects.filter(employee_code__startswith=CODE_PREFIX)
        .order_by("employee_code")
        .values_list("id", flat=True)[:people]
    )
    PersonSchedule.objects.bulk_create(
        [PersonSchedule(person_id=pk, schedule=schedule) for pk in ids], ignore_conflicts=True
    )
    doors: dict[str, list[int]] = {Direction.ENTRY: [], Direction.EXIT: []}
    for index, direction in enumerate(
        [Direction.ENTRY, Direction.ENTRY, Direction.EXIT, Direction.EXIT]
    ):
        camera, _ = Camera.objects.get_or_create(
            name=f"{CAMERA_PREFIX} {index + 1}",
            defaults={"source_url": f"rtsp://10.40.0.{index + 10}/s", "direction": direction},
        )
        doors[direction].append(camera.pk)
    clear_attendance()
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM detections_detection WHERE camera_id = ANY(%s)",
            [doors[Direction.ENTRY] + doors[Direction.EXIT]],
        )
    return ids, doors


def clear_attendance() -> None:
    """Delete everything the rules wrote for the benchmark's people (not the detections),
    so the same stream can run again."""
    from django.db import connection

    from faces.models import Person

    everyone = list(
        Person.objects.filter(employee_code__startswith=CODE_PREFIX).values_list("id", flat=True)
    )
    with connection.cursor() as cursor:
        for table in (
            "attendance_sightingdecision",
            "attendance_attendanceday",
            "attendance_personattendancestate",
        ):
            cursor.execute(f"DELETE FROM {table} WHERE person_id = ANY(%s)", [everyone])  # noqa: S608
        cursor.execute(
            "DELETE FROM integrations_odoooutbox WHERE event_id IN "
            "(SELECT id FROM attendance_attendanceevent WHERE person_id = ANY(%s))",
            [everyone],
        )
        cursor.execute(
            "DELETE FROM attendance_attendanceevent WHERE person_id = ANY(%s)", [everyone]
        )


def sighting_plan(
    people: list[int], doors: dict[str, list[int]], days: int, seed: int = 7
) -> list[tuple[datetime, int, int]]:
    """``(instant, person, camera)`` of every sighting, in time order."""
    from cameras.models import Direction

    rng = random.Random(seed)
    entry, exit_ = doors[Direction.ENTRY], doors[Direction.EXIT]
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start -= timedelta(days=days + 7)
    while start.weekday() != 0:
        start -= timedelta(days=1)
    plan = []
    for day in range(days):
        midnight = start + timedelta(days=day + (day // 5) * 2)
        for person in people:
            arrive = midnight + timedelta(hours=8, minutes=rng.uniform(30, 70))
            leave = midnight + timedelta(hours=17, minutes=rng.uniform(-10, 40))
            plan += [
                (arrive, person, rng.choice(entry)),
                (arrive + timedelta(seconds=rng.uniform(2, 20)), person, rng.choice(entry)),
                (arrive + timedelta(hours=rng.uniform(1, 3)), person, rng.choice(entry)),
                (leave, person, rng.choice(exit_)),
                (leave + timedelta(seconds=rng.uniform(2, 60)), person, rng.choice(exit_)),
            ]
    plan.sort()
    return plan


def insert_detections(plan: list[tuple[datetime, int, int]]) -> list[Any]:
    """One recognised detection per sighting, as the pipeline would have saved it; the
    instances in plan order, with their cameras loaded (as the receiver gets them)."""
    from cameras.models import Camera
    from detections.models import Detection, DetectionStatus

    names = dict(Camera.objects.values_list("id", "name"))
    rows = [
        Detection(
            camera_id=camera,
            camera_name=names[camera],
            person_id=person,
            status=DetectionStatus.RECOGNIZED,
            score=0.8,
            margin=0.2,
            votes=3,
            track_id=f"rules-{index}",
            bbox=[10, 10, 110, 130],
            captured_at=at,
            last_seen_at=at,
            model_key="bench",
        )
        for index, (at, person, camera) in enumerate(plan)
    ]
    created = Detection.objects.bulk_create(rows, batch_size=2000)
    by_id = Detection.objects.select_related("camera").in_bulk([row.pk for row in created])
    return [by_id[row.pk] for row in created]


class QueryCounter:
    """Counts SQL statements (an ``execute_wrapper``), cheap enough to leave on."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        """Count, then run the statement."""
        self.count += 1
        return execute(sql, params, many, context)


@dataclass(frozen=True)
class Result:
    """One pass over the stream: wall and CPU seconds, outcomes and statements per
    outcome (one-by-one) or in all (batched)."""

    wall: float
    cpu: float
    outcomes: Counter
    queries: Counter
    statements: int


def run(detections: list[Any], profile: bool, batch: int = 1) -> Result:
    """Every sighting through ``record_sighting`` (``batch`` 1) or ``record_sightings``
    in consecutive batches of ``batch``, as the receiver's batcher hands them over."""
    from django.db import connection

    from attendance.sightings import record_sighting, record_sightings

    counter = QueryCounter()
    outcomes: Counter[str] = Counter()
    queries: Counter[str] = Counter()
    profiler = cProfile.Profile() if profile else None
    with connection.execute_wrapper(counter):
        wall, cpu = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        if batch == 1:
            for detection in detections:
                before = counter.count
                decision = record_sighting(detection)
                outcomes[decision.outcome] += 1
                queries[decision.outcome] += counter.count - before
        else:
            for start in range(0, len(detections), batch):
                for decision in record_sightings(detections[start : start + batch]):
                    outcomes[decision.outcome] += 1
        if profiler is not None:
            profiler.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if profiler is not None:
        stats = pstats.Stats(profiler).sort_stats("cumulative")
        stats.print_stats(40)
    return Result(wall, cpu, outcomes, queries, counter.count)


def run_through_receiver(detections: list[Any]) -> Result:
    """Every sighting sent as the pipeline sends it (``detection_recognized``), so the
    receiver queues it for the process's batcher thread (``ATTENDANCE_BATCH_SIZE``,
    ``ATTENDANCE_BATCH_SECONDS``); timed until that thread has decided the last one.
    Statements are not counted: they run on the thread's own connection."""
    from attendance import batcher
    from attendance.models import SightingDecision
    from detections.models import Detection
    from detections.signals import detection_recognized

    wall, cpu = time.perf_counter(), time.process_time()
    for detection in detections:
        detection_recognized.send(Detection, detection=detection)
    batcher.batcher().close(timeout=600)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    outcomes = Counter(
        SightingDecision.objects.filter(detection_id__in=[d.pk for d in detections]).values_list(
            "outcome", flat=True
        )
    )
    return Result(wall, cpu, outcomes, Counter(), 0)


def _rate_line(label: str, result: Result, total: int, batch: int = 1) -> str:
    rate = total / result.wall
    events = result.outcomes["created_check_in"] + result.outcomes["created_check_out"]
    verdict = "PASS" if rate >= GOAL_PER_S else "FAIL"
    statements = (
        ""
        if not result.statements
        else f"{fmt(result.statements / total)} SQL statements per sighting; "
        if batch == 1
        else f"{fmt(result.statements * batch / total)} SQL statements per batch; "
    )
    return (
        f"- {label}: {fmt(rate)} sightings/s wall clock ({events:,} events made), goal >= "
        f"{GOAL_PER_S:.0f}/s **{verdict}**; {statements}this process used {fmt(result.cpu)} s "
        f"of CPU for {fmt(result.wall)} s ({fmt(total / result.cpu)} sightings per CPU second "
        "of Python)."
    )


def main(argv: list[str] | None = None) -> None:
    """Prepare the stream, run it, print the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--profile", action="store_true", help="print cProfile's top 40")
    parser.add_argument(
        "--batch",
        type=int,
        default=100,
        help="then the same stream again in batches of this many (1: one by one only)",
    )
    args = parser.parse_args(argv)
    ensure_database(args.database_url)
    setup_django(bench_env(args.database_url, args.redis_url))
    people, doors = ensure_setup(args.people)
    plan = sighting_plan(people, doors, args.days)
    detections = insert_detections(plan)
    single = run(detections, args.profile and args.batch <= 1)
    total = len(detections)
    batched = None
    if args.batch > 1:
        clear_attendance()
        batched = run(detections, args.profile, args.batch)
        if batched.outcomes != single.outcomes:
            print(f"batched outcomes differ: {batched.outcomes} vs {single.outcomes}")
    clear_attendance()
    received = run_through_receiver(detections)
    if received.outcomes != single.outcomes:
        print(f"outcomes through the receiver differ: {received.outcomes} vs {single.outcomes}")
    from django.conf import settings

    command = " ".join(argv if argv is not None else sys.argv[1:])
    lines = [
        "",
        f"## Attendance rules throughput (`benchmarks/rules_throughput.py`), {total:,} sightings",
        "",
        f"    .venv/bin/python benchmarks/rules_throughput.py {command}".rstrip(),
        "",
        "| outcome | sightings | SQL statements each (one by one) |",
        "|---|---:|---:|",
        *(
            f"| {outcome} | {count:,} | {fmt(single.queries[outcome] / count)} |"
            for outcome, count in sorted(single.outcomes.items())
        ),
        f"| **all** | {total:,} | {fmt(sum(single.queries.values()) / total)} |",
        "",
        _rate_line("one by one (`record_sighting`)", single, total),
        *(
            [
                _rate_line(
                    f"batches of {args.batch} (`record_sightings`)", batched, total, args.batch
                )
            ]
            if batched is not None
            else []
        ),
        _rate_line(
            f"through the receiver and its batcher thread (batches of up to "
            f"{settings.ATTENDANCE_BATCH_SIZE}, {settings.ATTENDANCE_BATCH_SECONDS} s)",
            received,
            total,
        ),
        f"- {args.people} people x {args.days} working days, one process, one thread; "
        f"PostgreSQL and Redis on the same {os.cpu_count()}-core machine, shared with other "
        f"work (load average {os.getloadavg()[0]:.2f} at the end).",
        f"- measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
