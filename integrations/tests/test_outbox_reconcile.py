"""The README's reconcile rules for Odoo's validity errors that test_outbox.py leaves out,
against the emulator over HTTP: each row's recorded outcome and state, and exactly what
Odoo holds afterwards."""

import pytest
from django.utils import timezone

from attendance.events import void_event
from integrations.models import OdooEmployeeLink, OdooOutbox, OdooRunLock, OutboxState
from integrations.odoo import outbox
from integrations.sync import push_attendance
from integrations.tests.test_outbox import (
    attendances,
    event,
    linked_person,
    odoo_calls,
    odoo_time,
)

pytestmark = pytest.mark.django_db(transaction=True)


def hand_made(emulator, employee, check_in, check_out=None):
    """An attendance entered in Odoo by someone else (its rules apply)."""
    vals = {"employee_id": employee, "check_in": odoo_time(check_in)}
    if check_out is not None:
        vals["check_out"] = odoo_time(check_out)
    (created,) = emulator.store.create("hr.attendance", [vals])
    return created


def outcome_of(row):
    row.refresh_from_db()
    return row.state, row.outcome


def test_check_in_inside_an_attendance_entered_in_odoo_is_a_conflict(emulator, connection):
    person, employee = linked_person(emulator)
    hand_made(emulator, employee, -60, 60)
    event(person, "check_in", 0)
    push_attendance()
    row = OdooOutbox.objects.get()
    assert outcome_of(row) == (OutboxState.FAILED, "conflict")
    assert "already checked in on" in row.last_error
    assert row.odoo_id is None
    assert attendances(emulator, employee) == [(odoo_time(-60), odoo_time(60))]


def test_already_checked_in_is_not_resolved_by_closing_the_open_attendance(emulator, connection):
    """Odoo says "already checked in" (not "hasn't checked out since") while an open
    attendance that is not ours started before ours: no rule applies, nothing changes."""
    person, employee = linked_person(emulator)
    hand_made(emulator, employee, -120)
    hand_made(emulator, employee, -60, 60)
    event(person, "check_in", 0)
    push_attendance()
    row = OdooOutbox.objects.get()
    assert outcome_of(row) == (OutboxState.FAILED, "conflict")
    assert "already checked in on" in row.last_error
    assert attendances(emulator, employee) == [
        (odoo_time(-120), False),
        (odoo_time(-60), odoo_time(60)),
    ]


def test_check_out_odoo_already_has_is_already_checked_out(emulator, connection):
    person, employee = linked_person(emulator)
    event(person, "check_in", 0)
    push_attendance()
    attendance = OdooOutbox.objects.get().odoo_id
    emulator.write_raw("hr.attendance", attendance, {"check_out": odoo_time(60)})
    event(person, "check_out", 60)
    writes = odoo_calls(emulator, "write")
    push_attendance()
    row = OdooOutbox.objects.get(kind="check_out")
    assert outcome_of(row) == (OutboxState.SENT, "already_checked_out")
    assert row.odoo_id == attendance
    assert odoo_calls(emulator, "write") == writes  # nothing written again
    assert attendances(emulator, employee) == [(odoo_time(0), odoo_time(60))]


def unlinked_check_in(emulator, name="Ann Lee"):
    """A check-in made before the person was linked (skipped), then the link."""
    person, employee = linked_person(emulator, name)
    link = OdooEmployeeLink.objects.get(person=person)
    link.delete()
    event(person, "check_in", 0)
    push_attendance()
    assert OdooOutbox.objects.get().outcome == "not_linked"
    OdooEmployeeLink.objects.create(odoo_id=employee, person=person)
    return person, employee


def test_check_out_written_but_not_recorded_is_already_checked_out_next_time(
    emulator, connection, monkeypatch
):
    """A check-out closing the employee's open attendance (its check-in never pushed),
    whose worker died after Odoo wrote it: the next run finds it closed by us."""
    person, employee = unlinked_check_in(emulator)
    opened = hand_made(emulator, employee, -10)
    check_out = event(person, "check_out", 60)
    finish = outbox.OutboxPusher._finish

    def killed(self, row, result):
        raise SystemExit("worker killed")  # after Odoo answered, before our save

    monkeypatch.setattr(outbox.OutboxPusher, "_finish", killed)
    with pytest.raises(SystemExit):
        push_attendance()
    monkeypatch.setattr(outbox.OutboxPusher, "_finish", finish)
    OdooRunLock.objects.update(expires_at=timezone.now())
    assert attendances(emulator, employee) == [(odoo_time(-10), odoo_time(60))]
    push_attendance()
    row = OdooOutbox.objects.get(event=check_out)
    assert outcome_of(row) == (OutboxState.SENT, "already_checked_out")
    assert row.odoo_id == opened
    assert attendances(emulator, employee) == [(odoo_time(-10), odoo_time(60))]


def test_check_out_with_nothing_open_in_odoo_is_a_conflict(emulator, connection):
    person, employee = unlinked_check_in(emulator)
    check_out = event(person, "check_out", 60)
    push_attendance()
    row = OdooOutbox.objects.get(event=check_out)
    assert outcome_of(row) == (OutboxState.FAILED, "conflict")
    assert "no attendance open" in row.last_error
    assert attendances(emulator, employee) == []


def test_check_out_before_the_only_open_attendance_is_a_conflict(emulator, connection):
    person, employee = unlinked_check_in(emulator)
    hand_made(emulator, employee, 90)  # opened in Odoo after our check-out
    check_out = event(person, "check_out", 60)
    push_attendance()
    row = OdooOutbox.objects.get(event=check_out)
    assert outcome_of(row) == (OutboxState.FAILED, "conflict")
    assert attendances(emulator, employee) == [(odoo_time(90), False)]


def test_check_out_of_an_attendance_deleted_in_odoo_is_a_conflict(emulator, connection):
    person, employee = linked_person(emulator)
    event(person, "check_in", 0)
    push_attendance()
    attendance = OdooOutbox.objects.get().odoo_id
    emulator.store.unlink("hr.attendance", [attendance])
    hand_made(emulator, employee, 30)  # an open one of someone else's making is not ours
    check_out = event(person, "check_out", 60)
    push_attendance()
    row = OdooOutbox.objects.get(event=check_out)
    assert outcome_of(row) == (OutboxState.FAILED, "conflict")
    assert f"attendance {attendance} " in row.last_error and "deleted" in row.last_error
    assert odoo_calls(emulator, "write") == 0
    assert attendances(emulator, employee) == [(odoo_time(30), False)]


def test_void_of_a_check_out_changed_in_odoo_leaves_it(emulator, connection):
    person, employee = linked_person(emulator)
    event(person, "check_in", 0)
    check_out = event(person, "check_out", 60)
    push_attendance()
    attendance = OdooOutbox.objects.get(event=check_out).odoo_id
    emulator.write_raw("hr.attendance", attendance, {"check_out": odoo_time(90)})
    writes = odoo_calls(emulator, "write")
    void_event(check_out, "left later", None)
    push_attendance()
    void = OdooOutbox.objects.get(kind="void")
    assert outcome_of(void) == (OutboxState.SENT, "changed_in_odoo_left")
    assert void.odoo_id == attendance
    assert odoo_calls(emulator, "write") == writes
    assert attendances(emulator, employee) == [(odoo_time(0), odoo_time(90))]
