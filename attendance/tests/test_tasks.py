"""The periodic jobs are declared, and their tasks run the services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from attendance import tasks
from attendance.models import AttendanceEvent
from attendance.sightings import record_sighting
from attendance.tests.conftest import make_detection
from config.periodic import PERIODIC_JOBS


def test_attendance_jobs_are_declared_with_expiry():
    jobs = {job.task: job for job in PERIODIC_JOBS}
    for name in (
        "attendance.tasks.auto_close_open_attendances",
        "attendance.tasks.close_yesterday",
    ):
        assert jobs[name].expires_seconds > 0


@pytest.mark.django_db
def test_auto_close_task_closes_a_stale_attendance(person, entry_cam):
    record_sighting(make_detection(person, entry_cam, timezone.now() - timedelta(hours=20)))
    assert tasks.auto_close_open_attendances.apply().get() == 1
    assert AttendanceEvent.objects.filter(source="auto_close").count() == 1
    assert tasks.close_yesterday.apply().get() >= 0
