"""The Odoo demo: the emulator filled with the People of this installation, and the
connection pointed at it, so the embedded run syncs and pushes without a real Odoo.

Each Person becomes an ``hr.employee`` whose badge (``barcode``) is the person's
``employee_code``. The sync refuses to adopt a local person who merely shares a badge
(``code_in_use``: that takes a person's word), so configuring the demo also links each
person to their emulated employee, as an administrator does once when connecting an
existing installation to Odoo. The emulator keeps its data in memory: each start numbers
the employees afresh, and configuring again re-links them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from accounts import audit
from faces.models import Person
from integrations.models import OdooConnection, OdooEmployeeLink, OdooProtocol
from integrations.odoo.emulator.server import OdooEmulator


@dataclass(frozen=True)
class DemoEmployee:
    """One Person as the emulator holds them."""

    person_id: int
    odoo_id: int
    badge: str
    name: str


def add_people(emulator: OdooEmulator) -> list[DemoEmployee]:
    """Every Person (active or not, as Odoo keeps archived employees) as an employee."""
    people = Person.objects.select_related("department").order_by("pk")
    employees = []
    for person in people:
        odoo_id = emulator.add_employee(
            person.full_name,
            barcode=person.employee_code,
            work_email=person.email or False,
            job_title=person.job_title or False,
            department=person.department.name if person.department else None,
            active=person.active,
        )
        employees.append(DemoEmployee(person.pk, odoo_id, person.employee_code, person.full_name))
    return employees


@transaction.atomic
def configure(
    emulator: OdooEmulator,
    employees: list[DemoEmployee],
    protocol: str = OdooProtocol.XMLRPC,
    timeout_seconds: float = 10.0,
) -> OdooConnection:
    """Point the connection at ``emulator``, enabled, and link each person to their
    employee (replacing links left by an earlier emulator, whose ids meant others)."""
    connection = OdooConnection.load()
    before = audit.snapshot(connection)
    connection.base_url = emulator.url
    connection.database = emulator.database
    connection.login = emulator.login
    connection.api_key = emulator.api_key
    connection.protocol = protocol
    connection.timeout_seconds = timeout_seconds
    connection.enabled = True
    connection.full_clean()
    connection.save()
    audit.record_update(connection, before, audit.AuditContext())
    odoo_ids = [employee.odoo_id for employee in employees]
    person_ids = [employee.person_id for employee in employees]
    stale = OdooEmployeeLink.objects.filter(person_id__in=person_ids) | (
        OdooEmployeeLink.objects.filter(odoo_id__in=odoo_ids)
    )
    stale.delete()
    OdooEmployeeLink.objects.bulk_create(
        OdooEmployeeLink(odoo_id=employee.odoo_id, person_id=employee.person_id)
        for employee in employees
    )
    return connection
