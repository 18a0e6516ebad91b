"""The API answers what its schema says (issue 7, "Fuzzing"), without schemathesis.

Each test pins one defect the fuzzer or a new user found, so the suite catches its return.
"""

import inspect
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client, override_settings
from rest_framework import serializers

from config.api.serializers import StrictTypesMixin
from config.testing import free_port, wait_until
from faces.models import Department, Person

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def assert_envelope(response, status, code=None):
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    if code:
        assert error["code"] == code
    return error


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker, tmp_path_factory):
    out = tmp_path_factory.mktemp("schema") / "schema.yml"
    with django_db_blocker.unblock():
        call_command("spectacular", "--file", str(out))
    return yaml.safe_load(out.read_text())


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield method.upper(), path, operation


# --- Documentation ---------------------------------------------------------------------


def test_every_operation_has_a_summary(schema):
    missing = [f"{m} {p}" for m, p, op in operations(schema) if not op.get("summary")]
    assert not missing


def test_every_documented_error_is_the_envelope(schema):
    wrong = []
    for method, path, operation in operations(schema):
        for status, response in operation["responses"].items():
            if int(status) < 400 or path.endswith("/health/ready"):
                continue
            ref = response.get("content", {}).get("application/json", {}).get("schema", {})
            if not ref.get("$ref", "").endswith("/ErrorEnvelope"):
                wrong.append(f"{method} {path} {status}")
    assert not wrong


def statuses(schema, method, path):
    return set(schema["paths"][path][method.lower()]["responses"])


def test_enrolment_documents_the_errors_it_answers(schema):
    assert {"409", "413", "415", "422"} <= statuses(schema, "POST", "/api/v1/people/{id}/faces")


def test_login_documents_401_and_429_with_a_body(schema):
    responses = schema["paths"]["/api/v1/auth/login"]["post"]["responses"]
    for status in ("401", "429"):
        assert responses[status]["content"]["application/json"]["schema"]["$ref"].endswith(
            "/ErrorEnvelope"
        )


def test_lists_document_a_page_past_the_end(schema):
    assert "404" in statuses(schema, "GET", "/api/v1/people")


def test_live_parameters_carry_their_bounds(schema):
    parameters = schema["paths"]["/api/v1/detections/live"]["get"]["parameters"]
    seconds = next(p for p in parameters if p["name"] == "seconds")["schema"]
    assert (seconds["minimum"], seconds["maximum"]) == (1, 600)


def test_nullable_fields_are_nullable_in_the_schema(schema):
    assert schema["components"]["schemas"]["Person"]["properties"]["consent_by"]["nullable"]


def _resolved(schema, node):
    """``node`` as plain JSON Schema for jsonschema: local ``$ref`` replaced by their
    components, OpenAPI 3.0's ``nullable`` spelled as "or null"."""
    if isinstance(node, dict):
        if "$ref" in node:
            return _resolved(schema, schema["components"]["schemas"][node["$ref"].split("/")[-1]])
        resolved = {k: _resolved(schema, v) for k, v in node.items() if k != "nullable"}
        if node.get("nullable"):
            return {"anyOf": [resolved, {"type": "null"}]}
        return resolved
    if isinstance(node, list):
        return [_resolved(schema, item) for item in node]
    return node


@pytest.mark.django_db
def test_a_camera_no_supervisor_has_seen_matches_its_schema(schema, admin_api):
    """Its decoder fields are "" until the first heartbeat; the fuzzer found the schema
    forbade that."""
    import jsonschema

    created = admin_api.post(
        "/api/v1/cameras", {"name": "New door", "source_url": "rtsp://10.0.0.10/s"}, format="json"
    )
    assert created.status_code == 201, created.content
    camera = admin_api.get(f"/api/v1/cameras/{created.json()['id']}").json()
    assert camera["decoder"] == "" and camera["decoder_state"] == ""
    component = _resolved(schema, schema["components"]["schemas"]["Camera"])
    jsonschema.validate(camera, component, format_checker=None)


def test_docs_use_only_local_assets(admin_api):
    page = Client().get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "cdn" not in html.lower()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    static = [a for a in assets if a.startswith("/static/")]
    assert any("swagger-ui-bundle" in a for a in static)
    external = [a for a in assets if a.startswith(("http:", "https:", "//"))]
    assert not external
    with override_settings(WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True):
        for asset in static:
            assert finders.find(asset.removeprefix("/static/")), asset
            assert Client().get(asset).status_code == 200, asset


