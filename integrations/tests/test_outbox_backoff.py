"""Transport failures of one row, against the emulator while it is down: the delay to
the next attempt doubles from 2 s with jitter in the upper half of its interval, up to
the 60 s cap, and the row is parked (``gave_up``) only 24 hours after its first try."""

import datetime as dt
import random
from types import SimpleNamespace

import pytest
from django.utils import timezone

from integrations.models import OdooOutbox, OutboxState
from integrations.odoo import outbox
from integrations.sync import push_attendance
from integrations.tests.test_outbox import event, linked_person

pytestmark = pytest.mark.django_db(transaction=True)


def failing_row(emulator):
    person, _employee = linked_person(emulator)
    event(person, "check_in", 0)
    emulator.down()
    return OdooOutbox.objects.get()


def push_at(moment):
    push_attendance(clock=lambda: moment)


def test_successive_failures_grow_the_delay_exponentially_to_the_cap(
    emulator, connection, monkeypatch
):
    intervals = []

    def uniform(low, high):
        intervals.append((low, high))
        return random.uniform(low, high)

    monkeypatch.setattr(outbox, "random", SimpleNamespace(uniform=uniform))
    row = failing_row(emulator)
    start = now = timezone.now()
    delays = []
    for attempt in range(1, 10):
        push_at(now)
        row.refresh_from_db()
        assert (row.state, row.outcome, row.attempts) == (
            OutboxState.PENDING,
            "retrying",
            attempt,
        )
        delays.append((row.next_attempt_at - now).total_seconds())
        push_at(row.next_attempt_at - dt.timedelta(milliseconds=1))  # not due yet
        row.refresh_from_db()
        assert row.attempts == attempt
        now = row.next_attempt_at
    ceilings = [2, 4, 8, 16, 32, 60, 60, 60, 60]
    assert intervals == [(c / 2, c) for c in ceilings]
    for delay, ceiling in zip(delays, ceilings, strict=True):
        assert ceiling / 2 <= delay <= ceiling
    assert row.first_attempt_at == start


def test_a_row_is_pending_just_before_a_day_of_failures_and_parked_after(emulator, connection):
    row = failing_row(emulator)
    start = timezone.now()
    push_at(start)
    just_before = start + outbox.GIVE_UP_AFTER - dt.timedelta(seconds=1)
    push_at(just_before)
    row.refresh_from_db()
    assert (row.state, row.outcome, row.attempts) == (OutboxState.PENDING, "retrying", 2)
    assert row.first_attempt_at == start
    retry_at = row.next_attempt_at
    assert start + outbox.GIVE_UP_AFTER <= retry_at <= just_before + dt.timedelta(seconds=4)
    push_at(retry_at)
    row.refresh_from_db()
    assert (row.state, row.outcome, row.attempts) == (OutboxState.FAILED, "gave_up", 3)
    assert row.next_attempt_at is None and row.last_error
    push_at(retry_at + dt.timedelta(hours=1))
    row.refresh_from_db()
    assert (row.state, row.attempts) == (OutboxState.FAILED, 3)  # parked: not tried again
