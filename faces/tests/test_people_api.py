"""People and faces: the role matrix, consent, erasure, import, and the shared gallery."""

import itertools

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import AuditLog
from accounts.roles import Role
from accounts.testing import (
    ALL_OK,
    READ_ONLY,
    UNAUTHENTICATED,
    CrudEndpoint,
    check_role_matrix,
)
from faces import testing
from faces.engine import get_engine
from faces.gallery import Gallery
from faces.models import FaceEmbedding, FaceSample, Person
from faces.tests.conftest import make_person, stored_files, upload

pytestmark = pytest.mark.django_db
# File removal and gallery version bumps happen on commit, so these tests really commit.
COMMITS = pytest.mark.django_db(transaction=True)
_codes = itertools.count()


def good_photo() -> bytes:
    return testing.jpeg_bytes(testing.scaled(testing.astronaut(), 2.0))


def test_people_role_matrix(api):
    endpoint = CrudEndpoint(
        model=Person,
        list_url="/api/v1/people",
        make=lambda: make_person(f"M-{next(_codes)}"),
        create_payload=lambda: {"employee_code": f"N-{next(_codes)}", "full_name": "New Hire"},
        update_payload={"job_title": "Welder"},
    )
    check_role_matrix(
        api,
        endpoint,
        {
            Role.ADMIN: ALL_OK,
            Role.HR_MANAGER: ALL_OK,
            Role.OPERATOR: READ_ONLY,
            Role.VIEWER: READ_ONLY,
            "anonymous": UNAUTHENTICATED,
        },
    )


@pytest.mark.parametrize(
    "role,allowed", [("admin", True), ("hr_manager", True), ("operator", False), ("viewer", False)]
)
def test_faces_role_matrix(api, role, allowed, media_storage):
    person = make_person(f"F-{next(_codes)}")
    client = api[role]
    listing = client.get(f"/api/v1/people/{person.pk}/faces")
    created = client.post(
        f"/api/v1/people/{person.pk}/faces", {"image": upload(good_photo())}, format="multipart"
    )
    assert listing.status_code == (200 if allowed else 403)
    assert created.status_code == (201 if allowed else 403)
    sample_id = (
        created.json()["id"]
        if allowed
        else api["admin"]
        .post(
            f"/api/v1/people/{person.pk}/faces", {"image": upload(good_photo())}, format="multipart"
        )
        .json()["id"]
    )
    deleted = client.delete(f"/api/v1/people/{person.pk}/faces/{sample_id}")
    assert deleted.status_code == (204 if allowed else 403)
    assert FaceSample.objects.filter(pk=sample_id).exists() is not allowed
    erase = client.post(f"/api/v1/people/{person.pk}/erase")
    assert erase.status_code == (204 if allowed else 403)
    for path in ("/api/v1/faces/identify", "/api/v1/faces/verify"):
        response = client.post(path, {}, format="multipart")
        assert response.status_code == 400  # every role may call them; the body is empty


@COMMITS
def test_faces_list_and_delete_removes_the_file(api, media_storage):
    person = make_person("D-1")
    client = api["hr_manager"]
    ids = [
        client.post(
            f"/api/v1/people/{person.pk}/faces", {"image": upload(good_photo())}, format="multipart"
        ).json()["id"]
        for _ in range(2)
    ]
    listing = client.get(f"/api/v1/people/{person.pk}/faces").json()
    assert listing["count"] == 2
    assert len(stored_files(media_storage)) == 2
    assert client.get(f"/api/v1/people/{person.pk}").json()["face_count"] == 2
    assert client.delete(f"/api/v1/people/{person.pk}/faces/{ids[0]}").status_code == 204
    assert len(stored_files(media_storage)) == 1
    other = make_person("D-2")
    assert client.delete(f"/api/v1/people/{other.pk}/faces/{ids[1]}").status_code == 404
    assert AuditLog.objects.filter(object_type="faces.facesample", action="delete").count() == 1


def test_people_search_and_filters(api):
    make_person("ENG-7", full_name="Ada Lovelace", consent=False)
    make_person("OPS-1", full_name="Grace Hopper")
    client = api["viewer"]
    assert [
        p["employee_code"] for p in client.get("/api/v1/people?search=ada").json()["results"]
    ] == ["ENG-7"]
    consented = client.get("/api/v1/people?has_consent=true").json()["results"]
    assert [p["employee_code"] for p in consented] == ["OPS-1"]
    duplicate = api["hr_manager"].post(
        "/api/v1/people", {"employee_code": "OPS-1", "full_name": "Copy"}, format="json"
    )
    assert duplicate.status_code == 409  # a value already taken: a clash with stored data
    assert "employee_code" in duplicate.json()["error"]["details"]


