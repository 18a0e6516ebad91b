"""Employee sync on Odoo 19, where department and job live on ``hr.version``: a change
that writes only the version still reaches the Person; on 17 nothing asks hr.version."""

import datetime as dt

import pytest

from accounts.models import AuditLog
from faces.models import Person
from integrations.odoo.employees import OVERLAP, odoo_major
from integrations.sync import pull_employees

pytestmark = pytest.mark.django_db(transaction=True)

ODOO_19 = pytest.mark.parametrize("emulator", ["19.0"], indirect=True)


def version_calls(emulator):
    return [call for call in emulator.calls if call[1] == "hr.version"]


def stamp(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def added_long_ago(emulator, name, **vals):
    """An employee whose hr.employee row was last written an hour ago."""
    emulator.clock_offset = -dt.timedelta(hours=1)
    try:
        return emulator.add_employee(name, **vals)
    finally:
        emulator.clock_offset = dt.timedelta(0)


@ODOO_19
@pytest.mark.parametrize("protocol", ["xmlrpc", "jsonrpc", "json2"])
def test_a_department_moved_on_hr_version_reaches_the_person(emulator, connection, protocol):
    connection.protocol = protocol
    connection.save()
    ann = added_long_ago(emulator, "Ann Lee", barcode="A1", department="R&D", job_title="Chemist")
    emulator.add_employee("Bob Roy", barcode="B1", department="R&D")  # the high-water mark
    first = pull_employees()
    assert first.counts["created"] == 2
    assert Person.objects.get(employee_code="A1").department.name == "R&D"
    emulator.clock_offset = dt.timedelta(minutes=10)
    emulator.write_raw("hr.employee", ann, {"department_id": emulator.department("Ops")})
    (employee,) = emulator.records("hr.employee", [("id", "=", ann)])
    assert employee["write_date"] < stamp(first.high_water - OVERLAP)  # out of the window
    (version,) = emulator.records("hr.version", [("employee_id", "=", ann)])
    second = pull_employees()
    assert second.counts["updated"] == 1, second.counts
    assert second.counts["seen"] == 1 and second.counts["unchanged"] == 1  # Bob, in overlap
    assert second.counts["versions_seen"] == 2  # Bob's (skipped: just read) and Ann's
    ann_person = Person.objects.get(employee_code="A1")
    assert ann_person.department.name == "Ops" and ann_person.job_title == "Chemist"
    assert Person.objects.get(employee_code="B1").department.name == "R&D"
    assert stamp(second.high_water) == version["write_date"]  # the version moves the mark
    reads = [c[1:] for c in emulator.calls if c[1].startswith("hr.")]
    assert reads[-2:] == [("hr.version", "search_read"), ("hr.employee", "search_read")]


@ODOO_19
def test_a_job_written_on_hr_version_itself_reaches_the_person(emulator, connection):
    ann = added_long_ago(emulator, "Ann Lee", barcode="A1", job_title="Chemist")
    emulator.add_employee("Bob Roy", barcode="B1")
    pull_employees()
    emulator.clock_offset = dt.timedelta(minutes=10)
    (version,) = emulator.records("hr.version", [("employee_id", "=", ann)])
    emulator.write_raw("hr.version", version["id"], {"job_title": "Lead chemist"})
    job = pull_employees()
    assert job.counts["updated"] == 1
    assert Person.objects.get(employee_code="A1").job_title == "Lead chemist"


@ODOO_19
def test_a_version_seen_again_in_the_overlap_changes_nothing(emulator, connection):
    ann = added_long_ago(emulator, "Ann Lee", barcode="A1", department="R&D")
    pull_employees()
    emulator.clock_offset = dt.timedelta(minutes=10)
    emulator.write_raw("hr.employee", ann, {"department_id": emulator.department("Ops")})
    assert pull_employees().counts["updated"] == 1
    audits = AuditLog.objects.count()
    again = pull_employees()  # the version is still inside the overlapped window
    assert again.counts["versions_seen"] == 1
    assert again.counts["unchanged"] == 1 and "updated" not in again.counts
    assert AuditLog.objects.count() == audits
    photo_reads = [c for c in emulator.calls if c[1:] == ("hr.employee", "read")]
    assert len(photo_reads) == 1  # when created: the photo is on hr.employee, which kept still


@ODOO_19
def test_the_first_run_does_not_read_an_employee_twice(emulator, connection):
    emulator.add_employee("Ann Lee", barcode="A1", department="R&D")
    job = pull_employees()
    assert job.counts["created"] == 1 and "unchanged" not in job.counts
    reads = [c for c in emulator.calls if c[1:] == ("hr.employee", "search_read")]
    assert len(reads) == 1


def test_on_17_a_department_change_comes_through_hr_employee_alone(emulator, connection):
    ann = emulator.add_employee("Ann Lee", barcode="A1", department="R&D")
    first = pull_employees()
    emulator.clock_offset = dt.timedelta(minutes=10)
    emulator.write_raw("hr.employee", ann, {"department_id": emulator.department("Ops")})
    (employee,) = emulator.records("hr.employee", [("id", "=", ann)])
    assert employee["write_date"] > stamp(first.high_water)
    second = pull_employees()
    assert second.counts["updated"] == 1 and "versions_seen" not in second.counts
    assert Person.objects.get(employee_code="A1").department.name == "Ops"
    assert version_calls(emulator) == []


@pytest.mark.parametrize(
    ("answer", "major"),
    [
        ({"server_version_info": [19, 0, 0, "final", 0, ""], "server_version": "19.0"}, 19),
        ({"server_version_info": ["saas~18", 3, 0, "final", 0, ""]}, 18),
        ({"server_version": "17.0+e"}, 17),
        ({}, None),
    ],
)
def test_odoo_major(answer, major):
    assert odoo_major(answer) == major


@ODOO_19
def test_versions_are_paged_and_each_moved_employee_is_applied(emulator, connection, monkeypatch):
    from integrations.odoo import employees

    monkeypatch.setattr(employees, "PAGE", 2)
    ids = [added_long_ago(emulator, f"Person {n}", department="R&D") for n in range(5)]
    emulator.add_employee("Newest", department="R&D")
    pull_employees()
    emulator.clock_offset = dt.timedelta(minutes=10)
    ops = emulator.department("Ops")
    for odoo_id in ids:
        emulator.write_raw("hr.employee", odoo_id, {"department_id": ops})
    before = len(emulator.calls)
    job = pull_employees()
    assert job.counts["updated"] == 5 and job.counts["versions_seen"] == 6
    assert Person.objects.filter(department__name="Ops").count() == 5
    pages = [c for c in emulator.calls[before:] if c[1:] == ("hr.version", "search_read")]
    assert len(pages) == 4  # 2 + 2 + 2 + an empty last page
