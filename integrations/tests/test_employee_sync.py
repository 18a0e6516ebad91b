"""Employee sync against the emulator over HTTP: first and incremental runs, archived
employees, photos through the quality gates, conflicts reported, each transport."""

import base64
import datetime as dt

import numpy as np
import pytest
from django.utils import timezone

from faces.models import Department, FaceSample, Person
from faces.sample_images import astronaut, scaled
from faces.testing import jpeg_bytes
from integrations.models import OdooEmployeeLink, OdooSyncJob, SyncJobState
from integrations.odoo.employees import OVERLAP
from integrations.sync import pull_employees

pytestmark = pytest.mark.django_db(transaction=True)


def photo(image) -> str:
    return base64.b64encode(jpeg_bytes(image)).decode()


@pytest.mark.parametrize("protocol", ["xmlrpc", "jsonrpc", "json2"])
def test_first_run_creates_people(emulator, connection, protocol):
    connection.protocol = protocol
    connection.save()
    ann = emulator.add_employee(
        "Ann Lee", barcode="A1", department="R&D", job_title="Chemist", work_email="ann@x.io"
    )
    bob = emulator.add_employee("Bob Roy")
    job = pull_employees()
    assert job.state == SyncJobState.SUCCEEDED, job.last_error
    assert job.counts["created"] == 2
    people = {link.odoo_id: link.person for link in OdooEmployeeLink.objects.all()}
    assert people[ann].employee_code == "A1"
    assert people[ann].department == Department.objects.get(name="R&D")
    assert people[ann].job_title == "Chemist" and people[ann].email == "ann@x.io"
    assert people[bob].employee_code == f"odoo-{bob}" and people[bob].department is None


def test_incremental_run_reads_only_changes_and_overlaps(emulator, connection):
    ann = emulator.add_employee("Ann Lee", barcode="A1")
    first = pull_employees()
    assert first.high_water is not None
    second = pull_employees()
    assert second.counts.get("created", 0) == 0 and second.counts.get("updated", 0) == 0
    emulator.clock_offset = dt.timedelta(minutes=1)
    emulator.write_raw("hr.employee", ann, {"name": "Ann Lee-Smith", "department_id": False})
    emulator.add_employee("Cy Dee")
    third = pull_employees()
    assert third.counts["updated"] == 1 and third.counts["created"] == 1
    assert Person.objects.get(employee_code="A1").full_name == "Ann Lee-Smith"
    search = [c for c in emulator.calls if c[1:] == ("hr.employee", "search_read")]
    assert search, "the sync searches"
    assert third.high_water >= second.high_water
    assert third.high_water - OVERLAP < third.high_water


def test_archived_employee_deactivates_person(emulator, connection):
    ann = emulator.add_employee("Ann Lee", barcode="A1")
    pull_employees()
    emulator.clock_offset = dt.timedelta(minutes=1)
    emulator.write_raw("hr.employee", ann, {"active": False})
    job = pull_employees()
    assert job.counts["inactive"] == 1
    assert Person.objects.get(employee_code="A1").active is False


def test_changed_photo_is_enrolled_with_consent_only(emulator, connection):
    ann = emulator.add_employee("Ann Lee", barcode="A1", image_1920=photo(scaled(astronaut(), 1.6)))
    job = pull_employees()
    person = Person.objects.get(employee_code="A1")
    assert job.counts["photos_without_consent"] == 1
    assert not FaceSample.objects.filter(person=person).exists()
    person.consent_at = timezone.now()
    person.save()
    emulator.clock_offset = dt.timedelta(minutes=1)
    emulator.write_raw("hr.employee", ann, {"job_title": "Lead"})
    job = pull_employees()
    assert job.counts.get("photos_enrolled") == 1, job.errors
    assert FaceSample.objects.filter(person=person).count() == 1
    emulator.clock_offset = dt.timedelta(minutes=2)
    emulator.write_raw("hr.employee", ann, {"job_title": "Boss"})
    job = pull_employees()
    assert "photos_enrolled" not in job.counts  # same photo: not enrolled twice
    assert FaceSample.objects.filter(person=person).count() == 1


def test_bad_photo_is_reported_not_fatal(emulator, connection):
    emulator.add_employee("Ann Lee", barcode="A1", image_1920=base64.b64encode(b"nope").decode())
    emulator.add_employee("Bob Roy", barcode="B1")
    Person.objects.create(employee_code="X", full_name="x")  # unrelated
    job = pull_employees()
    assert job.counts["created"] == 2
    Person.objects.filter(employee_code="A1").update(consent_at=timezone.now())
    OdooEmployeeLink.objects.update(last_write_date=None)
    job = pull_employees()
    assert job.state == SyncJobState.SUCCEEDED
    assert [e["code"] for e in job.errors] == ["photo_rejected"]