@COMMITS
def test_consent_is_recorded_and_withdrawal_erases(api, hr_manager, media_storage):
    created = (
        api["hr_manager"]
        .post(
            "/api/v1/people",
            {"employee_code": "C-1", "full_name": "Consenting Adult", "has_consent": True},
            format="json",
        )
        .json()
    )
    assert created["has_consent"] and created["consent_by"] == hr_manager.email
    person_url = f"/api/v1/people/{created['id']}"
    api["hr_manager"].post(
        f"{person_url}/faces", {"image": upload(good_photo())}, format="multipart"
    )
    assert FaceSample.objects.count() == 1
    withdrawn = api["hr_manager"].patch(person_url, {"has_consent": False}, format="json").json()
    assert withdrawn["has_consent"] is False
    assert FaceSample.objects.count() == 0 and stored_files(media_storage) == []


@COMMITS
def test_erasure_removes_every_photo_and_embedding(api, media_storage, enrolled_t1):
    target = enrolled_t1[3].person
    client = api["hr_manager"]
    client.post(
        f"/api/v1/people/{target.pk}/faces", {"image": upload(good_photo())}, format="multipart"
    )
    paths = [s.image.name for s in FaceSample.objects.filter(person=target)]
    assert len(paths) == 2 and all((media_storage / p).exists() for p in paths)

    assert client.post(f"/api/v1/people/{target.pk}/erase").status_code == 204

    assert not FaceSample.objects.filter(person=target).exists()
    assert not FaceEmbedding.objects.filter(sample__person=target).exists()
    assert not any((media_storage / p).exists() for p in paths)
    assert len(stored_files(media_storage)) == 5  # the other five people keep theirs
    row = AuditLog.objects.get(action="erase", object_id=str(target.pk))
    assert row.changes["removed"]["samples"] == 2
    target.refresh_from_db()
    assert not target.has_consent
    # The gallery no longer knows them.
    image, to_variant = testing.variants(testing.t1())["brighter"]
    faces = client.post(
        "/api/v1/faces/identify", {"image": upload(testing.jpeg_bytes(image))}, format="multipart"
    ).json()["faces"]
    face = faces[testing.nearest(to_variant(*enrolled_t1[3].center), [f["bbox"] for f in faces])]
    assert face["person"] is None or face["person"]["id"] != target.pk
    assert target.pk not in {c["person"]["id"] for f in faces for c in f["candidates"]}


@COMMITS
def test_a_gallery_change_is_seen_by_another_gallery_instance(api, media_storage):
    engine = get_engine()
    here = Gallery(engine.model_key, engine.dim, check_seconds=0)
    there = Gallery(engine.model_key, engine.dim, check_seconds=0)
    assert len(here.index()) == 0 and len(there.index()) == 0
    person = make_person("G-1")
    api["hr_manager"].post(
        f"/api/v1/people/{person.pk}/faces", {"image": upload(good_photo())}, format="multipart"
    )
    vector = FaceEmbedding.objects.get().as_array()
    assert there.match(vector).best.person_id == person.pk
    assert here.match(vector).status == "recognized"
    person.active = False
    person.save()
    assert here.match(vector).candidates == []


@COMMITS
def test_gallery_checks_the_version_only_every_interval(media_storage):
    engine = get_engine()
    calls = []

    def loader(model_key):
        calls.append(model_key)
        return np.empty(0, np.int64), np.empty(0, np.float32)

    gallery = Gallery(engine.model_key, engine.dim, loader=loader, check_seconds=3600)
    gallery.index()
    make_person("G-2")  # bumps the version
    gallery.index()
    assert len(calls) == 1


def test_import_faces_command(tmp_path, media_storage, capsys):
    root = tmp_path / "import"
    (root / "EMP-100").mkdir(parents=True)
    (root / "EMP-100" / "a.jpg").write_bytes(good_photo())
    (root / "EMP-100" / "notes.jpg").write_bytes(b"this is not a photo")
    (root / "grace_hopper").mkdir()
    (root / "grace_hopper" / "group.jpg").write_bytes(
        testing.jpeg_bytes(testing.scaled(testing.t1(), 2))
    )
    make_person("EMP-100", consent=False)

    call_command("import_faces", str(root), "--create", "--consent")
    out = capsys.readouterr().out
    assert "Enrolled 1 photo(s)." in out
    assert "EMP-100/notes.jpg: not_an_image" in out
    assert "grace_hopper/group.jpg: multiple_faces" in out
    assert Person.objects.get(employee_code="grace_hopper").full_name == "Grace Hopper"
    assert FaceSample.objects.get().source == "import"

    with pytest.raises(CommandError):
        call_command("import_faces", str(root), "--strict")
