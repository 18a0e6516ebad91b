"""GET/PUT /integrations/odoo and its test: roles, the write-only key, the address guard,
failures in plain words, and the key nowhere: responses, logs, audit rows, the admin."""

import logging

import pytest
from django.test import Client

from accounts.models import AuditLog
from conftest import client_for
from integrations.models import OdooConnection

pytestmark = pytest.mark.django_db

URL = "/api/v1/integrations/odoo"
KEY = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    settings.ODOO_ALLOW_LOOPBACK = True


@pytest.fixture
def admin_api(admin_user):
    return client_for(admin_user)


def configure(api, emulator, **overrides):
    body = {
        "base_url": emulator.url,
        "database": emulator.database,
        "login": emulator.login,
        "api_key": emulator.api_key,
        "protocol": "xmlrpc",
        "timeout_seconds": 2.0,
        "company_id": None,
        "enabled": True,
    } | overrides
    response = api.put(URL, body, format="json")
    assert response.status_code == 200, response.json()
    return response


@pytest.mark.parametrize("role", ["hr_manager", "operator", "viewer"])
def test_only_admins(personas, role):
    api = client_for(personas[role])
    assert api.get(URL).status_code == 403
    assert api.put(URL, {"base_url": "https://erp.example.com"}, format="json").status_code == 403
    assert api.post(f"{URL}/test").status_code == 403
    assert not OdooConnection.objects.filter(base_url="https://erp.example.com").exists()


def test_key_is_write_only_and_encrypted(admin_api, emulator):
    response = configure(admin_api, emulator)
    data = response.json()
    assert "api_key" not in data and data["has_api_key"] is True
    assert emulator.api_key not in response.content.decode()
    assert emulator.api_key not in admin_api.get(URL).content.decode()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key FROM integrations_odooconnection")
        stored = cursor.fetchone()[0]
    assert stored.startswith("enc1:") and emulator.api_key not in stored
    assert OdooConnection.load().api_key == emulator.api_key


def test_empty_key_keeps_the_stored_one(admin_api, emulator):
    configure(admin_api, emulator)
    configure(admin_api, emulator, api_key="", login="admin")
    assert OdooConnection.load().api_key == emulator.api_key


def test_key_masked_in_audit_rows(admin_api, emulator):
    configure(admin_api, emulator)
    rows = AuditLog.objects.all()
    assert rows.exists()
    assert all(emulator.api_key not in str(row.changes) for row in rows)


@pytest.mark.parametrize(
    ("url", "allow_loopback"),
    [
        ("http://169.254.169.254/", True),
        ("http://127.0.0.1:8069", False),
        ("http://[::ffff:127.0.0.1]:8069", False),
        ("ftp://erp.example.com", True),
    ],
)
def test_base_url_refused(admin_api, settings, url, allow_loopback):
    settings.ODOO_ALLOW_LOOPBACK = allow_loopback
    response = admin_api.put(URL, {"base_url": url}, format="json")
    assert response.status_code in (400, 422)
    assert "base_url" in response.json()["error"]["details"]


def test_enabling_needs_the_required_fields(admin_api):
    response = admin_api.put(URL, {"enabled": True}, format="json")
    assert response.status_code in (400, 422)
    assert {"base_url", "database", "login", "api_key"} <= set(response.json()["error"]["details"])


@pytest.mark.parametrize("protocol", ["xmlrpc", "jsonrpc", "json2"])
def test_test_ok(admin_api, emulator, protocol):
    configure(admin_api, emulator, protocol=protocol)
    data = admin_api.post(f"{URL}/test").json()
    assert data == {"ok": True, "server_version": "17.0", "uid": 2, "error": None, "message": None}


def _test(admin_api):
    response = admin_api.post(f"{URL}/test")
    assert response.status_code == 200
    return response.json()


def test_test_refused(admin_api, emulator):
    configure(admin_api, emulator)
    emulator.down()
    data = _test(admin_api)
    assert (data["ok"], data["error"]) == (False, "odoo_refused")
    assert "refused" in data["message"]


def test_test_timed_out(admin_api, emulator):
    configure(admin_api, emulator, timeout_seconds=1.0)
    emulator.inject("stall")
    assert _test(admin_api)["error"] == "odoo_timeout"


@pytest.mark.parametrize("protocol", ["xmlrpc", "jsonrpc"])
def test_test_bad_database(admin_api, emulator, protocol):
    configure(admin_api, emulator, database="nope", protocol=protocol)
    assert _test(admin_api)["error"] == "odoo_bad_database"


@pytest.mark.parametrize("protocol", ["xmlrpc", "jsonrpc", "json2"])
def test_test_bad_key_then_too_many_failures(admin_api, emulator, protocol, caplog):
    caplog.set_level(logging.DEBUG)
    configure(admin_api, emulator, api_key=KEY, protocol=protocol)
    for _ in range(5):
        data = _test(admin_api)
        assert data["error"] == "odoo_access_denied"
        assert KEY not in str(data)
    assert _test(admin_api)["error"] == "odoo_too_many_login_failures"
    assert KEY not in caplog.text


def test_test_http_502(admin_api, emulator):
    configure(admin_api, emulator)
    emulator.inject("http_502")
    data = _test(admin_api)
    assert data["error"] == "odoo_http_error" and "502" in data["message"]


def test_key_never_on_the_admin_page(admin_user, admin_api, emulator):
    configure(admin_api, emulator)
    browser = Client()
    browser.force_login(admin_user)
    connection = OdooConnection.load()
    page = browser.get(f"/admin/integrations/odooconnection/{connection.pk}/change/")
    assert page.status_code == 200
    assert emulator.api_key not in page.content.decode()
    listing = browser.get("/admin/integrations/odooconnection/")
    assert emulator.api_key not in listing.content.decode()


def test_admin_save_with_empty_key_keeps_it(admin_user, admin_api, emulator):
    configure(admin_api, emulator)
    browser = Client()
    browser.force_login(admin_user)
    connection = OdooConnection.load()
    response = browser.post(
        f"/admin/integrations/odooconnection/{connection.pk}/change/",
        {
            "base_url": emulator.url,
            "database": emulator.database,
            "login": "admin",
            "api_key": "",
            "protocol": "jsonrpc",
            "timeout_seconds": "3",
            "company_id": "",
            "enabled": "on",
        },
    )
    assert response.status_code == 302
    assert OdooConnection.load().api_key == emulator.api_key
    assert OdooConnection.load().protocol == "jsonrpc"
    assert all(emulator.api_key not in str(row.changes) for row in AuditLog.objects.all())
