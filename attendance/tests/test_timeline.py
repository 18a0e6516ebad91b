"""Schedules as UTC instants and work dates, across midnight and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from attendance.timeline import (
    IntervalSpec,
    ScheduleSpec,
    day_end,
    scheduled_minutes,
    slots_for,
    wall_to_utc,
    work_date_for,
)

BERLIN = ZoneInfo("Europe/Berlin")
SPRING = date(2026, 3, 29)  # last Sunday of March: 02:00 -> 03:00
AUTUMN = date(2026, 10, 25)  # last Sunday of October: 03:00 -> 02:00


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def every_day(start: time, end: time) -> tuple[IntervalSpec, ...]:
    return tuple(IntervalSpec(weekday, start, end) for weekday in range(7))


def test_nonexistent_wall_time_moves_to_first_valid_minute():
    assert wall_to_utc(SPRING, time(2, 30), BERLIN) == utc(2026, 3, 29, 1, 0)  # 03:00 CEST


def test_ambiguous_wall_time_takes_first_occurrence():
    assert wall_to_utc(AUTUMN, time(2, 30), BERLIN) == utc(2026, 10, 25, 0, 30)  # CEST


def test_ordinary_times_convert_with_the_season_offset():
    assert wall_to_utc(date(2026, 1, 5), time(8), BERLIN) == utc(2026, 1, 5, 7)
    assert wall_to_utc(date(2026, 7, 6), time(8), BERLIN) == utc(2026, 7, 6, 6)


def test_night_shift_crosses_midnight():
    spec = ScheduleSpec("Europe/Berlin", (IntervalSpec(0, time(22), time(6)),))
    (slot,) = slots_for(spec, date(2026, 1, 5))  # a Monday
    assert (slot.start, slot.end) == (utc(2026, 1, 5, 21), utc(2026, 1, 6, 5))
    assert slot.minutes == 480
    assert slots_for(spec, date(2026, 1, 6)) == []


def test_night_shift_over_dst_changes_is_seven_or_nine_hours():
    spec = ScheduleSpec("Europe/Berlin", every_day(time(22), time(6)))
    assert scheduled_minutes(slots_for(spec, SPRING - timedelta(days=1))) == 7 * 60
    assert scheduled_minutes(slots_for(spec, AUTUMN - timedelta(days=1))) == 9 * 60


def test_whole_day_schedule_on_dst_sundays_is_23_and_25_hours():
    spec = ScheduleSpec("Europe/Berlin", every_day(time(0), time(0)))
    assert scheduled_minutes(slots_for(spec, SPRING)) == 23 * 60
    assert scheduled_minutes(slots_for(spec, AUTUMN)) == 25 * 60


def test_work_date_of_a_night_shift_check_out_is_the_day_it_began():
    spec = ScheduleSpec("Europe/Berlin", (IntervalSpec(0, time(22), time(6)),))
    assert work_date_for(spec, utc(2026, 1, 6, 4, 30)) == date(2026, 1, 5)  # Tue 05:30
    assert work_date_for(spec, utc(2026, 1, 5, 20, 30)) == date(2026, 1, 5)  # Mon 21:30


def test_work_date_outside_intervals_takes_nearest_start_within_six_hours():
    spec = ScheduleSpec("Europe/Berlin", (IntervalSpec(1, time(8), time(12)),))  # Tuesdays
    # Tue 03:00 local: 5 h before Tuesday's start.
    assert work_date_for(spec, utc(2026, 1, 6, 2)) == date(2026, 1, 6)
    # Mon 23:30 local: 8.5 h before it, beyond the window: its own calendar date.
    assert work_date_for(spec, utc(2026, 1, 5, 22, 30)) == date(2026, 1, 5)
    # Tue 17:30 local: 9.5 h after the start: own date (Tuesday anyway).
    assert work_date_for(spec, utc(2026, 1, 6, 16, 30)) == date(2026, 1, 6)


def test_work_date_before_a_next_day_interval_counts_to_that_day():
    spec = ScheduleSpec("Europe/Berlin", (IntervalSpec(1, time(1), time(9)),))  # Tue 01:00
    assert work_date_for(spec, utc(2026, 1, 5, 22)) == date(2026, 1, 6)  # Mon 23:00 local


def test_work_date_without_intervals_is_the_local_calendar_date():
    spec = ScheduleSpec("Europe/Berlin")
    assert work_date_for(spec, utc(2026, 1, 5, 23, 30)) == date(2026, 1, 6)


def test_day_end_is_midnight_or_the_night_slot_end():
    spec = ScheduleSpec("Europe/Berlin", (IntervalSpec(0, time(22), time(6)),))
    assert day_end(spec, date(2026, 1, 5)) == utc(2026, 1, 6, 5)
    assert day_end(spec, date(2026, 1, 6)) == utc(2026, 1, 6, 23)
