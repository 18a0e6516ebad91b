"""The attendance push against the emulator over HTTP: each kind through each transport,
exactly once through an outage, a lost answer and a killed worker, and the README's
reconciliation rules."""

import datetime as dt

import pytest
from django.utils import timezone

from attendance.events import add_manual_event, void_event
from faces.models import Person
from integrations.models import OdooEmployeeLink, OdooOutbox, OutboxState
from integrations.odoo import outbox
from integrations.sync import push_attendance

pytestmark = pytest.mark.django_db(transaction=True)

BASE = timezone.now().replace(microsecond=0) - dt.timedelta(days=2)


def linked_person(emulator, name="Ann Lee"):
    employee = emulator.add_employee(name)
    person = Person.objects.create(employee_code=f"odoo-{employee}", full_name=name)
    OdooEmployeeLink.objects.create(odoo_id=employee, person=person)
    return person, employee


def event(person, kind, minutes):
    return add_manual_event(person, kind, BASE + dt.timedelta(minutes=minutes), "test", None)


def attendances(emulator, employee):
    rows = emulator.records("hr.attendance", [("employee_id", "=", employee)])
    return sorted((r["check_in"], r["check_out"]) for r in rows)


def odoo_time(minutes):
    return (BASE + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S")


def later(seconds):
    return lambda: timezone.now() + dt.timedelta(seconds=seconds)


@pytest.mark.parametrize("protocol", ["xmlrpc", "jsonrpc", "json2"])
def test_check_in_check_out_and_void(emulator, connection, protocol):
    connection.protocol = protocol
    connection.save()
    person, employee = linked_person(emulator)
    check_in = event(person, "check_in", 0)
    event(person, "check_out", 480)
    event(person, "check_in", 1440)
    push_attendance()
    assert attendances(emulator, employee) == [
        (odoo_time(0), odoo_time(480)),
        (odoo_time(1440), False),
    ]
    rows = list(OdooOutbox.objects.order_by("id"))
    assert [r.outcome for r in rows] == ["created", "checked_out", "created"]
    assert rows[0].odoo_id == rows[1].odoo_id
    void_event(check_in, "wrong person", None)
    push_attendance()
    assert attendances(emulator, employee) == [(odoo_time(1440), False)]
    voids = OdooOutbox.objects.filter(kind="void").order_by("id")
    assert [v.outcome for v in voids] == ["unlinked", "already_removed"]
    assert not OdooOutbox.objects.exclude(state=OutboxState.SENT).exists()


def test_event_voided_before_push_never_reaches_odoo(emulator, connection):
    person, employee = linked_person(emulator)
    check_in = event(person, "check_in", 0)
    void_event(check_in, "mistake", None)
    push_attendance()
    assert attendances(emulator, employee) == []
    outcomes = list(OdooOutbox.objects.order_by("id").values_list("state", "outcome"))
    assert outcomes == [("skipped", "voided_before_push"), ("sent", "nothing_to_correct")]


def test_void_of_a_pushed_check_out_reopens(emulator, connection):
    person, employee = linked_person(emulator)
    event(person, "check_in", 0)
    check_out = event(person, "check_out", 60)
    push_attendance()
    void_event(check_out, "forgot to leave", None)
    push_attendance()
    assert attendances(emulator, employee) == [(odoo_time(0), False)]
    assert OdooOutbox.objects.get(kind="void").outcome == "reopened"


def test_outage_then_recovery_every_event_once_in_order(emulator, connection):
    people = [linked_person(emulator, f"P{n}") for n in range(6)]
    emulator.down()
    for step in range(6):  # ten minutes of people coming and going, Odoo down
        for person, _employee in people:
            event(person, "check_in" if step % 2 == 0 else "check_out", step * 100)
        push_attendance()  # None once every head is backing off after a batched try
        assert not OdooOutbox.objects.filter(state=OutboxState.SENT).exists()
    assert OdooOutbox.objects.filter(state=OutboxState.PENDING).count() == 36
    emulator.up()
    push_attendance(clock=later(120))  # within two minutes of Odoo coming back
    assert not OdooOutbox.objects.exclude(state=OutboxState.SENT).exists()
    for _person, employee in people:
        assert attendances(emulator, employee) == [
            (odoo_time(0), odoo_time(100)),
            (odoo_time(200), odoo_time(300)),
            (odoo_time(400), odoo_time(500)),
        ]
    creates = [c for c in emulator.calls if c[1:] == ("hr.attendance", "create")]
    assert len(creates) == 3  # one batch of the six people's check-ins per round


def test_lost_answer_create_is_not_doubled(emulator, connection):
    person, employee = linked_person(emulator)
    event(person, "check_in", 0)
    emulator.inject("lose_answer")
    push_attendance()
    row = OdooOutbox.objects.get()
    assert row.state == OutboxState.PENDING and row.outcome == "retrying" and row.attempts == 1
    assert attendances(emulator, employee) == [(odoo_time(0), False)]  # it did commit
    assert push_attendance() is None  # not due yet: backoff
    push_attendance(clock=later(61))
    row.refresh_from_db()
    assert row.state == OutboxState.SENT and row.outcome == "matched_existing"
    assert attendances(emulator, employee) == [(odoo_time(0), False)]


def test_drain_killed_midway_then_restarted(emulator, connection, monkeypatch):
    person, employee = linked_person(emulator)
    for n in range(6):
        event(person, "check_in" if n % 2 == 0 else "check_out", n * 60)
    finish = outbox.OutboxPusher._finish
    done = []

    def killed_after_three(self, row, result):
        if len(done) == 3:
            raise SystemExit("worker killed")  # after Odoo answered, before our save
        done.append(row.pk)
        finish(self, row, result)

    monkeypatch.setattr(outbox.OutboxPusher, "_finish", killed_after_three)
    with pytest.raises(SystemExit):
        push_attendance()
    monkeypatch.setattr(outbox.OutboxPusher, "_finish", finish)
    from integrations.models import OdooRunLock

    OdooRunLock.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    push_attendance()
    assert not OdooOutbox.objects.exclude(state=OutboxState.SENT).exists()
    assert attendances(emulator, employee) == [
        (odoo_time(0), odoo_time(60)),
        (odoo_time(120), odoo_time(180)),
        (odoo_time(240), odoo_time(300)),
    ]


def test_attendance_opened_by_hand_is_closed_at_our_check_in(emulator, connection):
    person, employee = linked_person(emulator)
    emulator.store.create("hr.attendance", [{"employee_id": employee, "check_in": odoo_time(-60)}])
    event(person, "check_in", 0)
    push_attendance()
    row = OdooOutbox.objects.get()
    assert row.state == OutboxState.SENT and row.outcome.startswith("closed_")
    assert attendances(emulator, employee) == [
        (odoo_time(-60), odoo_time(0)),
        (odoo_time(0), False),
    ]


def test_unresolved_conflict_parks_and_blocks_the_person_until_skipped(emulator, connection):
    person, employee = linked_person(emulator)
    other, _other_employee = linked_person(emulator, "Bob")
    emulator.store.create("hr.attendance", [{"employee_id": employee, "check_in": odoo_time(30)}])
    event(person, "check_in", 0)
    event(person, "check_out", 60)
    event(other, "check_in", 0)
    push_attendance()
    first, second, bob = OdooOutbox.objects.order_by("id")
    first.refresh_from_db()
    assert first.state == OutboxState.FAILED and first.outcome == "conflict"
    assert "hasn't checked out since" in first.last_error
    second.refresh_from_db()
    bob.refresh_from_db()
    assert second.state == OutboxState.PENDING and second.attempts == 0  # waits its turn
    assert bob.state == OutboxState.SENT  # other people go on
    from accounts.audit import AuditContext
    from integrations.sync import skip_outbox_row

    skip_outbox_row(first, AuditContext())
    push_attendance()
    second.refresh_from_db()
    # our check-in was skipped, so the check-out closes the employee's open attendance
    assert second.state == OutboxState.SENT and second.outcome == "checked_out"


def test_backoff_is_capped_and_a_row_parks_after_a_day(emulator, connection):
    assert all(outbox.backoff(n) <= dt.timedelta(seconds=60) for n in range(1, 40))
    assert outbox.backoff(1) <= dt.timedelta(seconds=2)
    person, _employee = linked_person(emulator)
    event(person, "check_in", 0)
    emulator.down()
    push_attendance()
    row = OdooOutbox.objects.get()
    assert row.state == OutboxState.PENDING and row.next_attempt_at is not None
    push_attendance(clock=later(25 * 3600))
    row.refresh_from_db()
    assert row.state == OutboxState.FAILED and row.outcome == "gave_up"


def test_people_not_linked_to_odoo_are_skipped(emulator, connection):
    person = Person.objects.create(employee_code="LOCAL", full_name="Local only")
    event(person, "check_in", 0)
    push_attendance()
    assert OdooOutbox.objects.get().outcome == "not_linked"


def odoo_calls(emulator, method):
    return sum(1 for c in emulator.calls if c[1:] == ("hr.attendance", method))


def test_a_batch_refused_by_odoo_is_sent_again_one_at_a_time(emulator, connection):
    ann, ann_employee = linked_person(emulator, "Ann")
    people = [linked_person(emulator, name) for name in ("Bob", "Cy")]
    emulator.store.create(
        "hr.attendance", [{"employee_id": ann_employee, "check_in": odoo_time(30)}]
    )
    event(ann, "check_in", 0)  # Odoo refuses it: Ann hasn't checked out since 00:30
    for person, _employee in people:
        event(person, "check_in", 0)
    push_attendance()
    ann_row, *others = OdooOutbox.objects.order_by("id")
    assert ann_row.state == OutboxState.FAILED and ann_row.outcome == "conflict"
    assert "hasn't checked out since" in ann_row.last_error
    assert [(r.state, r.outcome) for r in others] == [("sent", "created")] * 2
    assert odoo_calls(emulator, "create") == 1 + 3  # the refused batch, then each alone
    assert odoo_calls(emulator, "search_read") == 2  # one search; Ann's open attendance
    for _person, employee in people:
        assert attendances(emulator, employee) == [(odoo_time(0), False)]
    assert attendances(emulator, ann_employee) == [(odoo_time(30), False)]


def test_a_batch_write_refused_by_odoo_is_written_again_one_at_a_time(emulator, connection):
    ann, ann_employee = linked_person(emulator, "Ann")
    bob, bob_employee = linked_person(emulator, "Bob")
    event(ann, "check_in", 0)
    event(bob, "check_in", 0)
    push_attendance()
    emulator.store.create(  # entered by hand in Odoo inside Ann's open attendance
        "hr.attendance",
        [{"employee_id": ann_employee, "check_in": odoo_time(20), "check_out": odoo_time(25)}],
    )
    event(ann, "check_out", 60)  # same time and mode: one write for both
    event(bob, "check_out", 60)
    push_attendance()
    ann_out, bob_out = OdooOutbox.objects.filter(kind="check_out").order_by("id")
    assert ann_out.state == OutboxState.FAILED and ann_out.outcome == "conflict"
    assert bob_out.state == OutboxState.SENT and bob_out.outcome == "checked_out"
    assert odoo_calls(emulator, "write") == 1 + 2
    assert odoo_calls(emulator, "read") == 1
    assert attendances(emulator, bob_employee) == [(odoo_time(0), odoo_time(60))]
    assert attendances(emulator, ann_employee) == [
        (odoo_time(0), False),
        (odoo_time(20), odoo_time(25)),
    ]


def test_lost_answer_on_a_batch_create_is_not_doubled(emulator, connection):
    people = [linked_person(emulator, name) for name in ("Ann", "Bob", "Cy")]
    for person, _employee in people:
        event(person, "check_in", 0)
    emulator.inject("lose_answer")
    push_attendance()
    rows = list(OdooOutbox.objects.order_by("id"))
    assert [(r.state, r.outcome, r.attempts) for r in rows] == [("pending", "retrying", 1)] * 3
    for _person, employee in people:
        assert attendances(emulator, employee) == [(odoo_time(0), False)]  # it did commit
    push_attendance(clock=later(61))
    rows = list(OdooOutbox.objects.order_by("id"))
    assert [(r.state, r.outcome) for r in rows] == [("sent", "matched_existing")] * 3
    assert odoo_calls(emulator, "create") == 1
    for _person, employee in people:
        assert attendances(emulator, employee) == [(odoo_time(0), False)]


def test_order_per_person_across_batches(emulator, connection):
    ann, ann_employee = linked_person(emulator, "Ann")
    bob, bob_employee = linked_person(emulator, "Bob")
    cy, cy_employee = linked_person(emulator, "Cy")
    emulator.down()
    for kind, minutes in [("check_in", 0), ("check_out", 60), ("check_in", 120)]:
        event(ann, kind, minutes)
    event(bob, "check_in", 0)
    push_attendance()  # the first round fails: every head backs off, nothing else is tried
    assert OdooOutbox.objects.filter(attempts=1).count() == 2
    assert OdooOutbox.objects.filter(attempts=0).count() == 2
    event(ann, "check_out", 180)
    event(cy, "check_in", 10)
    event(cy, "check_out", 30)
    emulator.up()
    push_attendance(clock=later(120))
    assert not OdooOutbox.objects.exclude(state=OutboxState.SENT).exists()
    assert attendances(emulator, ann_employee) == [
        (odoo_time(0), odoo_time(60)),
        (odoo_time(120), odoo_time(180)),
    ]
    assert attendances(emulator, bob_employee) == [(odoo_time(0), False)]
    assert attendances(emulator, cy_employee) == [(odoo_time(10), odoo_time(30))]
    # rounds: Ann+Bob+Cy in (one create), Ann+Cy out (two values), Ann in, Ann out
    assert odoo_calls(emulator, "create") == 2
    assert odoo_calls(emulator, "write") == 3
    pushed = list(
        OdooOutbox.objects.filter(person=ann).order_by("id").values_list("updated_at", flat=True)
    )
    assert pushed == sorted(pushed)


def test_check_ins_are_created_in_batches_of_create_batch(emulator, connection, monkeypatch):
    monkeypatch.setattr(outbox, "CREATE_BATCH", 2)
    people = [linked_person(emulator, name) for name in ("Ann", "Bob", "Cy")]
    for person, _employee in people:
        event(person, "check_in", 0)
    push_attendance()
    assert not OdooOutbox.objects.exclude(state=OutboxState.SENT).exists()
    assert odoo_calls(emulator, "create") == 2  # two check-ins, then the third alone
    assert odoo_calls(emulator, "search_read") == 2


def test_a_fault_on_a_batched_check_out_read_charges_every_row(emulator, connection):
    people = [linked_person(emulator, name) for name in ("Ann", "Bob")]
    for person, _employee in people:
        event(person, "check_in", 0)
    push_attendance()
    for person, _employee in people:
        event(person, "check_out", 60)
    emulator.inject("http_502", times=2)  # the next read call, and its one retry, fail
    push_attendance()
    outs = list(OdooOutbox.objects.filter(kind="check_out").order_by("id"))
    assert [(r.state, r.outcome, r.attempts) for r in outs] == [("pending", "retrying", 1)] * 2
    assert odoo_calls(emulator, "write") == 0
    push_attendance(clock=later(61))
    assert not OdooOutbox.objects.exclude(state=OutboxState.SENT).exists()
    for _person, employee in people:
        assert attendances(emulator, employee) == [(odoo_time(0), odoo_time(60))]
