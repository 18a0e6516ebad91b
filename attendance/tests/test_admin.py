"""The attendance back-office: void with a reason, days by colour, the decision log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditLog
from attendance.events import add_manual_pair
from attendance.models import AttendanceDay, AttendanceEvent, SightingDecision
from attendance.sightings import record_sighting
from attendance.tests.conftest import make_camera, make_detection, make_person

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:attendance_attendanceevent_changelist"


@pytest.fixture
def hr_browser(hr_manager) -> Client:
    client = Client()
    client.force_login(hr_manager)
    return client


@pytest.fixture
def pair(db):
    start = timezone.now() - timedelta(hours=10)
    return add_manual_pair(make_person("E1"), start, start + timedelta(hours=8), "paper", None)


def test_void_asks_for_a_reason_then_voids_with_it(hr_browser, hr_manager, pair):
    check_in, check_out = pair
    url = reverse(CHANGELIST)
    selected = {"action": "void_events", "_selected_action": [check_in.pk]}
    form = hr_browser.post(url, selected)
    assert form.status_code == 200
    assert 'name="reason"' in form.content.decode()
    assert not AttendanceEvent.objects.filter(voided_at__isnull=False).exists()
    blank = hr_browser.post(url, {**selected, "apply": "yes", "reason": ""})
    assert "This field is required" in blank.content.decode()
    assert not AttendanceEvent.objects.filter(voided_at__isnull=False).exists()
    done = hr_browser.post(url, {**selected, "apply": "yes", "reason": "wrong person"}, follow=True)
    assert "Voided 2 event(s)." in done.content.decode()
    for event in (check_in, check_out):
        event.refresh_from_db()
        assert (event.void_reason, event.voided_by) == ("wrong person", hr_manager)
    assert (
        AuditLog.objects.filter(
            object_type="attendance.attendanceevent", action="update", source="admin"
        ).count()
        == 2
    )


def test_events_filter_by_person_department_date_and_source(hr_browser, pair):
    person = pair[0].person
    url = reverse(CHANGELIST)
    for query in (
        f"?person__id__exact={person.pk}",
        "?source__exact=manual",
        "?voided=no",
        f"?at__year={pair[0].at.year}",
        "?person__department__id__exact=1",
    ):
        response = hr_browser.get(url + query)
        assert response.status_code == 200, query


def test_days_show_their_status_in_colour(hr_browser, pair):
    response = hr_browser.get(reverse("admin:attendance_attendanceday_changelist"))
    assert response.status_code == 200
    assert AttendanceDay.objects.exists()
    assert "background:#2e7d32" in response.content.decode()


def test_decisions_by_person_and_detection(hr_browser):
    person = make_person("SEEN")
    camera = make_camera("Exit", "exit")
    detection = make_detection(person, camera, timezone.now())
    record_sighting(detection)
    decision = SightingDecision.objects.get()
    assert decision.outcome == "not_checked_in"
    url = reverse("admin:attendance_sightingdecision_changelist")
    for query in (f"?person__id__exact={person.pk}", f"?detection__id__exact={detection.pk}"):
        response = hr_browser.get(url + query)
        assert response.status_code == 200
        assert f">#{detection.pk}</a>" in response.content.decode()
    other = hr_browser.get(url + "?person__id__exact=999").content.decode()
    assert f">#{detection.pk}</a>" not in other


def test_schedules_and_holidays_are_editable(hr_browser):
    for name in ("workschedule", "holiday"):
        assert hr_browser.get(reverse(f"admin:attendance_{name}_add")).status_code == 200
