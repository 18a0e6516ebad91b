"""The faces back-office: thumbnails inline, photos streamed only to staff, erasure."""

import pytest
from django.test import Client

from accounts.models import AuditLog
from conftest import PERSONA_PASSWORD
from faces import testing
from faces.models import FaceSample
from faces.tests.conftest import make_person, upload

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    client = Client()
    assert client.login(email=user.email, password=PERSONA_PASSWORD)
    return client


@pytest.fixture
def sample(api):
    person = make_person("ADM-1", full_name="Admin Sample")
    photo = testing.jpeg_bytes(testing.scaled(testing.astronaut(), 2.0))
    response = api["hr_manager"].post(
        f"/api/v1/people/{person.pk}/faces", {"image": upload(photo)}, format="multipart"
    )
    assert response.status_code == 201
    return FaceSample.objects.get()


def test_person_page_shows_thumbnails(hr_manager, sample):
    page = browser(hr_manager).get(f"/admin/faces/person/{sample.person_id}/change/")
    assert page.status_code == 200
    assert f"/admin/faces/facesample/{sample.pk}/image/".encode() in page.content


def test_photos_are_streamed_to_staff_only(hr_manager, operator, viewer, sample):
    url = f"/admin/faces/facesample/{sample.pk}/image/"
    response = browser(hr_manager).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    # The API refuses operators the enrolment photos (GET /people/{id}/faces): so does the admin.
    assert browser(operator).get(url).status_code == 403
    assert browser(viewer).get(url).status_code == 302  # no back-office at all


def test_erase_action(hr_manager, sample):
    response = browser(hr_manager).post(
        "/admin/faces/person/",
        {"action": "erase_biometrics", "_selected_action": [sample.person_id]},
    )
    assert response.status_code == 302
    assert not FaceSample.objects.exists()


def test_reembed_jobs_page_and_start(hr_manager, sample):
    client = browser(hr_manager)
    assert client.get("/admin/faces/reembedjob/").status_code == 200
    assert client.get("/admin/faces/reembedjob/add/").status_code == 302


def test_enrol_a_photo_from_the_person_page(hr_manager, media_storage):
    from django.core.files.uploadedfile import SimpleUploadedFile

    person = make_person("ADM-2", full_name="Photo From Admin")
    page = browser(hr_manager)
    form = {
        "employee_code": person.employee_code,
        "full_name": person.full_name,
        "email": "",
        "job_title": "",
        "active": "on",
        "has_consent": "on",
        "faces-TOTAL_FORMS": "0",
        "faces-INITIAL_FORMS": "0",
    }
    photo = testing.jpeg_bytes(testing.scaled(testing.astronaut(), 2.0))
    response = page.post(
        f"/admin/faces/person/{person.pk}/change/",
        {**form, "new_face_photo": SimpleUploadedFile("a.jpg", photo, "image/jpeg")},
    )
    assert response.status_code == 302, response.content[:3000]
    assert FaceSample.objects.filter(person=person).count() == 1
    several = testing.jpeg_bytes(testing.scaled(testing.t1(), 2.0))
    response = page.post(
        f"/admin/faces/person/{person.pk}/change/",
        {**form, "full_name": "Renamed", "new_face_photo": SimpleUploadedFile("b.jpg", several)},
    )
    # A refused photo is an error on the form, and nothing of the form is saved.
    assert response.status_code == 200
    assert "The photo has 6 faces; choose one with face_index." in response.content.decode()
    person.refresh_from_db()
    assert person.full_name == "Photo From Admin"
    assert FaceSample.objects.filter(person=person).count() == 1


def test_identify_and_verify_page(hr_manager, viewer, enrolled_t1):
    from django.core.files.uploadedfile import SimpleUploadedFile

    page = browser(hr_manager)
    assert page.get("/admin/faces/person/identify/").status_code == 200
    photo = SimpleUploadedFile("t1.jpg", testing.jpeg_bytes(testing.t1()), "image/jpeg")
    target = enrolled_t1[2].person
    response = page.post(
        "/admin/faces/person/identify/", {"photo": photo, "verify_person": target.pk}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "6 faces" in html
    assert html.count("recognized") == 6
    assert "same person" in html
    garbage = SimpleUploadedFile("x.jpg", b"not a photo", "image/jpeg")
    response = page.post("/admin/faces/person/identify/", {"photo": garbage})
    assert response.status_code == 200
    assert browser(viewer).get("/admin/faces/person/identify/").status_code == 302


def test_operators_see_people_but_not_their_photos(operator, sample):
    client = browser(operator)
    page = client.get(f"/admin/faces/person/{sample.person_id}/change/")
    assert page.status_code == 200
    assert b"/admin/faces/facesample/" not in page.content  # no inline, no thumbnail
    assert client.get("/admin/faces/facesample/").status_code == 403
    assert client.get(f"/admin/faces/facesample/{sample.pk}/change/").status_code == 403


def test_photo_reads_are_audited(hr_manager, api, sample):
    browser(hr_manager).get(f"/admin/faces/facesample/{sample.pk}/image/", REMOTE_ADDR="192.0.2.9")
    url = f"/api/v1/people/{sample.person_id}/faces/{sample.pk}/image"
    assert api["admin"].get(url, REMOTE_ADDR="192.0.2.10").status_code == 200
    rows = {row.source: row for row in AuditLog.objects.filter(action="read")}
    assert rows["admin"].actor == hr_manager and rows["admin"].ip == "192.0.2.9"
    assert rows["api"].actor.role == "admin" and rows["api"].ip == "192.0.2.10"
    for row in rows.values():
        assert row.object_type == "faces.facesample" and row.changes["ids"] == [sample.pk]
        assert row.changes["image"] == "photo"
