"""Adding a manual event in the back-office: the API's rules, source and audit, and its
refusals in the service's words as a form error."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.timezone import localtime

from accounts.models import AuditLog
from accounts.roles import Role
from attendance.models import AttendanceDay, AttendanceEvent
from attendance.tests.conftest import make_person

pytestmark = pytest.mark.django_db

ADD = "admin:attendance_attendanceevent_add"


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_data(person, kind: str, at, reason: str = "forgot the badge") -> dict:
    local = localtime(at)
    return {
        "person": person.pk,
        "kind": kind,
        "at_0": local.strftime("%Y-%m-%d"),
        "at_1": local.strftime("%H:%M:%S"),
        "reason": reason,
    }


def whole_seconds(at):
    return at.replace(microsecond=0)


def test_hr_adds_a_check_in_and_its_check_out(hr_manager):
    person = make_person("HR1")
    client = browser(hr_manager)
    start = whole_seconds(timezone.now() - timedelta(hours=9))
    end = start + timedelta(hours=8)
    page = client.get(reverse(ADD))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="reason"' in html and 'name="at_0"' in html
    assert "admin-autocomplete" in html  # the person is chosen by name

    for kind, at in (("check_in", start), ("check_out", end)):
        done = client.post(reverse(ADD), form_data(person, kind, at), follow=True)
        assert done.status_code == 200
        assert "Added: " in done.content.decode()

    events = list(AttendanceEvent.objects.filter(person=person).order_by("at"))
    assert [(e.kind, e.at, e.source, e.created_by, e.reason) for e in events] == [
        ("check_in", start, "manual", hr_manager, "forgot the badge"),
        ("check_out", end, "manual", hr_manager, "forgot the badge"),
    ]
    day = AttendanceDay.objects.get(person=person, work_date=localtime(start).date())
    assert (day.first_in, day.last_out, day.worked_minutes) == (start, end, 480)
    audit = AuditLog.objects.filter(
        object_type="attendance.attendanceevent", action="create"
    ).order_by("id")
    assert [(row.object_id, row.source, row.actor) for row in audit] == [
        (str(e.pk), "admin", hr_manager) for e in events
    ]
    assert audit[0].changes["reason"]["new"] == "forgot the badge"


@pytest.mark.parametrize(
    ("kind", "offset", "message"),
    [
        ("check_out", timedelta(hours=-1), "There is no check-in before that check-out."),
        ("check_in", timedelta(hours=2), "An event may not be in the future"),
    ],
    ids=["check-out without check-in", "in the future"],
)
def test_a_refused_event_shows_the_reason_and_stores_nothing(hr_manager, kind, offset, message):
    person = make_person("HR2")
    audit_before = AuditLog.objects.count()
    page = browser(hr_manager).post(reverse(ADD), form_data(person, kind, timezone.now() + offset))
    assert page.status_code == 200
    assert message in page.content.decode()
    assert message in str(page.context["form"].errors)
    assert not AttendanceEvent.objects.exists()
    assert not AttendanceDay.objects.exists()
    assert AuditLog.objects.count() == audit_before


def test_a_blank_reason_is_a_form_error(hr_manager):
    person = make_person("HR3")
    page = browser(hr_manager).post(
        reverse(ADD), form_data(person, "check_in", timezone.now() - timedelta(hours=1), " ")
    )
    assert page.status_code == 200
    assert page.context["form"].errors["reason"]
    assert not AttendanceEvent.objects.exists()


def test_a_role_that_may_not_add_manual_events_gets_403(personas):
    person = make_person("HR4")
    client = browser(personas[Role.OPERATOR])
    assert client.get(reverse(ADD)).status_code == 403
    data = form_data(person, "check_in", timezone.now() - timedelta(hours=1))
    assert client.post(reverse(ADD), data).status_code == 403
    assert not AttendanceEvent.objects.exists()


def test_stored_events_stay_read_only(hr_manager):
    person = make_person("HR5")
    client = browser(hr_manager)
    at = whole_seconds(timezone.now() - timedelta(hours=2))
    client.post(reverse(ADD), form_data(person, "check_in", at))
    event = AttendanceEvent.objects.get()
    change = reverse("admin:attendance_attendanceevent_change", args=[event.pk])
    data = form_data(person, "check_out", at + timedelta(minutes=5))
    client.post(change, data)
    event.refresh_from_db()
    assert (event.kind, event.at) == ("check_in", at)
    listing = client.get(reverse("admin:attendance_attendanceevent_changelist"))
    assert reverse(ADD) in listing.content.decode()