# --- Answers match the schema -------------------------------------------------------------


def test_patch_answers_the_shape_get_answers(admin_api):
    department = Department.objects.create(name="Ops")
    person = Person.objects.create(employee_code="P-1", full_name="Ada", department=department)
    url = f"/api/v1/people/{person.pk}"
    patched = admin_api.patch(url, {"department": None}, format="json")
    assert patched.status_code == 200
    assert patched.json() == admin_api.get(url).json()
    assert patched.json()["department_name"] is None


def test_create_answers_the_shape_get_answers(admin_api):
    created = admin_api.post(
        "/api/v1/people", {"employee_code": "P-2", "full_name": "Bo"}, format="json"
    )
    assert created.status_code == 201
    assert created.json() == admin_api.get(f"/api/v1/people/{created.json()['id']}").json()


def test_consent_is_written_and_read_as_has_consent(admin_api):
    created = admin_api.post(
        "/api/v1/people",
        {"employee_code": "C-1", "full_name": "Cy", "has_consent": True},
        format="json",
    ).json()
    assert created["has_consent"] is True
    assert created["consent_by"] == "admin@example.com"
    assert "consent" not in created


def test_consent_by_is_null_without_consent(admin_api):
    person = Person.objects.create(employee_code="N-1", full_name="Di")
    assert admin_api.get(f"/api/v1/people/{person.pk}").json()["consent_by"] is None


def test_weak_password_errors_name_the_password_field(admin_api):
    response = admin_api.post(
        "/api/v1/users",
        {"email": "weak@example.com", "role": "viewer", "password": "123"},
        format="json",
    )
    error = assert_envelope(response, 422, "unprocessable")
    assert "password" in error["details"]
    assert "non_field_errors" not in error["details"]


def test_a_taken_value_is_a_409_conflict(admin_api, viewer):
    response = admin_api.post(
        "/api/v1/users",
        {"email": viewer.email, "role": "viewer", "password": "a-long-enough-passphrase"},
        format="json",
    )
    error = assert_envelope(response, 409, "conflict")
    assert "email" in error["details"]


# --- Requests outside the schema are refused, inside it accepted ---------------------------


@pytest.mark.parametrize(
    "payload",
    [
        {"employee_code": 123, "full_name": "Num"},
        {"employee_code": "T-1", "full_name": "Bool", "active": "yes"},
        {"employee_code": "T-2", "full_name": "Dept", "department": "1"},
    ],
)
def test_json_values_of_the_wrong_type_are_refused(admin_api, payload):
    Department.objects.create(pk=1, name="One")
    error = assert_envelope(
        admin_api.post("/api/v1/people", payload, format="json"), 400, "validation_error"
    )
    assert set(error["details"]) <= set(payload)
    assert not Person.objects.exists()


def test_forms_are_for_photos_only(admin_api):
    response = admin_api.post(
        "/api/v1/people",
        {"employee_code": "F-1", "full_name": "Form", "active": "false"},
        format="multipart",
    )
    assert_envelope(response, 415, "unsupported_media_type")


def test_form_values_are_still_parsed_from_text(admin_api):
    person = Person.objects.create(employee_code="V-1", full_name="Vi")
    response = admin_api.post(
        "/api/v1/faces/verify", {"person": str(person.pk), "face_index": "0"}, format="multipart"
    )
    error = assert_envelope(response, 400)
    assert "person" not in error["details"]
    assert "face_index" not in error["details"]


def test_every_api_serializer_is_strict():
    from accounts.api import serializers as a
    from attendance.api import serializers as at
    from cameras.api import serializers as c
    from detections.api import serializers as d
    from detections.api import views as dv
    from faces.api import serializers as f

    loose = [
        f"{module.__name__}.{name}"
        for module in (a, at, c, d, f, dv)
        for name, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, serializers.BaseSerializer)
        and cls.__module__ == module.__name__
        and not issubclass(cls, StrictTypesMixin)
    ]
    assert not loose


@pytest.mark.parametrize(
    "query",
    [
        "actor=1e308",
        "actor=99999999999999999999",
        "ordering=-nonsense",
        "ordering=at,%C2%A1",
        "from=0001-01-01T00:00:00%2B23:00",
        "actor=0",
        "page=0",
        "page=abc",
        "page_size=0",
        "page_size=1&page_size=2",
        "search=a%00b",
        "active=maybe",
    ],
)
def test_invalid_filter_values_are_400_in_the_envelope(admin_api, query):
    on_people = query.startswith(("search", "active"))
    path = "/api/v1/people" if on_people else "/api/v1/audit-logs"
    assert_envelope(admin_api.get(f"{path}?{query}"), 400, "validation_error")


