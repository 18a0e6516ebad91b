"""Schedules turned into UTC instants, and the work date an instant belongs to.

Pure functions over ``ScheduleSpec`` (no ORM), so the daylight-saving rules of
``shared/design/attendance.md`` are tested on their own: wall-clock times of a schedule
become UTC per date with ``zoneinfo``; a wall time that does not exist on a date moves
forward to the first valid minute, an ambiguous one takes its first occurrence (fold 0).
Durations are always differences of UTC instants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

NEAREST_INTERVAL_WINDOW = timedelta(hours=6)
DEFAULT_MAX_SHIFT_MINUTES = 960
DEFAULT_BREAK_THRESHOLD_MINUTES = 360


@dataclass(frozen=True)
class IntervalSpec:
    """A weekly working interval: weekday 0 (Monday) to 6, wall-clock start and end."""

    weekday: int
    start: time
    end: time


@dataclass(frozen=True)
class ScheduleSpec:
    """What the pure functions need of a schedule (``schedules.spec_of`` builds it)."""

    time_zone: str
    intervals: tuple[IntervalSpec, ...] = ()
    punch_mode: str = "toggle"
    late_grace_minutes: int = 0
    early_grace_minutes: int = 0
    break_minutes: int = 0
    break_threshold_minutes: int = DEFAULT_BREAK_THRESHOLD_MINUTES
    max_shift_minutes: int = DEFAULT_MAX_SHIFT_MINUTES
    schedule_id: int | None = field(default=None, compare=False)

    @property
    def zone(self) -> ZoneInfo:
        """The schedule's zone, loaded once per name."""
        return _zone(self.time_zone)

    @property
    def has_schedule(self) -> bool:
        """False for the stand-in used for people with no schedule assigned."""
        return self.schedule_id is not None or bool(self.intervals)


@dataclass(frozen=True)
class Slot:
    """One scheduled interval on one work date, as UTC instants."""

    work_date: date
    start: datetime
    end: datetime

    @property
    def minutes(self) -> int:
        """The slot's length: a night slot over a clock change is an hour longer or shorter."""
        return minutes_between(self.start, self.end)

    def contains(self, instant: datetime) -> bool:
        """Half-open, so an instant at a shared boundary belongs to the slot it starts."""
        return self.start <= instant < self.end


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def minutes_between(start: datetime, end: datetime) -> int:
    """Whole minutes from ``start`` to ``end`` (UTC difference, rounded down)."""
    return int((end - start).total_seconds() // 60)


def _exists(naive: datetime, zone: ZoneInfo) -> bool:
    aware = naive.replace(tzinfo=zone, fold=0)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive


def wall_to_utc(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock ``wall`` on ``day`` in ``zone``.

    A wall time skipped by a spring-forward change moves forward to the first valid
    minute; an ambiguous one in a fall-back change is its first occurrence.
    """
    naive = datetime.combine(day, wall.replace(tzinfo=None))
    for _ in range(24 * 60):
        if _exists(naive, zone):
            return naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
        naive = (naive + timedelta(minutes=1)).replace(second=0, microsecond=0)
    raise ValueError(f"No valid wall time near {day} {wall} in {zone}")


def local_day_start(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant of the first valid minute of ``day`` in ``zone``."""
    return wall_to_utc(day, time(0, 0), zone)


def local_date(instant: datetime, zone: ZoneInfo) -> date:
    """The calendar date of an aware instant in ``zone``."""
    return instant.astimezone(zone).date()


def slots_for(spec: ScheduleSpec, day: date) -> list[Slot]:
    """The schedule's intervals on local ``day`` as UTC instants, earliest first."""
    zone = spec.zone
    slots = []
    for interval in spec.intervals:
        if interval.weekday != day.weekday():
            continue
        end_day = day + timedelta(days=1) if interval.end <= interval.start else day
        slots.append(
            Slot(
                day,
                wall_to_utc(day, interval.start, zone),
                wall_to_utc(end_day, interval.end, zone),
            )
        )
    return sorted(slots, key=lambda slot: (slot.start, slot.end))


def scheduled_minutes(slots: list[Slot]) -> int:
    """The sum of the slots' lengths."""
    return sum(slot.minutes for slot in slots)


def slot_for(spec: ScheduleSpec, instant: datetime) -> Slot | None:
    """The scheduled interval ``instant`` belongs to: the one it falls in, else the one
    whose start is nearest (before or after) within 6 hours, else none."""
    if not spec.intervals:
        return None
    today = local_date(instant, spec.zone)
    candidates = [
        slot for offset in (-1, 0, 1) for slot in slots_for(spec, today + timedelta(days=offset))
    ]
    for slot in candidates:
        if slot.contains(instant):
            return slot
    nearest = min(
        candidates, key=lambda slot: (abs(slot.start - instant), slot.start), default=None
    )
    if nearest is not None and abs(nearest.start - instant) <= NEAREST_INTERVAL_WINDOW:
        return nearest
    return None


def work_date_for(spec: ScheduleSpec, instant: datetime) -> date:
    """The work date of an instant: its interval's local date, else its own local date."""
    slot = slot_for(spec, instant)
    return slot.work_date if slot is not None else local_date(instant, spec.zone)


def day_end(spec: ScheduleSpec, work_date: date) -> datetime:
    """When a work date is over: local midnight after it, or its last slot's end if later."""
    midnight = local_day_start(work_date + timedelta(days=1), spec.zone)
    ends = [slot.end for slot in slots_for(spec, work_date)]
    return max([midnight, *ends])


def event_window(spec: ScheduleSpec, work_date: date) -> tuple[datetime, datetime]:
    """UTC bounds that hold every instant whose work date is ``work_date``.

    An instant belongs to a slot of its date (which ends before local midnight two days
    on), lies within 6 hours of one's start, or is on the date itself.
    """
    zone = spec.zone
    return (
        local_day_start(work_date - timedelta(days=1), zone),
        local_day_start(work_date + timedelta(days=2), zone),
    )
