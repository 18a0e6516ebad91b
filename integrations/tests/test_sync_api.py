"""The jobs and outbox endpoints, retry and skip, starting a sync; roles; the API key
nowhere in a response, a log line, an audit row or the admin."""

import datetime as dt
import logging

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import AuditLog
from attendance.events import add_manual_event
from conftest import client_for
from faces.models import Person
from integrations.models import OdooEmployeeLink, OdooOutbox, OdooSyncJob, OutboxState
from integrations.sync import pull_employees, push_attendance

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/integrations/odoo"


def parked_row(emulator):
    employee = emulator.add_employee("Ann Lee")
    person = Person.objects.create(employee_code="A1", full_name="Ann Lee")
    OdooEmployeeLink.objects.create(odoo_id=employee, person=person)
    at = timezone.now().replace(microsecond=0) - dt.timedelta(hours=3)
    emulator.store.create(
        "hr.attendance",
        [
            {
                "employee_id": employee,
                "check_in": (at + dt.timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S"),
            }
        ],
    )
    add_manual_event(person, "check_in", at, "test", None)
    push_attendance()
    row = OdooOutbox.objects.get()
    assert row.state == OutboxState.FAILED
    return row


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_lists_are_for_admins_and_hr_managers(personas, role, connection):
    api = client_for(personas[role])
    assert api.get(f"{URL}/jobs").status_code == 403
    assert api.get(f"{URL}/outbox").status_code == 403
    hr = client_for(personas["hr_manager"])
    assert hr.get(f"{URL}/jobs").status_code == 200
    assert hr.get(f"{URL}/outbox?state=failed").status_code == 200
    assert hr.post(f"{URL}/sync").status_code == 403


def test_outbox_filter_retry_and_skip(admin_api, hr_manager, emulator, connection, enqueued):
    row = parked_row(emulator)
    data = admin_api.get(f"{URL}/outbox?state=failed").json()
    assert data["count"] == 1
    item = data["results"][0]
    assert item["person"] == {"id": row.person_id, "employee_code": "A1", "full_name": "Ann Lee"}
    assert item["outcome"] == "conflict" and item["state"] == "failed"
    assert admin_api.get(f"{URL}/outbox?state=sent").json()["count"] == 0
    assert admin_api.get(f"{URL}/outbox?state=bogus").status_code == 400
    assert client_for(hr_manager).post(f"{URL}/outbox/{row.pk}/retry").status_code == 403
    response = admin_api.post(f"{URL}/outbox/{row.pk}/retry")
    assert response.status_code == 200 and response.json()["state"] == "pending"
    assert ("integrations.tasks.push_attendance",) in enqueued
    again = admin_api.post(f"{URL}/outbox/{row.pk}/retry")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "outbox_row_not_parked"
    push_attendance()
    row.refresh_from_db()
    assert row.state == OutboxState.FAILED
    response = admin_api.post(f"{URL}/outbox/{row.pk}/skip")
    assert response.status_code == 200 and response.json()["outcome"] == "skipped_by_admin"
    assert AuditLog.objects.filter(object_type="integrations.odoooutbox").count() == 2
    assert admin_api.post(f"{URL}/outbox/999999/skip").status_code == 404


def test_jobs_list_and_sync(admin_api, emulator, connection, enqueued):
    emulator.add_employee("Ann Lee", barcode="A1")
    response = admin_api.post(f"{URL}/sync")
    assert response.status_code == 202
    assert ("integrations.tasks.pull_employees",) in enqueued
    pull_employees()
    data = admin_api.get(f"{URL}/jobs?kind=pull_employees").json()
    assert data["count"] == 1 and data["results"][0]["counts"]["created"] == 1
    connection.enabled = False
    connection.save()
    response = admin_api.post(f"{URL}/sync")
    assert response.status_code == 409 and response.json()["error"]["code"] == "odoo_disabled"


def test_two_runs_of_one_kind_never_overlap(emulator, connection):
    from integrations.jobs import acquire_lease, release_lease

    token = acquire_lease("pull_employees")
    assert token is not None
    assert pull_employees() is None
    assert acquire_lease("pull_employees") is None
    release_lease("pull_employees", token)
    assert pull_employees() is not None
    assert OdooSyncJob.objects.count() == 1


def test_api_key_appears_nowhere(admin_api, admin_user, emulator, connection, caplog):
    key = emulator.api_key
    caplog.set_level(logging.DEBUG)
    parked_row(emulator)
    emulator.revoke_key()
    emulator.add_employee("Bob")
    pull_employees()
    add_manual_event(
        Person.objects.get(), "check_out", timezone.now() - dt.timedelta(hours=1), "t", None
    )
    push_attendance()
    bodies = [
        admin_api.get(f"{URL}/jobs").content.decode(),
        admin_api.get(f"{URL}/outbox").content.decode(),
    ]
    assert any("odoo_access_denied" in body for body in bodies)
    for body in bodies:
        assert key not in body
    assert key not in caplog.text
    for row in AuditLog.objects.all():
        assert key not in str(row.changes)
    browser = Client()
    browser.force_login(admin_user)
    for page in (
        "/admin/integrations/odoosyncjob/",
        f"/admin/integrations/odoosyncjob/{OdooSyncJob.objects.first().pk}/change/",
        "/admin/integrations/odoooutbox/",
        f"/admin/integrations/odoooutbox/{OdooOutbox.objects.first().pk}/change/",
    ):
        response = browser.get(page)
        assert response.status_code == 200, page
        assert key not in response.content.decode()
