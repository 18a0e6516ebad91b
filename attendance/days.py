"""A person's work date computed from their events alone.

``compute_day`` is pure: given events (any window that holds the day's pairs), the
schedule, the date, the holidays and the current instant, it returns the day's numbers
and status exactly as ``shared/design/attendance.md`` defines them. Because the stored
``AttendanceDay`` is always this function of the events, recomputing from scratch and
keeping days up to date event by event cannot disagree (``tests/test_days_property.py``).

A pair (a check-in and the check-out that follows it) belongs to the work date of its
check-in, so a night shift's 06:10 check-out counts to the day the shift began.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from attendance.timeline import (
    ScheduleSpec,
    day_end,
    minutes_between,
    scheduled_minutes,
    slots_for,
    work_date_for,
)

CHECK_IN = "check_in"
CHECK_OUT = "check_out"


class EventLike(Protocol):
    """What ``compute_day`` reads of an event (a model row or a test double)."""

    kind: str
    at: datetime
    voided_at: datetime | None


@dataclass(frozen=True)
class Pair:
    """A check-in and its check-out; ``check_out`` is None while the pair is open."""

    check_in: datetime
    check_out: datetime | None

    @property
    def minutes(self) -> int:
        """The pair's worked minutes; an open pair has none yet."""
        return 0 if self.check_out is None else minutes_between(self.check_in, self.check_out)


@dataclass(frozen=True)
class DayNumbers:
    """Everything an ``AttendanceDay`` row stores besides its keys."""

    first_in: datetime | None
    last_out: datetime | None
    worked_minutes: int
    scheduled_minutes: int
    late_minutes: int
    early_leave_minutes: int
    overtime_minutes: int
    status: str
    is_open: bool


def pair_events(events: Iterable[EventLike]) -> list[Pair]:
    """Voided events left out, in time order: each check-in opens a pair and the next
    check-out closes it. A check-in while one is open leaves that one open for good (it
    was never closed), and a check-out with nothing open closes nothing."""
    pairs: list[Pair] = []
    open_at: datetime | None = None
    for event in sorted((e for e in events if e.voided_at is None), key=lambda e: e.at):
        if event.kind == CHECK_IN:
            if open_at is not None:
                pairs.append(Pair(open_at, None))
            open_at = event.at
        elif event.kind == CHECK_OUT and open_at is not None:
            pairs.append(Pair(open_at, event.at))
            open_at = None
    if open_at is not None:
        pairs.append(Pair(open_at, None))
    return pairs


def pairs_of_day(events: Iterable[EventLike], spec: ScheduleSpec, work_date: date) -> list[Pair]:
    """The pairs whose check-in falls on ``work_date``."""
    return [p for p in pair_events(events) if work_date_for(spec, p.check_in) == work_date]


def _worked(pairs: list[Pair], spec: ScheduleSpec) -> int:
    total = sum(pair.minutes for pair in pairs)
    if spec.break_minutes and total > spec.break_threshold_minutes:
        total -= spec.break_minutes
    return max(total, 0)


def _late(first_in: datetime | None, first_start: datetime | None, grace: int) -> int:
    if first_in is None or first_start is None:
        return 0
    late = minutes_between(first_start, first_in)
    return late if late > grace else 0


def _early(last_out: datetime | None, last_end: datetime | None, grace: int) -> int:
    if last_out is None or last_end is None:
        return 0
    early = minutes_between(last_out, last_end)
    return early if early > grace else 0


def _status(
    *, attended: bool, holiday: bool, scheduled: int, is_open: bool, ended: bool, late: int
) -> str | None:
    if holiday and not attended:
        return "holiday"
    if scheduled == 0 and not attended:
        return "off"
    if is_open:
        return "incomplete"
    if not attended:
        return "absent" if ended else None
    if late > 0:
        return "late"
    return "present"


def compute_day(
    events: Iterable[EventLike],
    spec: ScheduleSpec,
    work_date: date,
    holidays: Container[date],
    now: datetime,
) -> DayNumbers | None:
    """The day's numbers and status, or None when there is nothing to record yet (a
    working day with no attendance that has not ended: not absent yet)."""
    pairs = pairs_of_day(events, spec, work_date)
    holiday = work_date in holidays
    slots = [] if holiday else slots_for(spec, work_date)
    scheduled = scheduled_minutes(slots)
    closed = [pair for pair in pairs if pair.check_out is not None]
    is_open = len(closed) < len(pairs)
    first_in = pairs[0].check_in if pairs else None
    last_out = max((pair.check_out for pair in closed), default=None)
    worked = _worked(closed, spec)
    late = _late(first_in, slots[0].start if slots else None, spec.late_grace_minutes)
    early = (
        0
        if is_open
        else _early(last_out, max((s.end for s in slots), default=None), spec.early_grace_minutes)
    )
    status = _status(
        attended=bool(pairs),
        holiday=holiday,
        scheduled=scheduled,
        is_open=is_open,
        ended=now >= day_end(spec, work_date),
        late=late,
    )
    if status is None:
        return None
    return DayNumbers(
        first_in=first_in,
        last_out=last_out,
        worked_minutes=worked,
        scheduled_minutes=scheduled,
        late_minutes=late,
        early_leave_minutes=early,
        overtime_minutes=max(worked - scheduled, 0),
        status=status,
        is_open=is_open,
    )
