"""Sightings queued by the receiver are decided in batches; a lost queue is recovered."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from attendance import batcher
from attendance.batcher import SightingBatcher, decide, decide_pending_sightings
from attendance.models import AttendanceEvent, SightingDecision
from attendance.sightings import record_sighting
from attendance.tests.conftest import make_camera, make_detection, make_person
from detections.models import Detection
from detections.signals import detection_recognized


@pytest.mark.django_db(transaction=True)
def test_the_receiver_queues_and_the_thread_decides_in_batches(settings, monkeypatch):
    settings.ATTENDANCE_BATCH_SECONDS = 0.2
    queued = SightingBatcher(size=50, seconds=0.2)
    monkeypatch.setattr(batcher, "_batcher", queued)
    calls: list[int] = []
    real = batcher.decide
    monkeypatch.setattr(batcher, "decide", lambda batch: calls.append(len(batch)) or real(batch))
    entry = make_camera("Entry", "entry")
    now = timezone.now()
    detections = [make_detection(make_person(f"B{i}"), entry, now) for i in range(5)]
    for detection in detections:
        detection_recognized.send(Detection, detection=detection)
    queued.close()
    assert calls == [5]
    assert SightingDecision.objects.filter(outcome="created_check_in").count() == 5
    assert AttendanceEvent.objects.count() == 5


@pytest.mark.django_db(transaction=True)
def test_a_full_batch_goes_at_once():
    queued = SightingBatcher(size=2, seconds=30)
    entry = make_camera("Entry", "entry")
    now = timezone.now()
    for i in range(2):
        queued.put(make_detection(make_person(f"F{i}"), entry, now))
    for _ in range(50):
        if SightingDecision.objects.count() == 2:
            break
        queued._thread.join(0.1)
    assert SightingDecision.objects.count() == 2
    queued.close()


@pytest.mark.django_db
def test_a_failing_batch_is_decided_one_by_one(caplog):
    entry = make_camera("Entry", "entry")
    now = timezone.now()
    good = make_detection(make_person("G"), entry, now)
    gone_person = make_person("GONE")
    bad = make_detection(gone_person, entry, now)
    gone_person.delete()
    with caplog.at_level(logging.ERROR, logger="attendance.batcher"):
        decide([good, bad])
    assert SightingDecision.objects.get(detection=good).outcome == "created_check_in"
    assert not SightingDecision.objects.filter(detection=bad).exists()
    assert f"detection #{bad.pk}" in caplog.text


@pytest.mark.django_db
def test_pending_sightings_are_decided_once_settled():
    entry = make_camera("Entry", "entry")
    person = make_person("P")
    now = timezone.now()
    lost = make_detection(person, entry, now - timedelta(minutes=5))
    in_flight = make_detection(person, entry, now - timedelta(minutes=4))
    too_old = make_detection(person, entry, now - timedelta(hours=7))
    decided = make_detection(make_person("D"), entry, now - timedelta(minutes=5))
    record_sighting(decided)
    unknown = make_detection(None, entry, now - timedelta(minutes=5), status="unknown")
    labelled = make_detection(person, entry, now - timedelta(minutes=5), assigned_at=now)
    Detection.objects.exclude(pk=in_flight.pk).update(updated_at=now - timedelta(minutes=2))
    assert decide_pending_sightings(now=now) == 1
    assert SightingDecision.objects.get(detection=lost).outcome == "created_check_in"
    for detection in (in_flight, too_old, unknown, labelled):
        assert not SightingDecision.objects.filter(detection=detection).exists()
    assert SightingDecision.objects.count() == 2
    assert decide_pending_sightings(now=now) == 0
