"""Demo data for the embedded run (`make run`): people enrolled from faces-dev.

Runs only on an empty database, so it never touches real data. The photos come from
``../shared/faces-dev/enroll`` (or ``PRESENCE_DEMO_FACES``) when that folder exists; the
system works without them.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from faces.models import Person


def demo_faces_dir() -> Path:
    default = Path(settings.BASE_DIR).parent / "shared" / "faces-dev" / "enroll"
    return Path(os.environ.get("PRESENCE_DEMO_FACES", default))


class Command(BaseCommand):
    help = "Enrol demo people on an empty database (embedded run)."

    def handle(self, *args, **options):
        if Person.objects.exists():
            self.stdout.write("Demo data: people already exist, nothing to seed.")
            return
        folder = demo_faces_dir()
        if not folder.is_dir():
            self.stdout.write(f"Demo data: {folder} not found, no demo people.")
            return
        self.stdout.write(f"Demo data: enrolling people from {folder}")
        call_command("import_faces", str(folder), "--create", "--consent", stdout=self.stdout)
