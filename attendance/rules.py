"""What a recognised sighting does: pure decisions, no database.

The service (``attendance.sightings``) loads a person's state under a row lock, asks
``decide`` and carries out the answer. Keeping the rules here, over plain values, lets
every case of ``shared/design/attendance.md`` ("Sightings") be tested without a camera:
the cooldown per person across all cameras, a camera's direction, and the punch modes
of ``both`` cameras (``toggle``; ``first_last``, where later sightings move the day's
check-out).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

ENTRY = "entry"
EXIT = "exit"
BOTH = "both"
TOGGLE = "toggle"
FIRST_LAST = "first_last"
CHECK_IN = "check_in"
CHECK_OUT = "check_out"


@dataclass(frozen=True)
class LastPair:
    """The person's latest closed pair, for ``first_last``: may its check-out move?"""

    check_in_at: datetime
    check_in_work_date: date
    check_out_id: int
    check_out_is_camera: bool


@dataclass(frozen=True)
class PersonState:
    """A person's attendance as the rules need it, read under the person's row lock."""

    active: bool
    is_in: bool
    last_event_at: datetime | None = None
    last_counted_sighting_at: datetime | None = None
    last_pair: LastPair | None = None


@dataclass(frozen=True)
class Sighting:
    """One recognised detection: when, through which kind of door, on which work date
    (which only ``first_last`` at a ``both`` door reads: the service leaves it None
    elsewhere, since working it out costs more than the whole decision)."""

    at: datetime
    direction: str | None
    work_date: date | None = None
    punch_mode: str = TOGGLE
    max_shift: timedelta = timedelta(hours=16)


@dataclass(frozen=True)
class Decision:
    """The outcome to record, the event kind to create (if any), and the event to void
    first (``first_last`` moving the day's check-out)."""

    outcome: str
    create: str | None = None
    void_event_id: int | None = None

    @property
    def counts(self) -> bool:
        """Whether the sighting made an event (and so restarts the cooldown)."""
        return self.create is not None


def _check_in(state: PersonState) -> Decision:
    if state.is_in:
        return Decision("already_in")
    return Decision("created_check_in", CHECK_IN)


def _check_out(state: PersonState) -> Decision:
    if not state.is_in:
        return Decision("not_checked_in")
    return Decision("created_check_out", CHECK_OUT)


def _first_last(state: PersonState, sighting: Sighting) -> Decision:
    if state.is_in:
        return Decision("created_check_out", CHECK_OUT)
    last = state.last_pair
    same_shift = last is not None and (
        last.check_in_work_date == sighting.work_date
        or sighting.at - last.check_in_at <= sighting.max_shift
    )
    if last is None or not same_shift:
        return Decision("created_check_in", CHECK_IN)
    if not last.check_out_is_camera:
        return Decision("day_closed")
    return Decision("moved_check_out", CHECK_OUT, void_event_id=last.check_out_id)


def in_cooldown(state: PersonState, at: datetime, cooldown: timedelta) -> bool:
    """Whether ``at`` is within the cooldown of the person's last counted sighting."""
    last = state.last_counted_sighting_at
    return last is not None and at - last < cooldown


def decide(state: PersonState, sighting: Sighting, cooldown: timedelta) -> Decision:
    """The decision for one sighting, first match wins: an inactive person, no camera,
    the cooldown, a sighting no later than the person's latest event, then the camera's
    direction (``both`` follows the punch mode)."""
    if not state.active:
        return Decision("inactive_person")
    if sighting.direction is None:
        return Decision("no_camera")
    if in_cooldown(state, sighting.at, cooldown):
        return Decision("cooldown")
    if state.last_event_at is not None and sighting.at <= state.last_event_at:
        return Decision("out_of_order")
    if sighting.direction == ENTRY:
        return _check_in(state)
    if sighting.direction == EXIT:
        return _check_out(state)
    if sighting.punch_mode == FIRST_LAST:
        return _first_last(state, sighting)
    return Decision("created_check_out", CHECK_OUT) if state.is_in else _check_in(state)
