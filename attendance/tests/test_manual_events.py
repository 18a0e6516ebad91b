"""Manual events and voids: alternation, no overlap, no future, a trace for each."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from accounts.models import AuditLog
from attendance.day_records import close_yesterday
from attendance.events import add_manual_event, add_manual_pair, void_event
from attendance.exceptions import EventConflict, EventRuleViolation, InvalidEvent
from attendance.models import AttendanceDay, AttendanceEvent, Holiday, PersonAttendanceState
from attendance.tests.conftest import assign, make_person, make_schedule, utc

pytestmark = pytest.mark.django_db

T0 = utc(2026, 1, 5, 7)  # Monday 08:00 Berlin
NOW = utc(2026, 1, 10, 12)


def add(person, kind, at, by=None, reason="forgot badge"):
    return add_manual_event(person, kind, at, reason, by, now=NOW)


@pytest.fixture
def day_pair(person, hr_manager):
    check_in = add(person, "check_in", T0, hr_manager)
    check_out = add(person, "check_out", T0 + timedelta(hours=8), hr_manager)
    return check_in, check_out


def refused(exc_type, code, call):
    before = (AttendanceEvent.objects.count(), AuditLog.objects.count())
    with pytest.raises(exc_type) as info:
        call()
    assert info.value.code == code
    assert (AttendanceEvent.objects.count(), AuditLog.objects.count()) == before
    return info.value


def test_manual_pair_makes_events_state_day_and_audit(person, hr_manager, day_pair):
    check_in, _check_out = day_pair
    assert (check_in.source, check_in.created_by, check_in.reason) == (
        "manual",
        hr_manager,
        "forgot badge",
    )
    assert not PersonAttendanceState.objects.get(person=person).is_in
    day = AttendanceDay.objects.get(person=person, work_date=date(2026, 1, 5))
    assert day.worked_minutes == 480
    logged = AuditLog.objects.filter(object_type="attendance.attendanceevent", action="create")
    assert logged.count() == 2
    assert logged.first().actor == hr_manager


def test_check_out_before_check_in_is_refused(person):
    refused(EventConflict, "check_out_without_check_in", lambda: add(person, "check_out", T0))


def test_check_out_before_existing_check_in_is_refused(person, day_pair):
    error = refused(
        EventConflict,
        "check_out_without_check_in",
        lambda: add(person, "check_out", T0 - timedelta(hours=1)),
    )
    assert "check-in" in error.message


def test_event_in_the_future_is_refused(person):
    refused(
        EventRuleViolation,
        "event_in_future",
        lambda: add(person, "check_in", NOW + timedelta(minutes=2)),
    )


def test_a_minute_of_clock_skew_is_allowed(person):
    assert add(person, "check_in", NOW + timedelta(seconds=50)).pk


def test_event_inside_an_existing_pair_is_refused(person, day_pair):
    for kind in ("check_in", "check_out"):
        refused(
            EventConflict, "event_overlaps", lambda k=kind: add(person, k, T0 + timedelta(hours=2))
        )


def test_event_at_the_same_instant_is_refused(person, day_pair):
    refused(EventConflict, "event_overlaps", lambda: add(person, "check_in", T0))


def test_two_check_ins_in_a_row_are_refused(person):
    add(person, "check_in", T0)
    refused(
        EventConflict,
        "already_checked_in",
        lambda: add(person, "check_in", T0 + timedelta(hours=1)),
    )
    refused(
        EventConflict, "not_alternating", lambda: add(person, "check_in", T0 - timedelta(hours=1))
    )


def test_check_out_after_check_out_is_refused(person, day_pair):
    refused(
        EventConflict,
        "check_out_without_check_in",
        lambda: add(person, "check_out", T0 + timedelta(hours=9)),
    )


def test_naive_datetime_wrong_kind_and_missing_reason_are_refused(person):
    refused(
        InvalidEvent, "naive_datetime", lambda: add(person, "check_in", datetime(2026, 1, 5, 8))
    )
    refused(InvalidEvent, "invalid_kind", lambda: add(person, "lunch", T0))
    refused(EventRuleViolation, "reason_required", lambda: add(person, "check_in", T0, reason="  "))


def test_pair_inserted_in_an_earlier_gap(person, day_pair):
    earlier = T0 - timedelta(days=2)
    refused(EventConflict, "not_alternating", lambda: add(person, "check_in", earlier))
    add_manual_pair(person, earlier, earlier + timedelta(hours=3), "paper sheet", None, now=NOW)
    assert (
        AttendanceDay.objects.get(person=person, work_date=date(2026, 1, 3)).worked_minutes == 180
    )
    assert not PersonAttendanceState.objects.get(person=person).is_in


def test_void_keeps_the_row_and_voids_the_check_out_too(person, hr_manager, day_pair):
    check_in, check_out = day_pair
    voided = void_event(check_in, "wrong person", hr_manager, now=NOW)
    assert [e.pk for e in voided] == [check_in.pk, check_out.pk]
    for event in (check_in, check_out):
        event.refresh_from_db()
        assert (event.voided_by, event.void_reason) == (hr_manager, "wrong person")
        assert event.voided_at == NOW
    assert AttendanceEvent.objects.filter(person=person).count() == 2
    updates = AuditLog.objects.filter(object_type="attendance.attendanceevent", action="update")
    assert updates.count() == 2
    assert not AttendanceDay.objects.filter(person=person, worked_minutes__gt=0).exists()


def test_void_twice_is_refused(person, hr_manager, day_pair):
    void_event(day_pair[0], "wrong", hr_manager, now=NOW)
    refused(EventConflict, "already_voided", lambda: void_event(day_pair[0], "again", hr_manager))


def test_correcting_a_check_out_voids_then_re_adds(person, hr_manager, day_pair):
    _check_in, check_out = day_pair
    void_event(check_out, "left later", hr_manager, now=NOW)
    assert PersonAttendanceState.objects.get(person=person).is_in
    day = AttendanceDay.objects.get(person=person, work_date=date(2026, 1, 5))
    assert day.status == "incomplete"
    add(person, "check_out", T0 + timedelta(hours=9), hr_manager)
    day.refresh_from_db()
    assert (day.status, day.worked_minutes) == ("present", 540)


def test_close_yesterday_writes_absences_and_holidays(person):
    schedule = make_schedule(intervals=[(d, time(8), time(16)) for d in range(5)])
    assign(person, schedule)
    other = make_person("E2")
    assign(other, schedule)
    Holiday.objects.create(date=date(2026, 1, 6), name="Epiphany")
    add(other, "check_in", T0)
    add(other, "check_out", T0 + timedelta(hours=8))
    close_yesterday(now=utc(2026, 1, 6, 1))  # Tue 02:00 Berlin: yesterday is Monday
    assert AttendanceDay.objects.get(person=person, work_date=date(2026, 1, 5)).status == "absent"
    assert AttendanceDay.objects.get(person=other, work_date=date(2026, 1, 5)).status == "present"
    close_yesterday(now=utc(2026, 1, 7, 1))
    assert AttendanceDay.objects.get(person=person, work_date=date(2026, 1, 6)).status == "holiday"
    unscheduled = make_person("E3")
    close_yesterday(now=utc(2026, 1, 7, 1))
    assert not AttendanceDay.objects.filter(person=unscheduled).exists()


def test_pair_around_an_existing_pair_is_refused(person, day_pair):
    refused(
        EventConflict,
        "event_overlaps",
        lambda: add_manual_pair(
            person, T0 - timedelta(hours=1), T0 + timedelta(hours=9), "x", None, now=NOW
        ),
    )


def test_pair_with_check_out_first_is_refused(person):
    refused(
        EventRuleViolation,
        "check_out_before_check_in",
        lambda: add_manual_pair(person, T0, T0 - timedelta(hours=1), "x", None, now=NOW),
    )


def test_deleting_a_person_with_attendance_is_a_conflict_not_a_500(person, hr_manager, day_pair):
    from conftest import client_for

    response = client_for(hr_manager).delete(f"/api/v1/people/{person.pk}")
    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == "in_use"
    assert AttendanceEvent.objects.filter(person=person).count() == 2
