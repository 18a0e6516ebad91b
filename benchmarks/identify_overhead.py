"""Overhead of ``POST /api/v1/faces/identify`` over the raw engine work it wraps.

The endpoint adds upload handling, image decoding, quality measures, the gallery search,
the joint assignment, database lookups and JSON. This runs the real Django stack in
process (embedded settings, an in-memory SQLite database, six t1 people enrolled) and
compares, on the same photo and interleaved run by run, the endpoint's time with the
engine's detect + embed of every face. Goal: ratio <= 1.3.

Run from the repository root: ``python benchmarks/identify_overhead.py --runs 20``.
Imported by ``faces_speed.py``, which prints this table after the engine's.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def setup_django() -> None:
    """Embedded settings on a throw-away in-memory database."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DEBUG"] = "1"
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(64))  # a throw-away run
    os.environ["DATABASE_URL"] = "sqlite://:memory:"
    os.environ.pop("REDIS_URL", None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def enrol_t1_people() -> None:
    """Enrol the people of t1.jpg so identify has a gallery to search."""
    from django.utils import timezone

    from accounts.audit import AuditContext
    from faces import testing
    from faces.enrolment import enrol
    from faces.models import Person

    photo = testing.scaled(testing.t1(), 2.0)
    for index in range(6):
        person = Person.objects.create(
            employee_code=f"T1-{index}", full_name=f"T1 {index}", consent_at=timezone.now()
        )
        enrol(person, photo, context=AuditContext(), face_index=index)


def measure(runs: int) -> dict[str, float]:
    """Median times of the engine alone and of the identify endpoint."""
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from faces import testing
    from faces.engine import decode_image, get_engine

    settings.FACE_MAX_YAW = 45  # one t1 face is turned; see faces/tests/conftest.py
    enrol_t1_people()
    user = User.objects.create_user("bench@example.com", "bench-password-123")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    photo = testing.jpeg_bytes(testing.t1(), 92)
    engine = get_engine()

    def endpoint() -> None:
        upload = SimpleUploadedFile("t1.jpg", photo, content_type="image/jpeg")
        response = client.post("/api/v1/faces/identify", {"image": upload}, format="multipart")
        assert response.status_code == 200 and len(response.json()["faces"]) == 6

    image = decode_image(photo)

    def raw_engine() -> None:
        engine.embed_many(image, engine.detect(image))

    def decode() -> None:
        decode_image(photo)

    timed = {"endpoint": endpoint, "engine": raw_engine, "decode": decode}
    samples: dict[str, list[float]] = {name: [] for name in timed}
    for action in timed.values():
        action()
    for _ in range(runs):
        for name, action in timed.items():
            start = time.perf_counter()
            action()
            samples[name].append((time.perf_counter() - start) * 1000)
    medians = {f"{name}_ms": statistics.median(values) for name, values in samples.items()}
    medians["ratio"] = medians["endpoint_ms"] / medians["engine_ms"]
    return medians


def markdown_table(result: dict[str, float], runs: int) -> str:
    """The overhead as the markdown table of BENCHMARKS.md."""
    return "\n".join(
        [
            f"identify on t1.jpg (1280x886, 6 faces, 6 people enrolled), median of {runs} runs",
            "",
            "| path | ms |",
            "|---|---|",
            f"| raw engine: detect + embed 6 faces | {result['engine_ms']:.1f} |",
            f"| (of the endpoint's work) JPEG decode alone | {result['decode_ms']:.1f} |",
            f"| POST /api/v1/faces/identify, end to end | {result['endpoint_ms']:.1f} |",
            f"| **overhead**, endpoint / raw engine (goal <= 1.3) | **{result['ratio']:.2f}** |",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Set up Django, measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    setup_django()
    print(markdown_table(measure(args.runs), args.runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
