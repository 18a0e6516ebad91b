"""Request rates: a per-user limit on the whole API and scoped limits on identify, verify
and camera test, answered 429 in the envelope with Retry-After, set from settings and
documented in the schema (issue 7, item 6)."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.api.throttles import parse_rate
from conftest import client_for, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    def set_rates(**overrides):
        settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, **overrides}

    return set_rates


def assert_throttled(response):
    assert response.status_code == 429, response.content
    body = response.json()
    assert body["error"]["code"] == "throttled"
    assert set(body["error"]) == {"code", "message", "details"}
    assert 0 < int(response["Retry-After"]) <= 60


def test_the_per_user_rate_covers_every_endpoint_and_each_user_counts_alone(api, rates):
    rates(user="4/min")
    viewer = api["viewer"]
    for path in ["/api/v1/auth/me", "/api/v1/cameras", "/api/v1/people", "/api/v1/auth/me"]:
        assert viewer.get(path).status_code == 200
    assert_throttled(viewer.get("/api/v1/cameras"))
    assert api["operator"].get("/api/v1/cameras").status_code == 200


def test_anonymous_clients_are_counted_per_address(rates):
    rates(user="2/min")
    client = APIClient()
    for _ in range(2):
        assert client.get("/api/v1/health/live", REMOTE_ADDR="198.51.100.1").status_code == 200
    assert_throttled(client.get("/api/v1/health/live", REMOTE_ADDR="198.51.100.1"))
    assert client.get("/api/v1/health/live", REMOTE_ADDR="198.51.100.2").status_code == 200


@pytest.mark.parametrize(("scope", "path"), [("identify", "identify"), ("verify", "verify")])
def test_identify_and_verify_have_their_own_rate(api, rates, scope, path):
    rates(**{scope: "3/min"})
    viewer = api["viewer"]
    for _ in range(3):  # invalid requests count too: the limit guards the endpoint
        assert viewer.post(f"/api/v1/faces/{path}", {}, format="multipart").status_code == 400
    assert_throttled(viewer.post(f"/api/v1/faces/{path}", {}, format="multipart"))
    assert viewer.get("/api/v1/people").status_code == 200  # only that scope is used up
    assert api["operator"].post(f"/api/v1/faces/{path}", {}, format="multipart").status_code == 400


def test_camera_test_has_its_own_rate_and_other_camera_actions_do_not(api, rates):
    rates(camera_test="2/min")
    operator = api["operator"]
    for _ in range(2):
        assert operator.post("/api/v1/cameras/999999/test").status_code == 404
    assert_throttled(operator.post("/api/v1/cameras/999999/test"))
    for _ in range(5):
        assert operator.get("/api/v1/cameras").status_code == 200


def test_the_rates_come_from_settings_read_on_each_request(api, rates):
    viewer = api["viewer"]
    rates(user="1/min")
    viewer.get("/api/v1/auth/me")
    assert viewer.get("/api/v1/auth/me").status_code == 429
    rates(user="")
    assert viewer.get("/api/v1/auth/me").status_code == 200


def test_the_user_rate_applies_on_top_of_a_scope(rates):
    rates(user="2/min", identify="100/min")
    client = client_for(make_user("viewer"))
    for _ in range(2):
        client.post("/api/v1/faces/identify", {}, format="multipart")
    assert_throttled(client.post("/api/v1/faces/identify", {}, format="multipart"))


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [("600/min", (600, 60)), ("10/s", (10, 1)), ("5/hour", (5, 3600)), ("1/day", (1, 86400))],
)
def test_rates_parse(rate, parsed):
    assert parse_rate(rate) == parsed
    assert parse_rate("") is None


@pytest.mark.parametrize("rate", ["fast", "10", "10/fortnight", "x/min"])
def test_a_malformed_rate_names_itself(rate):
    with pytest.raises(ImproperlyConfigured, match="is not 'number/period'"):
        parse_rate(rate)


def test_the_schema_documents_429_with_retry_after(tmp_path):
    import yaml

    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    paths = yaml.safe_load(out.read_text())["paths"]
    for path, method in [
        ("/api/v1/auth/login", "post"),
        ("/api/v1/faces/identify", "post"),
        ("/api/v1/faces/verify", "post"),
        ("/api/v1/cameras/{id}/test", "post"),
        ("/api/v1/cameras", "get"),
    ]:
        answer = paths[path][method]["responses"]["429"]
        assert answer["content"]["application/json"]["schema"]["$ref"].endswith("ErrorEnvelope")
        assert answer["headers"]["Retry-After"]["schema"]["type"] == "integer"
    login = paths["/api/v1/auth/login"]["post"]["responses"]
    assert login["401"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorEnvelope")