def test_odd_offsets_are_read_in_utc(admin_api):
    for when in ("2000-01-01T00:00:00%2B15:30", "5719-02-06T09:10:01%2B18:11"):
        response = admin_api.get(f"/api/v1/audit-logs?from={when}")
        assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    "query", ["camera=123456", "person=123456", "status=&camera=&ordering=&page=&page_size="]
)
def test_unknown_ids_and_empty_values_filter_to_nothing_or_nothing_at_all(admin_api, query):
    response = admin_api.get(f"/api/v1/detections?{query}")
    assert response.status_code == 200, response.content


def test_live_ignores_empty_values(admin_api):
    assert admin_api.get("/api/v1/detections/live?camera=&seconds=").status_code == 200


def test_ordering_documents_the_fields_it_accepts(schema):
    parameters = schema["paths"]["/api/v1/audit-logs"]["get"]["parameters"]
    pattern = next(p for p in parameters if p["name"] == "ordering")["schema"]["pattern"]
    assert re.fullmatch(pattern, "-at,id")
    assert not re.fullmatch(pattern, "nonsense")


def test_a_detection_of_a_deleted_camera_matches_the_schema(schema):
    camera = schema["components"]["schemas"]["DetectionCamera"]["properties"]["id"]
    assert camera["nullable"]


def test_text_parameters_refuse_nul_in_the_schema(schema):
    parameters = schema["paths"]["/api/v1/people"]["get"]["parameters"]
    search = next(p for p in parameters if p["name"] == "search")["schema"]
    assert not re.fullmatch(search["pattern"], "a\x00b")


def test_cursor_pages_need_no_count(schema):
    page = schema["components"]["schemas"]["PaginatedDetectionList"]
    assert "count" not in page["required"]


def test_delete_to_an_unknown_path_is_an_envelope_404(admin_api):
    assert_envelope(admin_api.delete("/api/v1/people/0.5"), 404, "not_found")
    client = Client(enforce_csrf_checks=True)
    assert_envelope(client.delete("/api/v1/people/0.5"), 404, "not_found")


def test_credentials_on_a_device_source_are_refused(admin_api):
    response = admin_api.post(
        "/api/v1/cameras",
        {"name": "Webcam", "source_url": "0", "username": "someone"},
        format="json",
    )
    error = assert_envelope(response, 422, "unprocessable")
    assert "username" in error["details"]


# --- 400 breaks the schema; 422 breaks a rule the schema cannot express ----------------


def test_a_rule_and_a_type_error_together_are_400(admin_api):
    """One field off the schema makes the whole request a 400, whatever else is wrong."""
    response = admin_api.post(
        "/api/v1/users",
        {"email": "weak@example.com", "role": "viewer", "password": "123", "full_name": 5},
        format="json",
    )
    assert_envelope(response, 400, "validation_error")


def test_a_wrong_current_password_is_422(admin_api):
    response = admin_api.post(
        "/api/v1/auth/password",
        {"old_password": "not-the-password", "new_password": "a-long-new-secret-42"},
        format="json",
    )
    error = assert_envelope(response, 422, "unprocessable")
    assert "old_password" in error["details"]


def test_logout_with_a_malformed_refresh_token_is_401(admin_api):
    response = admin_api.post("/api/v1/auth/logout", {"refresh": "00"}, format="json")
    assert_envelope(response, 401, "token_not_valid")


def test_an_empty_photo_is_not_an_image(admin_api):
    from django.core.files.uploadedfile import SimpleUploadedFile

    empty = SimpleUploadedFile("empty.jpg", b"", content_type="image/jpeg")
    response = admin_api.post("/api/v1/faces/identify", {"image": empty}, format="multipart")
    assert_envelope(response, 415, "not_an_image")


def test_a_camera_without_a_frame_has_no_snapshot_yet(admin_api):
    created = admin_api.post(
        "/api/v1/cameras", {"name": "New", "source_url": "rtsp://10.0.0.7/s"}, format="json"
    )
    response = admin_api.get(f"/api/v1/cameras/{created.json()['id']}/snapshot")
    assert_envelope(response, 409, "no_snapshot")


def test_the_roi_schema_says_its_shape(schema):
    roi = schema["components"]["schemas"]["CameraRequest"]["properties"]["roi"]
    assert roi["type"] == "array" and roi["minItems"] == 3
    assert roi["items"]["items"] == {"type": "number", "minimum": 0, "maximum": 1}


