"""One place decides the client's address, from exactly TRUSTED_PROXY_COUNT hops, and
every use of an address goes through it: throttles and audit rows (issue 7, item 3)."""

import ast
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import RequestFactory

from accounts.models import AuditLog
from accounts.net import client_ip
from config.testing import wait_until
from conftest import PERSONA_PASSWORD

ROOT = Path(django_settings.BASE_DIR)


def request_with(remote="203.0.113.9", forwarded=None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, None, "203.0.113.9"),
        (0, "198.51.100.1", "203.0.113.9"),
        (0, "198.51.100.1, 192.0.2.2", "203.0.113.9"),
        (1, None, "203.0.113.9"),
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # the client wrote the first hop
        (1, " 6.6.6.6 ,198.51.100.1 ", "198.51.100.1"),
        (2, "6.6.6.6, 198.51.100.1, 10.0.0.2", "198.51.100.1"),
        (2, "198.51.100.1", "203.0.113.9"),  # fewer hops than proxies: not trusted
        (1, "not-an-address", None),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip_honours_exactly_the_trusted_hops(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_ip(request_with(forwarded=forwarded)) == expected


def login(client, email, password, remote, forwarded):
    return client.post(
        "/api/v1/auth/login",
        {"email": email, "password": password},
        REMOTE_ADDR=remote,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


@pytest.mark.django_db
def test_without_trusted_proxies_a_forged_header_moves_neither_throttle_nor_audit(
    settings, admin_api, viewer
):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 3
    for i in range(3):
        login(admin_api, f"x{i}@example.com", "wrong", "203.0.113.5", f"10.0.0.{i}")
    # The address is throttled: each new forged header is still the same address.
    for i in range(5):
        response = login(admin_api, viewer.email, PERSONA_PASSWORD, "203.0.113.5", f"10.1.{i}.1")
        assert response.status_code == 429

    created = admin_api.post(
        "/api/v1/users",
        {"email": "n@example.com", "full_name": "N", "role": "viewer", "password": "pw-9f8e7d6c5b"},
        REMOTE_ADDR="203.0.113.5",
        HTTP_X_FORWARDED_FOR="6.6.6.6",
    )
    assert created.status_code == 201
    assert AuditLog.objects.get(object_id=str(created.json()["id"])).ip == "203.0.113.5"


@pytest.mark.django_db
def test_behind_one_proxy_the_last_hop_is_the_client(settings, admin_api, viewer):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 3
    proxy = "10.0.0.1"
    for i in range(3):
        login(admin_api, f"x{i}@example.com", "wrong", proxy, f"6.6.6.{i}, 198.51.100.7")
    # The client forges a new first hop each time; the proxy's hop still names it.
    for i in range(3):
        response = login(
            admin_api, viewer.email, PERSONA_PASSWORD, proxy, f"7.7.7.{i}, 198.51.100.7"
        )
        assert response.status_code == 429
    # Another client behind the same proxy is not throttled.
    assert (
        login(admin_api, viewer.email, PERSONA_PASSWORD, proxy, "198.51.100.8").status_code == 200
    )

    created = admin_api.post(
        "/api/v1/users",
        {"email": "n@example.com", "full_name": "N", "role": "viewer", "password": "pw-9f8e7d6c5b"},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.9",
    )
    assert AuditLog.objects.get(object_id=str(created.json()["id"])).ip == "198.51.100.9"


@pytest.mark.django_db
def test_audited_admin_changes_and_anonymous_request_rates_use_the_same_address(
    settings, admin_user, client
):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "user": "3/min"}
    client.post("/admin/login/", {"username": admin_user.email, "password": PERSONA_PASSWORD})
    client.post(
        f"/admin/accounts/user/{admin_user.pk}/change/",
        {"email": admin_user.email, "full_name": "Renamed", "role": "admin", "is_active": "on"},
        REMOTE_ADDR="203.0.113.77",
        HTTP_X_FORWARDED_FOR="6.6.6.6",
    )
    row = wait_until(lambda: AuditLog.objects.filter(action="update", source="admin").first())
    assert row.ip == "203.0.113.77"

    statuses = [
        client.get(
            "/api/v1/health/live", REMOTE_ADDR="203.0.113.78", HTTP_X_FORWARDED_FOR=f"6.6.6.{i}"
        ).status_code
        for i in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]


def test_nothing_but_accounts_net_reads_the_forwarded_header_or_remote_addr():
    """Any other reader of the address would be a second, diverging policy."""
    readers = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if parts[0] in (".venv", "node_modules") or "tests" in parts or "migrations" in parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and node.value in (
                "REMOTE_ADDR",
                "HTTP_X_FORWARDED_FOR",
                "X-Forwarded-For",
            ):
                readers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert {reader.split(":")[0] for reader in readers} == {"accounts/net.py"}, readers
