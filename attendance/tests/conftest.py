"""Fixtures for attendance tests: people, cameras by direction, detections, schedules."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time

import pytest

from attendance.models import PersonSchedule, ScheduleInterval, WorkSchedule
from cameras.models import Camera
from detections.models import Detection, DetectionStatus
from faces.models import Person

_tracks = itertools.count(1)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def make_person(code: str = "E1", **fields) -> Person:
    return Person.objects.create(employee_code=code, full_name=f"Person {code}", **fields)


def make_camera(name: str, direction: str) -> Camera:
    return Camera.objects.create(
        name=name, source_url=f"rtsp://{name.lower()}.local/stream", direction=direction
    )


def make_detection(person: Person | None, camera: Camera | None, at: datetime, **fields):
    fields.setdefault("status", DetectionStatus.RECOGNIZED)
    return Detection.objects.create(
        camera=camera,
        camera_name=camera.name if camera else "gone",
        person=person,
        score=0.9,
        track_id=f"t{next(_tracks)}",
        bbox=[0, 0, 10, 10],
        captured_at=at,
        last_seen_at=at,
        model_key="test",
        **fields,
    )


def make_schedule(
    name: str = "Day",
    tz: str = "Europe/Berlin",
    intervals: list[tuple[int, time, time]] | None = None,
    **fields,
) -> WorkSchedule:
    schedule = WorkSchedule.objects.create(name=name, time_zone=tz, **fields)
    for weekday, start, end in intervals or []:
        ScheduleInterval.objects.create(schedule=schedule, weekday=weekday, start=start, end=end)
    return schedule


def assign(person: Person, schedule: WorkSchedule) -> None:
    PersonSchedule.objects.update_or_create(person=person, defaults={"schedule": schedule})


@pytest.fixture
def person(db) -> Person:
    return make_person("E1")


@pytest.fixture
def entry_cam(db) -> Camera:
    return make_camera("Entry", "entry")


@pytest.fixture
def exit_cam(db) -> Camera:
    return make_camera("Exit", "exit")


@pytest.fixture
def both_cam(db) -> Camera:
    return make_camera("Door", "both")
