"""A day's numbers and status from its events, per shared/design/attendance.md."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from attendance.days import compute_day
from attendance.timeline import IntervalSpec, ScheduleSpec

MONDAY = date(2026, 1, 5)
LATER = datetime(2026, 2, 1, tzinfo=UTC)


@dataclass
class Ev:
    kind: str
    at: datetime
    voided_at: datetime | None = None


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def day_spec(**fields) -> ScheduleSpec:
    # Mon-Fri 08:00-16:00 Berlin (07:00-15:00 UTC in January).
    intervals = tuple(IntervalSpec(d, time(8), time(16)) for d in range(5))
    return ScheduleSpec("Europe/Berlin", intervals, **fields)


def pair(h_in: float, h_out: float | None, day: int = 5) -> list[Ev]:
    def at(h: float) -> datetime:
        return utc(2026, 1, day, int(h), round((h % 1) * 60))

    events = [Ev("check_in", at(h_in))]
    if h_out is not None:
        events.append(Ev("check_out", at(h_out)))
    return events


def test_present_day_with_break_past_threshold():
    day = compute_day(pair(7, 15), day_spec(break_minutes=30), MONDAY, set(), LATER)
    assert day.worked_minutes == 480 - 30
    assert day.scheduled_minutes == 480
    assert (day.late_minutes, day.early_leave_minutes, day.overtime_minutes) == (0, 0, 0)
    assert day.status == "present"
    assert not day.is_open


def test_break_not_deducted_under_threshold():
    day = compute_day(pair(7, 10), day_spec(break_minutes=30), MONDAY, set(), LATER)
    assert day.worked_minutes == 180
    assert day.early_leave_minutes == 300


def test_late_only_past_the_grace():
    within = compute_day(pair(7.1, 15), day_spec(late_grace_minutes=10), MONDAY, set(), LATER)
    assert within.late_minutes == 0
    assert within.status == "present"
    late = compute_day(pair(7.25, 15), day_spec(late_grace_minutes=10), MONDAY, set(), LATER)
    assert late.late_minutes == 15
    assert late.status == "late"


def test_early_leave_only_past_the_grace():
    spec = day_spec(early_grace_minutes=5)
    assert compute_day(pair(7, 14.95), spec, MONDAY, set(), LATER).early_leave_minutes == 0
    assert compute_day(pair(7, 14.5), spec, MONDAY, set(), LATER).early_leave_minutes == 30


def test_overtime_is_worked_minus_scheduled():
    day = compute_day(pair(7, 17), day_spec(), MONDAY, set(), LATER)
    assert day.worked_minutes == 600
    assert day.overtime_minutes == 120


def test_off_day_work_is_all_overtime():
    saturday = date(2026, 1, 10)
    day = compute_day(pair(9, 12, day=10), day_spec(), saturday, set(), LATER)
    assert (day.scheduled_minutes, day.worked_minutes, day.overtime_minutes) == (0, 180, 180)
    assert day.status == "present"


def test_holiday_with_attendance_is_overtime_and_without_is_holiday():
    worked = compute_day(pair(7, 10), day_spec(), MONDAY, {MONDAY}, LATER)
    assert (worked.scheduled_minutes, worked.overtime_minutes, worked.late_minutes) == (0, 180, 0)
    assert worked.status == "present"
    assert compute_day([], day_spec(), MONDAY, {MONDAY}, LATER).status == "holiday"


def test_off_and_absent_and_not_yet():
    saturday = date(2026, 1, 10)
    assert compute_day([], day_spec(), saturday, set(), LATER).status == "off"
    assert compute_day([], day_spec(), MONDAY, set(), LATER).status == "absent"
    assert compute_day([], day_spec(), MONDAY, set(), utc(2026, 1, 5, 12)) is None


def test_open_pair_is_incomplete_and_not_worked():
    events = pair(7, 9) + pair(10, None)
    day = compute_day(events, day_spec(), MONDAY, set(), LATER)
    assert day.status == "incomplete"
    assert day.is_open
    assert day.worked_minutes == 120
    assert day.early_leave_minutes == 0


def test_voided_events_are_left_out():
    events = pair(7, 15)
    events[1].voided_at = LATER
    day = compute_day(events, day_spec(), MONDAY, set(), LATER)
    assert day.status == "incomplete"
    assert day.worked_minutes == 0


def test_several_pairs_sum_and_first_in_last_out():
    events = pair(7, 11) + pair(11.5, 15)
    day = compute_day(events, day_spec(break_minutes=30), MONDAY, set(), LATER)
    assert day.worked_minutes == 240 + 210 - 30  # past the threshold: the break is deducted
    assert (day.first_in, day.last_out) == (utc(2026, 1, 5, 7), utc(2026, 1, 5, 15))


def test_night_shift_pair_counts_to_the_day_it_began():
    spec = ScheduleSpec("Europe/Berlin", (IntervalSpec(0, time(22), time(6)),))
    events = [Ev("check_in", utc(2026, 1, 5, 21)), Ev("check_out", utc(2026, 1, 6, 5, 10))]
    monday = compute_day(events, spec, MONDAY, set(), LATER)
    assert monday.worked_minutes == 490
    assert monday.overtime_minutes == 10
    assert monday.status == "present"
    assert compute_day(events, spec, date(2026, 1, 6), set(), LATER).status == "off"


def test_dst_days_worked_minutes_are_real_elapsed_time():
    spec = ScheduleSpec("Europe/Berlin", tuple(IntervalSpec(6, time(0), time(0)) for _ in [0]))
    spring = [Ev("check_in", utc(2026, 3, 28, 23)), Ev("check_out", utc(2026, 3, 29, 21, 59))]
    day = compute_day(spring, spec, date(2026, 3, 29), set(), LATER)
    assert day.scheduled_minutes == 23 * 60
    assert day.worked_minutes == 23 * 60 - 1
    autumn = [Ev("check_in", utc(2026, 10, 24, 22)), Ev("check_out", utc(2026, 10, 25, 23))]
    day = compute_day(autumn, spec, date(2026, 10, 25), set(), LATER)
    assert day.scheduled_minutes == 25 * 60
    assert day.worked_minutes == 25 * 60
    assert day.overtime_minutes == 0
