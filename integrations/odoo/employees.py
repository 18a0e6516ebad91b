"""Employee sync (pull): Odoo's ``hr.employee`` records become People.

Incremental by ``write_date``: each run asks for records written after the previous run's
newest ``write_date`` minus ``OVERLAP`` (Odoo stamps ``write_date`` with its transaction's
start, so a record committed late can carry an older stamp than one already seen), with
``active_test: False`` so archived employees come too, ``PAGE`` records at a time, oldest
first. Re-seeing a record is harmless: applying one is idempotent.

From Odoo 19 an employee's department and job live on its current ``hr.version``:
changing them writes that version, not necessarily ``hr.employee``'s ``write_date``. So
on 19+ (the major version is asked once per run) an employee whose ``write_date`` did not
move is still applied when its department or job differs from the Person's, and a
second pass searches ``hr.version`` over the same overlapped window and re-reads the
employees of the versions it finds (those the first pass has not just read); the
versions' ``write_date`` advance the watermark too. Below 19 there is no such pass and
no extra model call.

Per employee: ``employee_code`` is the badge (``barcode``) or ``odoo-<id>``; name, email,
department (by name) and job title follow Odoo; an archived employee deactivates the
Person. A changed ``image_1920`` is offered to enrolment through the faces quality gates
only when the person's consent is recorded. A conflict or a rejected photo is reported
on the job and the sync goes on with the next employee.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from accounts import audit
from faces.enrolment import enrol
from faces.exceptions import FacesError
from faces.images import decode_or_reject
from faces.models import Department, Person, SampleSource
from integrations.jobs import JobReport
from integrations.models import OdooEmployeeLink
from integrations.odoo.client import OdooClient
from integrations.odoo.datetimes import from_odoo_datetime

logger = logging.getLogger(__name__)

PAGE = 200
OVERLAP = timedelta(minutes=5)
FIELDS = ["name", "barcode", "work_email", "department_id", "job_title", "active", "write_date"]
VERSIONED_FROM = 19  # Odoo's major version that moved department and job to hr.version


def odoo_major(version: dict[str, Any]) -> int | None:
    """The major version in ``common.version()``'s answer (``server_version_info[0]``,
    else ``server_version``; ``saas~18.3`` is 18), or None when it names none."""
    info = version.get("server_version_info")
    candidates = [info[0]] if isinstance(info, list | tuple) and info else []
    candidates.append(version.get("server_version"))
    for candidate in candidates:
        found = re.search(r"\d+", str(candidate or ""))
        if found:
            return int(found.group())
    return None


def employee_code(record: dict[str, Any]) -> str:
    """The badge when Odoo has one, else ``odoo-<id>`` (stable, and unlike any badge)."""
    barcode = record.get("barcode")
    return str(barcode) if barcode else f"odoo-{record['id']}"


def _name_of(value: Any) -> str:
    """The name part of a many2one (``[id, "name"]``), or "" for Odoo's False."""
    if isinstance(value, list | tuple) and len(value) == 2:
        return str(value[1] or "")
    return ""


def _text(value: Any) -> str:
    return "" if value is False or value is None else str(value)


def _version_differs(person: Person, record: dict[str, Any]) -> bool:
    """Whether the department or job (hr.version's fields) differ from the Person's."""
    department = person.department.name if person.department_id else ""
    return (
        _name_of(record.get("department_id"))[:120] != department
        or _text(record.get("job_title"))[:120] != person.job_title
    )