def test_writes_document_422(schema):
    assert "422" in statuses(schema, "POST", "/api/v1/users")
    assert "422" in statuses(schema, "POST", "/api/v1/cameras/{id}/test")


# --- Through the real server -----------------------------------------------------------------


@pytest.fixture
def daphne_server(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "PRESENCE_VAR_DIR": str(tmp_path),
        "EMBEDDED_CAMERAS": "0",
        "EMBEDDED_SCHEDULER": "0",
        "DATABASE_URL": "",
        "REDIS_URL": "",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "config.asgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def answers() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    try:
        wait_until(answers, timeout=60)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def _raw_post(port: int, path: str, content_type: str, body: bytes) -> tuple[str, bytes]:
    request = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, payload = b"".join(chunks).partition(b"\r\n\r\n")
    return head.decode("latin-1"), payload


def test_an_empty_multipart_body_gets_the_envelope_from_daphne(daphne_server):
    head, payload = _raw_post(
        daphne_server, "/api/v1/auth/login", "multipart/form-data; boundary=xyz", b"--xyz--\r\n"
    )
    assert head.startswith("HTTP/1.1 415")  # JSON only, said in the envelope
    assert "content-type: application/json" in head.lower()
    assert b'"error"' in payload


def test_creating_a_user_documents_the_password_as_required(schema):
    create = schema["components"]["schemas"]["ManagedUserRequest"]
    assert "password" in create["required"]
    assert "password" not in schema["components"]["schemas"]["PatchedManagedUserRequest"].get(
        "required", []
    )


def test_unknown_body_fields_are_refused_and_read_only_ones_ignored(admin_api, schema):
    typo = admin_api.post(
        "/api/v1/people", {"employee_code": "T-1", "ful_name": "Typo"}, format="json"
    )
    error = assert_envelope(typo, 400, "validation_error")
    assert error["details"] == {"ful_name": ["Unknown field."]}
    assert not Person.objects.filter(employee_code="T-1").exists()
    created = admin_api.post(
        "/api/v1/people", {"employee_code": "T-2", "full_name": "Ok"}, format="json"
    ).json()
    echoed = admin_api.patch(f"/api/v1/people/{created['id']}", created, format="json")
    assert echoed.status_code == 200, echoed.content
    assert schema["components"]["schemas"]["PersonRequest"]["additionalProperties"] is False


def test_query_parameters_may_carry_others(admin_api):
    assert admin_api.get("/api/v1/detections/live?_=12345").status_code == 200


def test_a_blank_name_is_outside_the_schema(admin_api, schema):
    name = schema["components"]["schemas"]["CameraRequest"]["properties"]["name"]
    assert not re.search(name["pattern"], "\n")
    assert re.search(name["pattern"], "Door 1")
    response = admin_api.post(
        "/api/v1/cameras", {"name": "\n", "source_url": "rtsp://10.0.0.5/s"}, format="json"
    )
    assert_envelope(response, 400, "validation_error")


def test_options_on_the_odoo_connection_answers(admin_api):
    assert admin_api.options("/api/v1/integrations/odoo").status_code == 200


def test_a_malformed_odoo_url_breaks_a_rule_not_the_schema(admin_api):
    response = admin_api.put(
        "/api/v1/integrations/odoo", {"base_url": "odoo.example.com"}, format="json"
    )
    error = assert_envelope(response, 422, "unprocessable")
    assert "base_url" in error["details"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/detections/live?camera=0.0",
        "/api/v1/detections/live?camera=1&camera=2.0",
        "/api/v1/audit-logs?actor=1.0",
    ],
)
def test_an_integer_written_as_a_decimal_is_400(admin_api, path):
    """Django and DRF take ``5.0`` as 5; the schema says integer (schemathesis found it)."""
    assert_envelope(admin_api.get(path), 400, "validation_error")


def test_a_name_over_its_limit_is_400_even_when_stripping_would_shorten_it(admin_api):
    """DRF strips surrounding whitespace (U+001D counts) before its length check, so a
    value longer than ``maxLength`` as sent was stored (schemathesis found it)."""
    name = "\u001d" + "x" * 120
    response = admin_api.post("/api/v1/departments", {"name": name}, format="json")
    assert_envelope(response, 400, "validation_error")
    assert "name" in response.json()["error"]["details"]
    assert not Department.objects.exists()