def test_conflicts_are_reported_and_sync_goes_on(emulator, connection):
    first = emulator.add_employee("Ann Lee", barcode="SAME")
    second = emulator.add_employee("Ann Twin", barcode="SAME")
    emulator.add_employee("Local Clash", barcode="L1")
    emulator.add_employee("Fine", barcode="F1")
    Person.objects.create(employee_code="L1", full_name="Here before Odoo")
    job = pull_employees()
    assert job.state == SyncJobState.SUCCEEDED
    codes = sorted(e["code"] for e in job.errors)
    assert codes == ["code_in_use", "duplicate_badge"]
    assert OdooEmployeeLink.objects.get(odoo_id=first).person.employee_code == "SAME"
    assert OdooEmployeeLink.objects.get(odoo_id=second).person.employee_code == f"odoo-{second}"
    assert Person.objects.get(employee_code="L1").full_name == "Here before Odoo"
    assert Person.objects.filter(employee_code="F1").exists()


def test_disabled_connection_does_nothing(emulator, connection):
    connection.enabled = False
    connection.save()
    assert pull_employees() is None
    assert not OdooSyncJob.objects.exists()


def test_a_late_commit_just_before_the_high_water_mark_is_read_again(emulator, connection):
    ann = emulator.add_employee("Ann Lee", barcode="A1")
    emulator.add_employee("Bob Roy", barcode="B1")
    first = pull_employees()
    assert first.counts["created"] == 2
    # Odoo stamps write_date with its transaction's start: a change committed after the
    # first run can carry a stamp older than that run's high-water mark.
    emulator.clock_offset = -dt.timedelta(minutes=2)
    emulator.write_raw("hr.employee", ann, {"name": "Ann Late"})
    (written,) = emulator.records("hr.employee", [("id", "=", ann)])
    assert written["write_date"] < first.high_water.strftime("%Y-%m-%d %H:%M:%S")
    second = pull_employees()
    assert second.counts["updated"] == 1 and second.counts["unchanged"] == 1
    assert Person.objects.get(employee_code="A1").full_name == "Ann Late"
    assert second.high_water == first.high_water  # an older stamp never moves it back


def test_more_employees_than_a_page_are_each_synced_once(emulator, connection, monkeypatch):
    from integrations.odoo import employees

    monkeypatch.setattr(employees, "PAGE", 2)
    ids = [emulator.add_employee(f"Person {n}") for n in range(5)]
    job = pull_employees()
    assert job.counts["created"] == 5 and job.counts["seen"] == 5
    assert "updated" not in job.counts and "unchanged" not in job.counts
    assert sorted(OdooEmployeeLink.objects.values_list("odoo_id", flat=True)) == sorted(ids)
    assert sorted(Person.objects.values_list("full_name", flat=True)) == [
        f"Person {n}" for n in range(5)
    ]
    pages = [c for c in emulator.calls if c[1:] == ("hr.employee", "search_read")]
    assert len(pages) == 3  # 2 + 2 + 1


def test_a_department_cleared_in_odoo_clears_the_persons(emulator, connection):
    ann = emulator.add_employee("Ann Lee", barcode="A1", department="R&D")
    pull_employees()
    assert Person.objects.get(employee_code="A1").department.name == "R&D"
    emulator.clock_offset = dt.timedelta(minutes=1)
    emulator.write_raw("hr.employee", ann, {"department_id": False})
    job = pull_employees()
    assert job.counts["updated"] == 1
    assert Person.objects.get(employee_code="A1").department is None


def test_a_photo_with_no_face_is_reported_and_the_sync_goes_on(emulator, connection):
    grey = np.full((600, 600, 3), 128, dtype=np.uint8)
    ann = emulator.add_employee("Ann Lee", barcode="A1", image_1920=photo(grey))
    bob = emulator.add_employee("Bob Roy", barcode="B1")
    pull_employees()
    Person.objects.filter(employee_code="A1").update(consent_at=timezone.now())
    emulator.clock_offset = dt.timedelta(minutes=1)
    emulator.write_raw("hr.employee", ann, {"job_title": "Chemist"})
    emulator.write_raw("hr.employee", bob, {"name": "Bob Roy-Lee"})  # after Ann's
    job = pull_employees()
    assert job.state == SyncJobState.SUCCEEDED, job.last_error
    assert [(e["code"], e["odoo_id"]) for e in job.errors] == [("photo_rejected", ann)]
    assert "No face" in job.errors[0]["message"]
    assert "photos_enrolled" not in job.counts and job.counts["updated"] == 2
    ann_person = Person.objects.get(employee_code="A1")
    assert ann_person.job_title == "Chemist"
    assert not FaceSample.objects.filter(person=ann_person).exists()
    assert Person.objects.get(employee_code="B1").full_name == "Bob Roy-Lee"