class EmployeeSync:
    """One pull: pages through Odoo and applies each record (see the module text)."""

    def __init__(self, client: OdooClient, report: JobReport) -> None:
        self.client = client
        self.report = report
        self.context = audit.AuditContext()
        self.newest: datetime | None = None

    def run(self, since: datetime | None) -> datetime | None:
        """Apply every employee written after ``since - OVERLAP`` (on 19+, also those whose
        hr.version was); the newest write_date seen (``since`` when nothing came)."""
        domain: list[Any] = [("write_date", ">", since - OVERLAP)] if since else []
        self.newest = since
        versioned = self._versioned()
        applied: set[int] = set()
        for records in self._pages("hr.employee", domain, FIELDS):
            for record in records:
                self._saw(record)
                self.apply(record, versioned=versioned)
                applied.add(int(record["id"]))
            self.report.count("seen", len(records))
            self._save_high_water()
        if versioned:
            for versions in self._pages("hr.version", domain, ["employee_id", "write_date"]):
                self._apply_versions(versions, applied)
        return self.newest

    def _versioned(self) -> bool:
        """Whether this Odoo keeps department and job on hr.version (JSON-2 is 19+)."""
        major = odoo_major(self.client.version())
        if major is None:
            return self.client.protocol == "json2"
        return major >= VERSIONED_FROM

    def _pages(
        self, model: str, domain: list[Any], fields: list[str]
    ) -> Iterator[list[dict[str, Any]]]:
        """``model``'s records in the window, oldest write first, a page at a time."""
        offset = 0
        while True:
            records = self.client.search_read(
                model,
                domain,
                fields,
                offset=offset,
                limit=PAGE,
                order="write_date asc, id asc",
                context={"active_test": False},
            )
            yield records
            if len(records) < PAGE:
                return
            offset += PAGE

    def _saw(self, record: dict[str, Any]) -> None:
        written = from_odoo_datetime(record.get("write_date"))
        if written and (self.newest is None or written > self.newest):
            self.newest = written

    def _save_high_water(self) -> None:
        self.report.job.high_water = self.newest
        self.report.save()

    def _apply_versions(self, versions: list[dict[str, Any]], applied: set[int]) -> None:
        """Re-read and apply the employees of one page of written hr.version records."""
        ids: list[int] = []
        for version in versions:
            self._saw(version)
            employee = version.get("employee_id")
            employee_id = employee[0] if isinstance(employee, list | tuple) else employee
            if employee_id and int(employee_id) not in applied:
                applied.add(int(employee_id))
                ids.append(int(employee_id))
        self.report.count("versions_seen", len(versions))
        if ids:
            records = self.client.search_read(
                "hr.employee", [("id", "in", ids)], FIELDS, context={"active_test": False}
            )
            for record in records:
                self.apply(record, versioned=True)
        self._save_high_water()

    def apply(self, record: dict[str, Any], *, versioned: bool = False) -> None:
        """Create or update the linked Person; a conflict is reported, not raised.
        ``versioned``: its hr.version was written, so an unchanged ``write_date`` does not
        mean an unchanged department or job."""
        odoo_id = int(record["id"])
        code = employee_code(record)
        written = from_odoo_datetime(record.get("write_date"))
        link = OdooEmployeeLink.objects.select_related("person").filter(odoo_id=odoo_id).first()
        same_write = bool(link and link.last_write_date and written == link.last_write_date)
        if same_write and not (versioned and _version_differs(link.person, record)):
            self.report.count("unchanged")
            return
        holder = Person.objects.filter(employee_code=code).select_related("odoo_link").first()
        if holder is not None and (link is None or holder.pk != link.person_id):
            self._conflict(record, code, holder)
            if link is not None:
                code = link.person.employee_code
            elif getattr(holder, "odoo_link", None) is None:
                return
            else:
                code = f"odoo-{odoo_id}"
                if Person.objects.filter(employee_code=code).exists():
                    return
        with transaction.atomic():
            person = link.person if link is not None else Person()
            created = person.pk is None
            before = None if created else audit.snapshot(person)
            self._copy_fields(person, record, code)
            person.save()
            if created:
                audit.record_create(person, self.context)
            elif before != audit.snapshot(person):
                audit.record_update(person, before, self.context)
            if link is None:
                link = OdooEmployeeLink(odoo_id=odoo_id, person=person)
            link.last_write_date = written
            link.save()
        self.report.count("created" if created else "updated")
        if not person.active:
            self.report.count("inactive")
        if not same_write:  # the photo is on hr.employee: unchanged with its write_date
            self._offer_photo(link, record)

    def _conflict(self, record: dict[str, Any], code: str, holder: Person) -> None:
        other = getattr(holder, "odoo_link", None)
        if other is not None:
            self.report.error(
                "duplicate_badge",
                f"Odoo employees {other.odoo_id} and {record['id']} share the badge {code!r}; "
                f"employee {record['id']} keeps its old code (or odoo-{record['id']}) until "
                "one badge changes.",
                odoo_id=record["id"],
                other_odoo_id=other.odoo_id,
                employee_code=code,
            )
        else:
            self.report.error(  # skipped: creating a second person for them would split them
                "code_in_use",
                f"The code {code!r} of Odoo employee {record['id']} belongs to person "
                f"#{holder.pk}, who is not linked to Odoo; link or rename one of them.",
                odoo_id=record["id"],
                person=holder.pk,
                employee_code=code,
            )

    def _copy_fields(self, person: Person, record: dict[str, Any], code: str) -> None:
        department_name = _name_of(record.get("department_id"))
        department = None
        if department_name:
            department, _ = Department.objects.get_or_create(name=department_name[:120])
        person.employee_code = code[:64]
        person.full_name = _text(record.get("name"))[:200] or code
        person.email = _text(record.get("work_email"))[:254]
        person.department = department
        person.job_title = _text(record.get("job_title"))[:120]
        person.active = bool(record.get("active", True))

    def _offer_photo(self, link: OdooEmployeeLink, record: dict[str, Any]) -> None:
        """Enrol a new ``image_1920`` (read only for changed records) when consented."""
        rows = self.client.read("hr.employee", [link.odoo_id], ["image_1920"])
        image = rows[0].get("image_1920") if rows else False
        if not image:
            return
        digest = hashlib.sha256(str(image).encode()).hexdigest()
        if digest == link.photo_hash:
            return
        person = link.person
        if not person.has_consent:
            self.report.count("photos_without_consent")
            return
        try:
            data = base64.b64decode(str(image), validate=True)
            enrol(person, decode_or_reject(data), context=self.context, source=SampleSource.IMPORT)
        except (FacesError, binascii.Error, ValueError) as exc:
            message = getattr(exc, "message", None) or str(exc)
            self.report.error(
                "photo_rejected",
                f"The Odoo photo of {person.full_name} was not enrolled: {message}",
                odoo_id=link.odoo_id,
                person=person.pk,
            )
        else:
            self.report.count("photos_enrolled")
        link.photo_hash = digest
        link.save(update_fields=["photo_hash", "synced_at"])
