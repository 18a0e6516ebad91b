"""The person page of the back-office as a new user meets it: consent on the form, photos
refused in the API's words before anything is saved, and the panels of higher apps."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accounts.models import AuditLog
from attendance.models import AttendanceDay
from detections.models import Detection
from faces import testing
from faces.models import FaceSample, Person
from faces.tests.conftest import make_person, upload

pytestmark = pytest.mark.django_db

PHOTO = testing.jpeg_bytes(testing.scaled(testing.astronaut(), 2.0))
NEW_PERSON = {
    "employee_code": "NEW-1",
    "full_name": "New Starter",
    "email": "",
    "job_title": "",
    "active": "on",
    "faces-TOTAL_FORMS": "0",
    "faces-INITIAL_FORMS": "0",
}


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_adding_a_person_with_consent_and_a_photo_enrols_it_in_one_go(hr_manager):
    response = browser(hr_manager).post(
        "/admin/faces/person/add/",
        {**NEW_PERSON, "has_consent": "on", "new_face_photo": SimpleUploadedFile("a.jpg", PHOTO)},
        follow=True,
    )
    person = Person.objects.get(employee_code="NEW-1")
    assert person.consent_at is not None and person.consent_by == hr_manager
    assert FaceSample.objects.filter(person=person).count() == 1
    said = messages_of(response)
    assert "The photo was enrolled." in said
    assert not [m for m in said if "not enrolled" in m]


def test_a_photo_without_consent_is_a_form_error_and_saves_nothing(hr_manager):
    response = browser(hr_manager).post(
        "/admin/faces/person/add/",
        {**NEW_PERSON, "new_face_photo": SimpleUploadedFile("a.jpg", PHOTO)},
    )
    assert response.status_code == 200
    assert "Tick this to enrol a photo" in response.content.decode()
    assert not Person.objects.filter(employee_code="NEW-1").exists()


def test_unticking_consent_withdraws_it_and_erases_the_faces(hr_manager, api):
    person = make_person("WD-1", full_name="Withdraws")
    response = api["hr_manager"].post(
        f"/api/v1/people/{person.pk}/faces", {"image": upload(PHOTO)}, format="multipart"
    )
    assert response.status_code == 201
    form = {**NEW_PERSON, "employee_code": "WD-1", "full_name": "Withdraws"}
    form.update({"faces-TOTAL_FORMS": "1", "faces-INITIAL_FORMS": "1"})
    form["faces-0-id"] = str(FaceSample.objects.get().pk)
    form["faces-0-person"] = str(person.pk)
    response = browser(hr_manager).post(f"/admin/faces/person/{person.pk}/change/", form)
    assert response.status_code == 302, response.content[:2000]
    person.refresh_from_db()
    assert person.consent_at is None
    assert not FaceSample.objects.filter(person=person).exists()
    assert AuditLog.objects.filter(action="erase", object_id=str(person.pk)).exists()


def _truncated() -> bytes:
    return PHOTO[:3000]


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.4 definitely not a photo", _truncated(), PHOTO[:300], b""],
    ids=["not an image", "truncated", "header only", "empty"],
)
def test_bad_uploads_get_the_apis_words(hr_manager, api, data):
    person = make_person("BAD-1")
    said_by_api = (
        api["hr_manager"]
        .post(
            f"/api/v1/people/{person.pk}/faces",
            {"image": upload(data, "bad.jpg")},
            format="multipart",
        )
        .json()["error"]["message"]
    )
    form = {**NEW_PERSON, "employee_code": "BAD-1", "full_name": person.full_name}
    form["has_consent"] = "on"
    page = browser(hr_manager).post(
        f"/admin/faces/person/{person.pk}/change/",
        {**form, "new_face_photo": SimpleUploadedFile("bad.jpg", data)},
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert said_by_api in html.replace("&#x27;", "'")
    for jargon in ("Upload a valid image", "Truncated File Read", "truncated (", "submitted"):
        assert jargon not in html
    identify = browser(hr_manager).post(
        "/admin/faces/person/identify/", {"photo": SimpleUploadedFile("bad.jpg", data)}
    )
    assert said_by_api in identify.content.decode().replace("&#x27;", "'")


def test_person_page_shows_faces_detections_and_days_to_those_who_may_see_them(
    hr_manager, operator, api
):
    person = make_person("PAN-1", full_name="Panel Person")
    response = api["hr_manager"].post(
        f"/api/v1/people/{person.pk}/faces", {"image": upload(PHOTO)}, format="multipart"
    )
    assert response.status_code == 201
    now = timezone.now()
    Detection.objects.create(
        camera_name="Lobby",
        person=person,
        status="recognized",
        score=0.734567,
        track_id="t-panel",
        bbox=[0, 0, 10, 10],
        captured_at=now,
        last_seen_at=now,
        model_key="m",
    )
    AttendanceDay.objects.create(person=person, work_date=timezone.localdate(), status="late")
    url = f"/admin/faces/person/{person.pk}/change/"

    hr_page = browser(hr_manager).get(url).content.decode()
    assert "Recent detections" in hr_page and "Lobby" in hr_page and "0.73" in hr_page
    assert "0.734567" not in hr_page
    assert "Attendance days" in hr_page and "Late" in hr_page
    assert "eyes " in hr_page and "sharpness " in hr_page  # quality in words, not JSON
    assert "inter_eye_px" not in hr_page

    operator_page = browser(operator).get(url).content.decode()
    assert "Recent detections" in operator_page
    assert "Attendance days" not in operator_page  # operators may not view attendance


def test_consent_is_a_field_of_the_form(hr_manager):
    page = browser(hr_manager).get("/admin/faces/person/add/").content.decode()
    assert 'name="has_consent"' in page
    assert "Biometric consent given" in page
