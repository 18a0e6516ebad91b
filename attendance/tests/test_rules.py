"""The pure sighting rules: direction, punch modes, cooldown, inactive people."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from attendance.rules import LastPair, PersonState, Sighting, decide

T0 = datetime(2026, 1, 5, 7, tzinfo=UTC)
DAY = date(2026, 1, 5)
COOLDOWN = timedelta(seconds=120)


def state(**fields) -> PersonState:
    fields.setdefault("active", True)
    fields.setdefault("is_in", False)
    return PersonState(**fields)


def sighting(direction: str | None, at: datetime = T0, **fields) -> Sighting:
    return Sighting(at=at, direction=direction, work_date=fields.pop("work_date", DAY), **fields)


def outcome(st: PersonState, si: Sighting) -> tuple[str, str | None, int | None]:
    d = decide(st, si, COOLDOWN)
    return d.outcome, d.create, d.void_event_id


def test_entry_checks_in_and_ignores_when_already_in():
    assert outcome(state(), sighting("entry")) == ("created_check_in", "check_in", None)
    assert outcome(state(is_in=True), sighting("entry"))[0] == "already_in"


def test_exit_checks_out_and_ignores_when_not_in():
    assert outcome(state(is_in=True), sighting("exit")) == ("created_check_out", "check_out", None)
    assert outcome(state(), sighting("exit"))[0] == "not_checked_in"


def test_both_toggle_alternates():
    assert outcome(state(), sighting("both"))[:2] == ("created_check_in", "check_in")
    assert outcome(state(is_in=True), sighting("both"))[:2] == ("created_check_out", "check_out")


def test_cooldown_across_cameras_from_last_counted_sighting():
    recent = state(is_in=True, last_counted_sighting_at=T0 - timedelta(seconds=5))
    assert outcome(recent, sighting("exit"))[0] == "cooldown"
    past = state(is_in=True, last_counted_sighting_at=T0 - COOLDOWN)
    assert outcome(past, sighting("exit"))[0] == "created_check_out"


def test_cooldown_covers_a_sighting_older_than_the_last_counted_one():
    st = state(is_in=True, last_counted_sighting_at=T0 + timedelta(seconds=30))
    assert outcome(st, sighting("exit"))[0] == "cooldown"


def test_sighting_not_after_latest_event_is_out_of_order():
    st = state(is_in=True, last_event_at=T0 + timedelta(minutes=10))
    assert outcome(st, sighting("exit"))[0] == "out_of_order"


def test_inactive_person_and_missing_camera_come_first():
    assert outcome(state(active=False), sighting("entry"))[0] == "inactive_person"
    assert outcome(state(), sighting(None))[0] == "no_camera"


def test_first_last_first_sighting_checks_in_and_later_ones_check_out():
    assert outcome(state(), sighting("both", punch_mode="first_last"))[0] == "created_check_in"
    st = state(is_in=True)
    assert outcome(st, sighting("both", punch_mode="first_last"))[0] == "created_check_out"


def test_first_last_moves_the_days_camera_check_out():
    last = LastPair(T0 - timedelta(hours=4), DAY, check_out_id=42, check_out_is_camera=True)
    st = state(last_pair=last)
    assert outcome(st, sighting("both", punch_mode="first_last")) == (
        "moved_check_out",
        "check_out",
        42,
    )


def test_first_last_keeps_a_check_out_set_by_hand():
    last = LastPair(T0 - timedelta(hours=4), DAY, check_out_id=42, check_out_is_camera=False)
    assert outcome(state(last_pair=last), sighting("both", punch_mode="first_last"))[0] == (
        "day_closed"
    )


def test_first_last_new_work_date_checks_in_again():
    last = LastPair(
        T0 - timedelta(hours=24), DAY - timedelta(days=1), check_out_id=42, check_out_is_camera=True
    )
    assert outcome(state(last_pair=last), sighting("both", punch_mode="first_last"))[0] == (
        "created_check_in"
    )


def test_first_last_night_shift_sighting_after_midnight_still_moves():
    last = LastPair(T0 - timedelta(hours=8), DAY - timedelta(days=1), 7, check_out_is_camera=True)
    assert outcome(state(last_pair=last), sighting("both", punch_mode="first_last"))[0] == (
        "moved_check_out"
    )
