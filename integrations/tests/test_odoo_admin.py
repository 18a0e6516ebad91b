"""The Odoo connection's back-office page: its status, recent runs and parked outbox rows
with retry and skip, for admins; the key is never on the page."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import AuditLog
from accounts.roles import Role
from attendance.models import AttendanceEvent
from faces.models import Person
from integrations.models import OdooConnection, OdooOutbox, OdooSyncJob

pytestmark = pytest.mark.django_db

KEY = "k3y-" + "s" * 36


@pytest.fixture
def connection() -> OdooConnection:
    connection = OdooConnection.load()
    connection.base_url = "http://127.0.0.1:9"
    connection.database, connection.login, connection.api_key = "db", "admin", KEY
    connection.enabled = True
    connection.save()
    return connection


@pytest.fixture
def parked() -> OdooOutbox:
    person = Person.objects.create(employee_code="OD-1", full_name="Parked Person")
    at = timezone.now() - datetime.timedelta(hours=2)
    event = AttendanceEvent.objects.create(person=person, kind="check_in", at=at, source="manual")
    return OdooOutbox.objects.create(
        event=event,
        person=person,
        kind="check_in",
        at=at,
        state="failed",
        outcome="conflict",
        last_error="Odoo refused the check-in",
    )


@pytest.fixture
def push_job(connection) -> OdooSyncJob:
    return OdooSyncJob.objects.create(
        kind="push_attendance",
        state="failed",
        started_at=timezone.now(),
        counts={"sent": 3},
        last_error=f"login failed with key {KEY}",
    )


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_shows_status_runs_and_parked_rows(admin_user, connection, parked, push_job):
    page = browser(admin_user).get(f"/admin/integrations/odooconnection/{connection.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Status" in html and "Enabled" in html
    assert "Attendance push (outbox)" in html and "Failed at" in html
    assert "Employee sync (pull)" in html and "never run" in html
    assert "0 waiting to be sent, 1 parked after failing" in html
    assert "sent 3" in html
    assert "Parked Person" in html and "Odoo refused the check-in" in html
    assert f'name="_selected_action" value="{parked.pk}"' in html
    assert 'value="retry_rows"' in html and 'value="skip_rows"' in html
    assert KEY not in html  # neither in the form nor in a run's error


def test_retry_from_the_page_uses_the_outbox_action(admin_user, connection, parked):
    client = browser(admin_user)
    response = client.post(
        "/admin/integrations/odoooutbox/",
        {"action": "retry_rows", "_selected_action": [parked.pk], "index": "0"},
    )
    assert response.status_code == 302
    parked.refresh_from_db()
    assert parked.state == "pending"


def test_skip_from_the_page_parks_the_row_for_good_and_is_audited(admin_user, connection, parked):
    """The same change as the API's ``POST .../outbox/{id}/skip``: skipped by an admin,
    no further attempt planned, and an audit row saying who did it from the admin."""
    response = browser(admin_user).post(
        "/admin/integrations/odoooutbox/",
        {"action": "skip_rows", "_selected_action": [parked.pk], "index": "0"},
    )
    assert response.status_code == 302
    parked.refresh_from_db()
    assert (parked.state, parked.outcome) == ("skipped", "skipped_by_admin")
    assert parked.next_attempt_at is None
    audit = AuditLog.objects.get(object_type="integrations.odoooutbox", object_id=str(parked.pk))
    assert (audit.action, audit.source, audit.actor) == ("update", "admin", admin_user)
    assert audit.changes["state"] == {"old": "failed", "new": "skipped"}
    assert audit.changes["outcome"] == {"old": "conflict", "new": "skipped_by_admin"}


def test_skipping_a_row_that_is_not_parked_changes_nothing(admin_user, connection, parked):
    parked.state = "pending"
    parked.save(update_fields=["state"])
    browser(admin_user).post(
        "/admin/integrations/odoooutbox/",
        {"action": "skip_rows", "_selected_action": [parked.pk], "index": "0"},
    )
    parked.refresh_from_db()
    assert (parked.state, parked.outcome) == ("pending", "conflict")
    assert not AuditLog.objects.filter(object_type="integrations.odoooutbox").exists()


def test_hr_sees_the_status_but_no_retry_or_skip(hr_manager, connection, parked):
    page = browser(hr_manager).get(f"/admin/integrations/odooconnection/{connection.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Parked Person" in html
    assert 'value="retry_rows"' not in html


@pytest.mark.parametrize("action", ["retry_rows", "skip_rows"])
@pytest.mark.parametrize("role", [Role.HR_MANAGER, Role.OPERATOR])
def test_outbox_actions_stay_with_admins(personas, role, action, parked):
    response = browser(personas[role]).post(
        "/admin/integrations/odoooutbox/",
        {"action": action, "_selected_action": [parked.pk], "index": "0"},
    )
    assert response.status_code in (200, 302, 403)
    parked.refresh_from_db()
    assert (parked.state, parked.outcome) == ("failed", "conflict")
    assert not AuditLog.objects.filter(object_type="integrations.odoooutbox").exists()
