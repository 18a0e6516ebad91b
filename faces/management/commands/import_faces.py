"""Bulk enrolment from a folder: ``manage.py import_faces DIR``.

DIR holds one folder per person, named by employee code or by full name. Each photo goes
through the same enrolment as the API (quality gates included); every rejected photo is
reported with its reason; with ``--strict`` the command then exits non-zero.
"""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.text import slugify
from tqdm import tqdm

from accounts import audit
from accounts.models import AuditSource, User
from faces.enrolment import enrol
from faces.exceptions import FacesError
from faces.images import decode_or_reject
from faces.models import Person, SampleSource

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}


class Command(BaseCommand):
    """Enrol a folder of photos through the API's enrolment, reporting every refusal."""

    help = "Enrol face photos from DIR/<employee code or name>/*.jpg"

    def add_arguments(self, parser: ArgumentParser) -> None:
        """Creating people and recording consent are opt-in: neither is assumed."""
        parser.add_argument("directory", type=Path)
        parser.add_argument(
            "--create", action="store_true", help="Create people missing from the database."
        )
        parser.add_argument(
            "--consent",
            action="store_true",
            help="Record biometric consent now for people without it (only if it was given).",
        )
        parser.add_argument("--actor", help="Email of the user the audit log names.")
        parser.add_argument(
            "--strict", action="store_true", help="Exit non-zero if anything was rejected."
        )

    def handle(
        self,
        *args: Any,
        directory: Path,
        create: bool,
        consent: bool,
        actor: str | None,
        strict: bool,
        **_: Any,
    ) -> None:
        """Enrol each person's folder; ``--strict`` turns any refusal into a failing exit."""
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory.")
        context = self._context(actor)
        folders = sorted(p for p in directory.iterdir() if p.is_dir())
        photos = [
            (folder, photo)
            for folder in folders
            for photo in sorted(folder.iterdir())
            if photo.is_file() and photo.suffix.lower() in PHOTO_SUFFIXES
        ]
        rejected: list[tuple[Path, str]] = []
        enrolled = 0
        people: dict[Path, Person | None] = {}
        for folder, photo in tqdm(photos, desc="Enrolling", unit="photo", disable=None):
            if folder not in people:
                people[folder] = self._person(folder.name, create, consent, context, rejected)
            person = people[folder]
            if person is None:
                continue
            try:
                image = decode_or_reject(photo.read_bytes())
                enrol(person, image, context=context, source=SampleSource.IMPORT)
            except FacesError as exc:
                rejected.append((photo, f"{exc.code}: {exc.message}"))
            else:
                enrolled += 1
        self._report(enrolled, rejected, directory)
        if strict and rejected:
            raise CommandError(f"{len(rejected)} photo(s) or folder(s) were rejected.")

    def _context(self, actor_email: str | None) -> audit.AuditContext:
        actor = None
        if actor_email:
            actor = User.objects.filter(email__iexact=actor_email).first()
            if actor is None:
                raise CommandError(f"No user with email {actor_email}.")
        return audit.AuditContext(actor=actor, source=AuditSource.SYSTEM)

    def _person(
        self,
        name: str,
        create: bool,
        consent: bool,
        context: audit.AuditContext,
        rejected: list[tuple[Path, str]],
    ) -> Person | None:
        person = (
            Person.objects.filter(employee_code__iexact=name).first()
            or Person.objects.filter(full_name__iexact=name.replace("_", " ")).first()
        )
        if person is None and create:
            person = Person.objects.create(
                employee_code=slugify(name) or name, full_name=name.replace("_", " ").title()
            )
            audit.record_create(person, context)
        if person is None:
            rejected.append((Path(name), "no such person (use --create to add them)"))
            return None
        if not person.has_consent and consent:
            before = audit.snapshot(person)
            person.consent_at, person.consent_by = timezone.now(), context.actor
            person.save()
            audit.record_update(person, before, context)
        return person

    def _report(self, enrolled: int, rejected: list[tuple[Path, str]], directory: Path) -> None:
        self.stdout.write(self.style.SUCCESS(f"Enrolled {enrolled} photo(s)."))
        if rejected:
            self.stdout.write(self.style.WARNING(f"Rejected {len(rejected)}:"))
            for path, reason in rejected:
                shown = path.relative_to(directory) if path.is_absolute() else path
                self.stdout.write(f"  {shown}: {reason}")
