"""The demo path: ``manage.py odoo_emulator`` with the People as employees, the
connection configured by it, and Presence syncing and pushing to it."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from attendance.events import add_manual_event
from config.loopback import free_port
from faces.models import Department, Person
from integrations import demo
from integrations.models import OdooConnection, OdooEmployeeLink, OdooOutbox, OutboxState
from integrations.odoo.emulator.server import OdooEmulator
from integrations.sync import pull_employees, push_attendance

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people():
    sales = Department.objects.create(name="Sales")
    return [
        Person.objects.create(employee_code="E001", full_name="Ann Lee", department=sales),
        Person.objects.create(employee_code="E002", full_name="Bo Chan", job_title="Clerk"),
        Person.objects.create(employee_code="E003", full_name="Cy Old", active=False),
    ]


@pytest.fixture
def demo_emulator(settings):
    settings.ODOO_ALLOW_LOOPBACK = True
    server = OdooEmulator(database="presence-demo").start()
    yield server
    server.stop()


def test_people_become_employees_with_their_codes_as_badges(people, demo_emulator):
    employees = demo.add_people(demo_emulator)
    records = demo_emulator.records("hr.employee")
    assert [(r["barcode"], r["name"], r["active"]) for r in records] == [
        ("E001", "Ann Lee", True),
        ("E002", "Bo Chan", True),
        ("E003", "Cy Old", False),
    ]
    assert records[0]["department_id"][1] == "Sales"
    assert records[1]["job_title"] == "Clerk"
    assert [e.person_id for e in employees] == [p.pk for p in people]


@pytest.mark.parametrize("protocol", ["xmlrpc", "json2"])
def test_configured_demo_syncs_and_pushes(people, demo_emulator, protocol):
    employees = demo.add_people(demo_emulator)
    connection = demo.configure(demo_emulator, employees, protocol)
    assert connection.enabled and connection.protocol == protocol
    assert OdooConnection.load().api_key == demo_emulator.api_key

    job = pull_employees()
    assert job.state == "succeeded", job.errors
    assert job.errors == []
    assert job.counts["updated"] == 3
    assert Person.objects.count() == 3  # linked, not duplicated
    ann = people[0]
    add_manual_event(ann, "check_in", timezone.now() - dt.timedelta(hours=1), "demo", None)
    push_attendance()
    assert OdooOutbox.objects.get().state == OutboxState.SENT
    (attendance,) = demo_emulator.records("hr.attendance")
    assert attendance["employee_id"][0] == employees[0].odoo_id


def test_configuring_again_relinks_to_the_new_emulator(people, demo_emulator):
    demo.configure(demo_emulator, demo.add_people(demo_emulator))
    second = OdooEmulator(database="presence-demo")
    second.add_employee("Someone first")  # the ids move: the people's links must follow
    employees = demo.add_people(second)
    demo.configure(second, employees)
    links = dict(OdooEmployeeLink.objects.values_list("person_id", "odoo_id"))
    assert links == {e.person_id: e.odoo_id for e in employees}
    assert sorted(links.values()) == [2, 3, 4]


def test_command_prints_the_connection_and_configures_it(people, settings):
    settings.ODOO_ALLOW_LOOPBACK = True
    port = free_port()
    out = io.StringIO()
    call_command("odoo_emulator", port=port, configure=True, duration=0.2, stdout=out)
    text = out.getvalue()
    connection = OdooConnection.load()
    assert f"http://127.0.0.1:{port}" in text
    assert connection.api_key in text
    assert "presence-demo" in text
    assert "3 people linked" in text
    assert connection.base_url == f"http://127.0.0.1:{port}"
    assert connection.enabled
    assert "Emulator stopped." in text


def test_command_on_a_busy_port_says_so(people):
    with OdooEmulator() as busy, pytest.raises(CommandError, match="Cannot listen on port"):
        call_command("odoo_emulator", port=busy.port, duration=0.1, stdout=io.StringIO())
