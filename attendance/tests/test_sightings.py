"""Recognised detections through the rules into events, decisions, state and days."""

from __future__ import annotations

import threading
from datetime import date, time, timedelta

import pytest
from django.db import connection
from prometheus_client import REGISTRY

from accounts.models import AuditLog
from attendance.events import auto_close_open_attendances
from attendance.models import (
    AttendanceDay,
    AttendanceEvent,
    EventSource,
    PersonAttendanceState,
    SightingDecision,
)
from attendance.sightings import record_sighting
from attendance.tests.conftest import (
    assign,
    make_camera,
    make_detection,
    make_person,
    make_schedule,
    utc,
)
from detections.models import Detection
from detections.signals import detection_recognized

T0 = utc(2026, 1, 5, 7)  # Monday 08:00 Berlin

pytestmark = pytest.mark.django_db


def see(person, camera, at, **fields):
    return record_sighting(make_detection(person, camera, at, **fields))


def kinds(person) -> list[tuple[str, str]]:
    rows = AttendanceEvent.objects.filter(person=person).order_by("at", "id")
    return [(e.kind, "voided" if e.voided_at else e.source) for e in rows]


def test_entry_then_exit(person, entry_cam, exit_cam):
    assert see(person, entry_cam, T0).outcome == "created_check_in"
    assert see(person, entry_cam, T0 + timedelta(minutes=5)).outcome == "already_in"
    assert see(person, exit_cam, T0 + timedelta(hours=8)).outcome == "created_check_out"
    assert see(person, exit_cam, T0 + timedelta(hours=9)).outcome == "not_checked_in"
    assert kinds(person) == [("check_in", "camera"), ("check_out", "camera")]
    state = PersonAttendanceState.objects.get(person=person)
    assert not state.is_in
    assert state.last_seen_at == T0 + timedelta(hours=9)
    assert state.last_camera == exit_cam


def test_decision_links_detection_event_and_person(person, entry_cam):
    decision = see(person, entry_cam, T0)
    detection = Detection.objects.get(pk=decision.detection_id)
    assert detection.attendance_decision == decision
    assert decision.event.detection_id == detection.pk
    assert decision.event.camera == entry_cam
    assert list(person.attendance_decisions.all()) == [decision]


def test_two_cameras_within_seconds_make_one_event(person, entry_cam, exit_cam):
    assert see(person, entry_cam, T0).outcome == "created_check_in"
    assert see(person, exit_cam, T0 + timedelta(seconds=4)).outcome == "cooldown"
    assert kinds(person) == [("check_in", "camera")]


def test_cooldown_setting_is_read(person, exit_cam, entry_cam, settings):
    settings.ATTENDANCE_COOLDOWN_SECONDS = 1
    see(person, entry_cam, T0)
    assert see(person, exit_cam, T0 + timedelta(seconds=4)).outcome == "created_check_out"


def test_both_toggle(person, both_cam):
    outcomes = [see(person, both_cam, T0 + timedelta(minutes=m)).outcome for m in (0, 1, 5, 10)]
    assert outcomes == ["created_check_in", "cooldown", "created_check_out", "created_check_in"]


def test_both_first_last_moves_the_check_out(person, both_cam):
    assign(person, make_schedule(punch_mode="first_last"))
    outcomes = [see(person, both_cam, T0 + timedelta(hours=h)).outcome for h in (0, 4, 6, 9)]
    assert outcomes == [
        "created_check_in",
        "created_check_out",
        "moved_check_out",
        "moved_check_out",
    ]
    assert kinds(person) == [
        ("check_in", "camera"),
        ("check_out", "voided"),
        ("check_out", "voided"),
        ("check_out", "camera"),
    ]
    voided = AttendanceEvent.objects.filter(person=person, voided_at__isnull=False)
    assert {e.void_reason for e in voided} == {"moved by a later sighting"}
    day = AttendanceDay.objects.get(person=person, work_date=date(2026, 1, 5))
    assert day.worked_minutes == 9 * 60
    assert day.last_out == T0 + timedelta(hours=9)
    next_day = see(person, both_cam, T0 + timedelta(days=1))
    assert next_day.outcome == "created_check_in"


def test_inactive_person_makes_no_event(entry_cam):
    person = make_person("X", active=False)
    assert see(person, entry_cam, T0).outcome == "inactive_person"
    assert not AttendanceEvent.objects.exists()


def test_unrecognized_detection_is_recorded_without_event(entry_cam):
    decision = see(None, entry_cam, T0, status="unknown")
    assert decision.outcome == "not_recognized"
    assert not AttendanceEvent.objects.exists()


def test_deleted_camera_makes_no_event(person):
    assert see(person, None, T0).outcome == "no_camera"


