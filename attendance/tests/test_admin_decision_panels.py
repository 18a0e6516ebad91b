"""Why a sighting did or did not count, on the detection's and the person's admin pages
(panels that attendance adds, since detections and faces may not import it)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from attendance.models import AttendanceEvent, SightingDecision
from attendance.sightings import record_sighting
from attendance.tests.conftest import make_camera, make_detection, make_person

pytestmark = pytest.mark.django_db

ALREADY_IN = "Did not count: the person was already checked in."
COOLDOWN = "too soon after the person&#x27;s last counted sighting (the cooldown)"


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def sightings(db):
    """A check-in, an exit sighting seconds later (the cooldown) and a second entry
    sighting five minutes later (already in)."""
    person = make_person("SEEN")
    entry, exit_ = make_camera("Front door", "entry"), make_camera("Back door", "exit")
    start = timezone.now() - timedelta(hours=2)
    detections = [
        make_detection(person, entry, start),
        make_detection(person, exit_, start + timedelta(seconds=3)),
        make_detection(person, entry, start + timedelta(minutes=5)),
    ]
    for detection in detections:
        record_sighting(detection)
    outcomes = [SightingDecision.objects.get(detection=d).outcome for d in detections]
    assert outcomes == ["created_check_in", "cooldown", "already_in"]
    return person, detections


def detection_page(client: Client, detection) -> str:
    url = reverse("admin:detections_detection_change", args=[detection.pk])
    page = client.get(url)
    assert page.status_code == 200
    return page.content.decode()


def test_the_detection_page_says_why_the_sighting_did_not_count(hr_manager, sightings):
    _person, (counted, cooldown, already_in) = sightings
    client = browser(hr_manager)
    page = detection_page(client, already_in)
    assert "Attendance decision" in page
    assert ALREADY_IN in page and "Front door" in page
    assert COOLDOWN not in page
    assert COOLDOWN in detection_page(client, cooldown)
    made = detection_page(client, counted)
    event = AttendanceEvent.objects.get()
    assert "The sighting made a check-in." in made
    assert reverse("admin:attendance_attendanceevent_change", args=[event.pk]) in made


def test_the_person_page_lists_the_decisions_with_reasons(hr_manager, sightings):
    person, detections = sightings
    url = reverse("admin:faces_person_change", args=[person.pk])
    page = browser(hr_manager).get(url).content.decode()
    assert "Attendance decisions" in page
    assert ALREADY_IN in page and COOLDOWN in page and "Back door" in page
    for detection in detections:
        link = reverse("admin:detections_detection_change", args=[detection.pk])
        assert f'<a href="{link}">#{detection.pk}</a>' in page
    log = reverse("admin:attendance_sightingdecision_changelist")
    assert f"{log}?person__id__exact={person.pk}" in page


def test_the_decision_log_says_why_in_plain_words(hr_manager, sightings):
    person, _detections = sightings
    url = reverse("admin:attendance_sightingdecision_changelist")
    page = browser(hr_manager).get(f"{url}?person__id__exact={person.pk}").content.decode()
    assert ALREADY_IN in page and COOLDOWN in page


def test_a_role_that_may_not_see_decisions_gets_no_panel(personas, sightings):
    _person, (_counted, _cooldown, already_in) = sightings
    page = detection_page(browser(personas[Role.OPERATOR]), already_in)
    assert "Attendance decision" not in page and ALREADY_IN not in page
