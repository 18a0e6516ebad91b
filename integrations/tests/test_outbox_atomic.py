"""The outbox row is written in its event's transaction: it commits with the event, and
an event whose transaction rolls back leaves no row and asks for no push."""

import pytest
from django.db import transaction

from attendance.events import add_manual_event, void_event
from attendance.models import AttendanceEvent
from integrations.models import OdooOutbox
from integrations.tests.test_outbox import BASE, event

pytestmark = pytest.mark.django_db(transaction=True)

PUSH = ("integrations.tasks.push_attendance",)


class Abort(Exception):
    """Something later in the same transaction fails."""


@pytest.fixture
def person():
    from faces.models import Person

    return Person.objects.create(employee_code="E1", full_name="Ann Lee")


def test_a_committed_event_has_its_row_and_asks_for_a_push(person, enqueued):
    made = add_manual_event(person, "check_in", BASE, "test", None)
    assert list(OdooOutbox.objects.values_list("event_id", "kind")) == [(made.pk, "check_in")]
    assert enqueued == [PUSH]


def test_an_event_rolled_back_leaves_no_outbox_row(person, enqueued):
    with pytest.raises(Abort), transaction.atomic():
        add_manual_event(person, "check_in", BASE, "test", None)
        assert OdooOutbox.objects.count() == 1  # written, not yet committed
        raise Abort
    assert not AttendanceEvent.objects.exists()
    assert not OdooOutbox.objects.exists()
    assert enqueued == []


def test_a_void_rolled_back_leaves_no_void_row(person, enqueued):
    made = event(person, "check_in", 0)
    enqueued.clear()
    with pytest.raises(Abort), transaction.atomic():
        void_event(made, "mistake", None)
        assert OdooOutbox.objects.filter(kind="void").count() == 1
        raise Abort
    made.refresh_from_db()
    assert made.voided_at is None
    assert list(OdooOutbox.objects.values_list("kind", flat=True)) == ["check_in"]
    assert enqueued == []