def test_sighting_is_idempotent_per_detection(person, entry_cam):
    detection = make_detection(person, entry_cam, T0)
    first = record_sighting(detection)
    assert record_sighting(detection) == first
    assert AttendanceEvent.objects.count() == 1


def test_signal_reaches_the_rules_and_errors_never_escape(person, entry_cam, monkeypatch):
    detection = make_detection(person, entry_cam, T0)
    detection_recognized.send(Detection, detection=detection)
    assert SightingDecision.objects.get(detection=detection).outcome == "created_check_in"

    def boom(*_args):
        raise RuntimeError("database went away")

    monkeypatch.setattr("attendance.sightings.record_sightings", boom)
    monkeypatch.setattr("attendance.sightings.record_sighting", boom)
    lost = make_detection(person, entry_cam, T0)
    detection_recognized.send(Detection, detection=lost)
    assert not SightingDecision.objects.filter(detection=lost).exists()


def test_camera_events_are_audit_logged(person, entry_cam):
    decision = see(person, entry_cam, T0)
    assert AuditLog.objects.filter(
        object_type="attendance.attendanceevent", object_id=str(decision.event_id)
    ).exists()


def test_camera_events_are_counted_in_the_metrics(
    person, entry_cam, exit_cam, django_capture_on_commit_callbacks
):
    def counted(kind: str) -> float:
        labels = {"source": "camera", "kind": kind}
        return REGISTRY.get_sample_value("presence_attendance_events_total", labels) or 0.0

    before = {kind: counted(kind) for kind in ("check_in", "check_out")}
    with django_capture_on_commit_callbacks(execute=True):
        see(person, entry_cam, T0)
        see(person, entry_cam, T0 + timedelta(minutes=5))  # already in: no event
        see(person, exit_cam, T0 + timedelta(hours=8))
    assert counted("check_in") == before["check_in"] + 1
    assert counted("check_out") == before["check_out"] + 1


def test_days_follow_each_event(person, entry_cam, exit_cam):
    assign(person, make_schedule(intervals=[(0, time(8), time(16))]))
    see(person, entry_cam, T0 + timedelta(minutes=20))
    day = AttendanceDay.objects.get(person=person, work_date=date(2026, 1, 5))
    assert (day.status, day.is_open, day.late_minutes) == ("incomplete", True, 20)
    see(person, exit_cam, T0 + timedelta(hours=8))
    day.refresh_from_db()
    assert (day.status, day.worked_minutes, day.late_minutes) == ("late", 460, 20)


def test_night_shift_counts_to_the_day_it_began(person, entry_cam, exit_cam):
    assign(person, make_schedule(intervals=[(0, time(22), time(6))]))
    see(person, entry_cam, utc(2026, 1, 5, 21))  # Mon 22:00 Berlin
    see(person, exit_cam, utc(2026, 1, 6, 5, 10))  # Tue 06:10 Berlin
    day = AttendanceDay.objects.get(person=person, work_date=date(2026, 1, 5))
    assert (day.worked_minutes, day.scheduled_minutes, day.overtime_minutes) == (490, 480, 10)
    assert day.status == "present"


def test_dst_autumn_night_shift_is_nine_hours(person, entry_cam, exit_cam):
    assign(person, make_schedule(intervals=[(5, time(22), time(6))]))  # Saturdays
    see(person, entry_cam, utc(2026, 10, 24, 20))  # Sat 22:00 CEST
    see(person, exit_cam, utc(2026, 10, 25, 5))  # Sun 06:00 CET
    day = AttendanceDay.objects.get(person=person, work_date=date(2026, 10, 24))
    assert (day.worked_minutes, day.scheduled_minutes) == (540, 540)
    sunday = AttendanceDay.objects.get(person=person, work_date=date(2026, 10, 25))
    assert (sunday.status, sunday.worked_minutes) == ("off", 0)


def test_dst_spring_night_shift_is_seven_hours(person, entry_cam, exit_cam):
    assign(person, make_schedule(intervals=[(5, time(22), time(6))]))
    see(person, entry_cam, utc(2026, 3, 28, 21))  # Sat 22:00 CET
    see(person, exit_cam, utc(2026, 3, 29, 4))  # Sun 06:00 CEST
    day = AttendanceDay.objects.get(person=person, work_date=date(2026, 3, 28))
    assert (day.worked_minutes, day.scheduled_minutes, day.status) == (420, 420, "present")


