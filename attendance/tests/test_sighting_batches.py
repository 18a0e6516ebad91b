"""A batch of sightings (``record_sightings``) ends exactly where the same sightings
decided one by one in time order end: the same decisions, events, days and states."""

from __future__ import annotations

import random
import threading
from datetime import time, timedelta

import pytest
from django.db import connection

from accounts.models import AuditLog
from attendance.models import (
    AttendanceDay,
    AttendanceEvent,
    PersonAttendanceState,
    SightingDecision,
)
from attendance.sightings import record_sighting, record_sightings
from attendance.tests.conftest import (
    assign,
    make_camera,
    make_detection,
    make_person,
    make_schedule,
    utc,
)
from integrations.models import OdooOutbox

pytestmark = pytest.mark.django_db

T0 = utc(2026, 1, 5, 6)  # Monday 07:00 Berlin


def _stream(rng: random.Random, people: int, cameras: int) -> list[tuple[int, int, int]]:
    """``(seconds after T0, person index, camera index)`` of sightings over three days:
    bursts seconds apart (cooldowns), minutes apart, and long gaps (auto-close); person 1
    (``first_last``) mostly at the ``both`` door, where later sightings move check-outs."""
    stream = []
    for person in range(people):
        at = rng.randint(0, 3600)
        for _ in range(rng.randint(8, 20)):
            camera = 2 if person == 1 and rng.random() < 0.8 else rng.randrange(cameras)
            stream.append((at, person, camera))
            at += rng.choice([3, 30, 200, 900, 3 * 3600, 9 * 3600, 20 * 3600])
    return sorted(stream)


def _world(tag: str) -> tuple[list, list]:
    """Four people (one on a first_last schedule, one inactive) and four doors."""
    people = [make_person(f"{tag}{i}", active=i != 3) for i in range(4)]
    assign(
        people[0],
        make_schedule(f"{tag} toggle", intervals=[(d, time(9), time(17)) for d in range(5)]),
    )
    assign(
        people[1],
        make_schedule(
            f"{tag} first-last",
            punch_mode="first_last",
            intervals=[(d, time(9), time(17)) for d in range(5)],
        ),
    )
    cameras = [
        make_camera(f"{tag} entry", "entry"),
        make_camera(f"{tag} exit", "exit"),
        make_camera(f"{tag} door", "both"),
        make_camera(f"{tag} gone", "entry"),
    ]
    return people, cameras


def _detections(stream, people, cameras) -> list:
    return [
        make_detection(people[p], cameras[c] if c < 3 else None, T0 + timedelta(seconds=s))
        for s, p, c in stream
    ]


def _outcome(people) -> dict:
    """Everything the rules wrote for ``people``, by person index (ids left out)."""
    result = {}
    for index, person in enumerate(people):
        events = AttendanceEvent.objects.filter(person=person).order_by("at", "id")
        state = PersonAttendanceState.objects.filter(person=person).first()
        result[index] = {
            "decisions": list(
                SightingDecision.objects.filter(person=person)
                .order_by("at", "detection_id")
                .values_list("at", "outcome", "event__kind")
            ),
            "events": [(e.kind, e.at, e.source, e.voided_at is not None) for e in events],
            "days": list(
                AttendanceDay.objects.filter(person=person)
                .order_by("work_date")
                .values_list("work_date", "status", "worked_minutes", "is_open", "first_in")
            ),
            "state": state
            and (
                state.is_in,
                state.open_event.at if state.open_event else None,
                state.last_event_at,
                state.last_counted_sighting_at,
                state.last_seen_at,
            ),
        }
    return result


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_batches_end_where_one_by_one_ends(seed):
    rng = random.Random(seed)
    stream = _stream(rng, people=4, cameras=4)
    alone_people, alone_cameras = _world("A")
    for detection in _detections(stream, alone_people, alone_cameras):
        record_sighting(detection)
    batch_people, batch_cameras = _world("B")
    detections = _detections(stream, batch_people, batch_cameras)
    shuffled = list(detections)
    start = 0
    while start < len(shuffled):
        size = rng.randint(1, 25)
        chunk = shuffled[start : start + size]
        rng.shuffle(chunk)  # a batch decides each person's sightings in time order
        record_sightings(chunk)
        start += size
    assert _outcome(batch_people) == _outcome(alone_people)
    events = AttendanceEvent.objects.filter(person__in=batch_people)
    assert (
        OdooOutbox.objects.filter(event__in=events).count()
        == events.count() + events.filter(voided_at__isnull=False).count()
    )
    assert (
        AuditLog.objects.filter(
            object_type="attendance.attendanceevent",
            action="create",
            object_id__in=[str(pk) for pk in events.values_list("pk", flat=True)],
        ).count()
        == events.count()
    )


def test_a_batch_is_idempotent_and_keeps_the_callers_order():
    person, other = make_person("P1"), make_person("P2")
    entry = make_camera("Entry", "entry")
    first = make_detection(person, entry, T0)
    second = make_detection(other, entry, T0 + timedelta(minutes=1))
    unknown = make_detection(None, entry, T0, status="unknown")
    decisions = record_sightings([second, unknown, first, second])
    assert [d.detection_id for d in decisions] == [second.pk, unknown.pk, first.pk, second.pk]
    assert [d.outcome for d in decisions] == [
        "created_check_in",
        "not_recognized",
        "created_check_in",
        "created_check_in",
    ]
    again = record_sightings([first, second, unknown])
    assert [d.pk for d in again] == [decisions[2].pk, decisions[0].pk, decisions[1].pk]
    assert AttendanceEvent.objects.count() == 2
    assert SightingDecision.objects.count() == 3


def test_a_batch_asks_for_one_push(django_capture_on_commit_callbacks, enqueued):
    people = [make_person(f"Q{i}") for i in range(3)]
    entry = make_camera("Entry", "entry")
    with django_capture_on_commit_callbacks(execute=True):
        record_sightings([make_detection(p, entry, T0) for p in people])
    assert enqueued == [("integrations.tasks.push_attendance",)]
    assert OdooOutbox.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_over_the_same_people_never_deadlock():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    people = [make_person(f"C{i}") for i in range(8)]
    for person in people[:2]:  # existing rows; the batches create the others' rows
        PersonAttendanceState.objects.create(person=person)
    entry = make_camera("Entry", "entry")
    orders = [[0, 2, 4, 6, 7], [7, 6, 5, 3, 1], [5, 4, 3, 2, 0], [1, 3, 5, 7, 6, 4]]
    batches = [
        [make_detection(people[i], entry, T0 + timedelta(seconds=n)) for i in order]
        for n, order in enumerate(orders)
    ]
    barrier = threading.Barrier(len(batches))
    errors: list[BaseException] = []

    def run(batch):
        try:
            barrier.wait(timeout=10)
            record_sightings(batch)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(b,)) for b in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    for index, person in enumerate(people):
        assert AttendanceEvent.objects.filter(person=person).count() == 1
        seen = sum(index in order for order in orders)
        assert SightingDecision.objects.filter(person=person).count() == seen
        assert PersonAttendanceState.objects.get(person=person).is_in
