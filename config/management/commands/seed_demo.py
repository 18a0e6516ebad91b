"""Demo data for the embedded run (`make run`): people, and a door camera that shows them.

People come from ``../shared/faces-dev/enroll`` (or ``PRESENCE_DEMO_FACES``) when that
folder exists, and the camera plays a generated video of other photos of them walking
past, then a stranger. Without faces-dev, two people of insightface's ``t1.jpg`` are
enrolled, each from a crop of their own face, and walk past instead. The camera is an
``entry`` door and the people follow an office schedule (Mon-Fri 08:00-12:00 and
13:00-17:00 in the server's ``TIME_ZONE``), so check-ins and days appear within a minute
of start. Each part runs only on an empty
table, so real data is never touched; the system works without any of it.
"""

from __future__ import annotations

import os
from datetime import time
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts.audit import AuditContext, record_create
from attendance.models import PersonSchedule, ScheduleInterval, WorkSchedule
from cameras.models import Camera, Direction
from cameras.synthetic_video import T1_FACES, face_crops, ffmpeg_path, make_test_video
from faces import sample_images
from faces.engine import decode_image, get_engine
from faces.enrolment import enrol
from faces.models import Person

#: The demo schedule's working intervals, Monday to Friday.
DEMO_INTERVALS = ((time(8), time(12)), (time(13), time(17)))

#: The two people of t1 the demo enrols without faces-dev (``T1_FACES``, in that order),
#: named by what tells them apart on the live page and in the admin.
T1_PEOPLE = (("DEMO-RED", "Red shirt (demo)"), ("DEMO-GREY", "Grey shirt (demo)"))

#: faces-dev probe photos (one face each) that walk past the demo camera.
DEMO_PROBES = ("obama1.jpg", "johnsnow_test1.jpg", "alex_lacamoire1.jpg")


def demo_faces_dir() -> Path:
    """Where the demo's faces are: the shared faces-dev set unless the env names another."""
    default = Path(settings.BASE_DIR).parent / "shared" / "faces-dev" / "enroll"
    return Path(os.environ.get("PRESENCE_DEMO_FACES", default))


def portrait(image: np.ndarray, margin: float = 1.7, face_width: int = 120) -> np.ndarray:
    """The largest face of ``image``, cropped with a margin and scaled like a door camera."""
    import cv2

    face = max(get_engine().detect(image), key=lambda f: f.area)
    x, y, w, h = face.bbox
    cx, cy, half = x + w / 2, y + h / 2, max(w, h) * margin / 2
    top, left = max(0, round(cy - half)), max(0, round(cx - half))
    crop = image[top : round(cy + half), left : round(cx + half)]
    return cv2.resize(crop, None, fx=face_width / w, fy=face_width / w)


def face_crop(image: np.ndarray, bbox: tuple[float, ...], margin: float = 0.6) -> np.ndarray:
    """The face in ``bbox`` with ``margin`` of its size on each side: one person's photo,
    cut from a group photo, with room for the detector to find the face again."""
    x, y, w, h = bbox
    top, left = max(0, round(y - margin * h)), max(0, round(x - margin * w))
    bottom, right = round(y + h + margin * h), round(x + w + margin * w)
    return np.ascontiguousarray(image[top:bottom, left:right])


class Command(BaseCommand):
    """Seed people and a camera for the embedded run, touching only empty tables."""

    help = "Enrol demo people and add a demo camera on an empty database (embedded run)."

    def handle(self, *args: Any, **options: Any) -> None:
        """Seed people first, since the demo video shows the people it enrolled."""
        folder = demo_faces_dir()
        walkers = self._seed_people(folder)
        self._seed_camera(walkers)
        if walkers is not None:  # only the people just seeded get the demo schedule
            self._seed_schedule()

    def _seed_people(self, folder: Path) -> list[np.ndarray] | None:
        if Person.objects.exists():
            self.stdout.write("Demo data: people already exist, none added.")
            return None
        if folder.is_dir():
            self.stdout.write(f"Demo data: enrolling people from {folder}")
            call_command("import_faces", str(folder), "--create", "--consent", stdout=self.stdout)
            probes = folder.parent / "probe"
            return [portrait(decode_image((probes / name).read_bytes())) for name in DEMO_PROBES]
        self.stdout.write("Demo data: faces-dev not found; enrolling two people of t1.jpg")
        self._enrol_t1_people()
        return face_crops()

    def _enrol_t1_people(self) -> None:
        """Each person is enrolled from a crop of their own face, so their sample (and its
        thumbnail) shows them, not the six people of the group photo."""
        image = sample_images.scaled(sample_images.t1(), 2.0)
        faces = get_engine().detect(image)
        for (code, name), t1_face in zip(T1_PEOPLE, T1_FACES, strict=True):
            cx, cy = t1_face.center
            face = faces[sample_images.nearest((cx * 2, cy * 2), [f.bbox for f in faces])]
            person = Person.objects.create(
                employee_code=code, full_name=name, consent_at=timezone.now()
            )
            record_create(person, AuditContext())
            enrol(person, face_crop(image, face.bbox), context=AuditContext(), largest=True)

    def _seed_camera(self, walkers: list[np.ndarray] | None) -> None:
        if Camera.objects.exists() or walkers is None:
            return
        stranger = face_crops()[-1]
        path = Path(settings.CAMERA_FILE_ROOT) / "demo-door.mp4"
        encoder = "ffmpeg" if ffmpeg_path() else "opencv"
        make_test_video(path, seconds=24, people=[*walkers, stranger], encoder=encoder)
        camera = Camera.objects.create(
            name="Demo door",
            source_url=f"file://{path.resolve()}",
            location="Main entrance (generated video)",
            direction=Direction.ENTRY,
        )
        record_create(camera, AuditContext())
        self.stdout.write(f"Demo data: camera {camera.name!r} plays {path}")

    def _seed_schedule(self) -> None:
        """An office schedule for the demo people, when there are no schedules yet."""
        if WorkSchedule.objects.exists():
            return
        schedule = WorkSchedule.objects.create(name="Office hours", time_zone=settings.TIME_ZONE)
        ScheduleInterval.objects.bulk_create(
            ScheduleInterval(schedule=schedule, weekday=weekday, start=start, end=end)
            for weekday in range(5)
            for start, end in DEMO_INTERVALS
        )
        record_create(schedule, AuditContext())
        people = Person.objects.filter(attendance_schedule__isnull=True, department=None)
        PersonSchedule.objects.bulk_create(
            PersonSchedule(person=person, schedule=schedule) for person in people
        )
        self.stdout.write(
            f"Demo data: schedule {schedule.name!r} ({settings.TIME_ZONE}) for {len(people)} people"
        )