def test_auto_close_at_check_in_plus_scheduled_length(person, entry_cam):
    assign(person, make_schedule(intervals=[(0, time(8), time(14))], max_shift_minutes=600))
    see(person, entry_cam, T0)
    assert auto_close_open_attendances(now=T0 + timedelta(hours=9)) == 0
    assert auto_close_open_attendances(now=T0 + timedelta(hours=11)) == 1
    closing = AttendanceEvent.objects.get(person=person, kind="check_out")
    assert (closing.source, closing.at) == (EventSource.AUTO_CLOSE, T0 + timedelta(hours=6))
    assert not PersonAttendanceState.objects.get(person=person).is_in
    assert AttendanceDay.objects.get(person=person).worked_minutes == 360
    assert auto_close_open_attendances(now=T0 + timedelta(hours=12)) == 0


def test_auto_close_without_schedule_is_eight_hours(person, entry_cam):
    see(person, entry_cam, T0)
    auto_close_open_attendances(now=T0 + timedelta(hours=17))
    closing = AttendanceEvent.objects.get(person=person, kind="check_out")
    assert closing.at == T0 + timedelta(hours=8)


def test_stale_open_attendance_is_closed_before_the_next_sighting(person, entry_cam):
    see(person, entry_cam, T0)
    decision = see(person, entry_cam, T0 + timedelta(days=1))
    assert decision.outcome == "created_check_in"
    assert kinds(person) == [
        ("check_in", "camera"),
        ("check_out", "auto_close"),
        ("check_in", "camera"),
    ]


@pytest.mark.django_db(transaction=True)
def test_concurrent_sightings_of_one_person_make_exactly_one_event(entry_cam, both_cam):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    person = make_person("C1")
    # An existing state row: a first INSERT would serialise the threads on its own.
    PersonAttendanceState.objects.create(person=person)
    detections = [make_detection(person, cam, T0) for cam in (entry_cam, both_cam)] + [
        make_detection(person, entry_cam, T0 + timedelta(seconds=s)) for s in (1, 2)
    ]
    barrier = threading.Barrier(len(detections))
    errors: list[BaseException] = []

    def run(detection):
        try:
            barrier.wait(timeout=10)
            record_sighting(detection)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(d,)) for d in detections]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert AttendanceEvent.objects.filter(person=person).count() == 1
    assert SightingDecision.objects.filter(person=person).count() == len(detections)
    assert PersonAttendanceState.objects.get(person=person).is_in


def test_a_schedule_change_reaches_the_next_sighting(person, entry_cam, exit_cam):
    schedule = make_schedule(intervals=[(0, time(9), time(17))])
    assign(person, schedule)
    see(person, entry_cam, T0)
    see(person, exit_cam, T0 + timedelta(hours=8))
    assert AttendanceDay.objects.get(person=person).scheduled_minutes == 480
    interval = schedule.intervals.get()
    interval.end = time(13)
    interval.save()
    see(person, entry_cam, T0 + timedelta(hours=9))
    assert AttendanceDay.objects.get(person=person).scheduled_minutes == 240
    other = make_schedule("Other", intervals=[(0, time(8), time(10))])
    assign(person, other)
    see(person, exit_cam, T0 + timedelta(hours=10))
    assert AttendanceDay.objects.get(person=person).scheduled_minutes == 120


def test_a_holiday_with_attendance_has_no_scheduled_time(person, entry_cam, exit_cam):
    from attendance.models import Holiday

    assign(person, make_schedule(intervals=[(0, time(9), time(17))]))
    Holiday.objects.create(date=date(2026, 1, 5), name="Bench day")
    see(person, entry_cam, T0)
    see(person, exit_cam, T0 + timedelta(hours=8))
    day = AttendanceDay.objects.get(person=person)
    assert (day.scheduled_minutes, day.overtime_minutes) == (0, 480)


def test_a_person_follows_their_own_schedule_else_their_departments():
    """Precedence of schedules, in the rules' own locking query and in the days: the
    person's schedule, else the department's, else none (no lateness without one)."""
    from attendance.models import DepartmentSchedule
    from attendance.sightings import record_sightings
    from faces.models import Department

    department = Department.objects.create(name="Warehouse")
    nine = make_schedule("Nine", intervals=[(0, time(9), time(17))])
    seven = make_schedule("Seven", intervals=[(0, time(7), time(15))])
    DepartmentSchedule.objects.create(department=department, schedule=nine)
    member = make_person("D1", department=department)
    own = make_person("D2", department=department)
    assign(own, seven)
    nobody = make_person("D3")
    entry = make_camera("Gate", "entry")
    arrival = utc(2026, 1, 5, 8, 30)  # Monday 09:30 in Berlin

    see(member, entry, arrival)
    record_sightings([make_detection(p, entry, arrival) for p in (own, nobody)])

    days = {
        day.person_id: (day.schedule_id, day.late_minutes)
        for day in AttendanceDay.objects.filter(work_date=date(2026, 1, 5))
    }
    assert days[member.pk] == (nine.pk, 30)
    assert days[own.pk] == (seven.pk, 150)
    assert days[nobody.pk] == (None, 0)
