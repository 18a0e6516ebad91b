"""What the API, the admin and tasks share: a client for the stored connection, and the
connection test that answers in plain words.

Views never talk to Odoo themselves (architecture: "never talk to the network from a
view" beyond the service); this module builds the client with the address guard of
``integrations.odoo.addresses`` applied before every connection, and turns each failure
into a code and a sentence an administrator can act on, with the API key redacted.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings

from integrations.models import OdooConnection
from integrations.odoo.addresses import check_base_url
from integrations.odoo.client import OdooClient
from integrations.odoo.faults import (
    OdooAccessDenied,
    OdooBadDatabase,
    OdooConfigError,
    OdooConnectionRefused,
    OdooError,
    OdooHttpError,
    OdooServerError,
    OdooTimeout,
    OdooTooManyLoginFailures,
)
from integrations.odoo.transports import OdooCredentials

logger = logging.getLogger(__name__)


def check_address(url: str, *, require_dns: bool) -> None:
    """Refuse a base URL that points at a blocked address (settings decide which)."""
    check_base_url(
        url,
        settings.ODOO_BLOCKED_NETWORKS,
        allow_loopback=settings.ODOO_ALLOW_LOOPBACK,
        require_dns=require_dns,
    )


def client_for(connection: OdooConnection, *, read_retries: int = 1) -> OdooClient:
    """A client for the stored connection; the address is re-checked before each call,
    because DNS may answer differently than when the URL was saved."""
    if not connection.base_url:
        raise OdooConfigError("The Odoo connection has no base URL yet.")
    if not connection.api_key:
        raise OdooConfigError("The Odoo connection has no API key yet.")
    credentials = OdooCredentials(
        base_url=connection.base_url,
        database=connection.database,
        login=connection.login,
        api_key=connection.api_key,
        timeout_seconds=connection.timeout_seconds,
    )
    return OdooClient(
        credentials,
        connection.protocol,
        company_id=connection.company_id,
        read_retries=read_retries,
        before_connect=lambda: check_address(connection.base_url, require_dns=True),
    )


@dataclass(frozen=True)
class ConnectionTestResult:
    """The outcome of ``test_connection``: ok with the version and uid, or why not."""

    ok: bool
    server_version: str | None = None
    uid: int | None = None
    error: str | None = None
    message: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The API's answer."""
        return asdict(self)


def describe_failure(exc: OdooError, step: str) -> tuple[str, str]:
    """The code and the plain words for a failure at ``step``; Odoo's own (translated)
    text is never needed to choose them."""
    if isinstance(exc, OdooConnectionRefused):
        return exc.code, f"Odoo refused the connection or its host was not found. {exc.message}"
    if isinstance(exc, OdooTimeout):
        return exc.code, "Odoo did not answer in time; check the URL, or raise the timeout."
    if isinstance(exc, OdooHttpError):
        return exc.code, f"Odoo (or a proxy before it) answered HTTP {exc.status}; retry later."
    if isinstance(exc, OdooTooManyLoginFailures):
        return exc.code, "Too many login failures: Odoo locks the login for a minute; wait."
    if isinstance(exc, OdooAccessDenied):
        return exc.code, "Odoo refused the login or API key (wrong, revoked or expired key)."
    if isinstance(exc, OdooBadDatabase) or (
        isinstance(exc, OdooServerError) and step == "authenticate"
    ):
        return OdooBadDatabase.code, "Odoo could not open the database: check its name."
    if isinstance(exc, OdooConfigError):
        return exc.code, exc.message
    return exc.code, f"Odoo reported an error during {step}: {exc.message}"


def probe_connection(connection: OdooConnection) -> ConnectionTestResult:
    """Call ``version`` then ``authenticate``; a failure is an answer, not an exception
    (an Odoo that is down is not the caller's mistake)."""
    step = "setup"
    try:
        client = client_for(connection, read_retries=0)
        step = "version"
        version = client.version()
        step = "authenticate"
        uid = client.authenticate()
    except OdooError as exc:
        code, message = describe_failure(exc, step)
        logger.info("Odoo connection test failed at %s: %s", step, code)
        return ConnectionTestResult(ok=False, error=code, message=connection.redact(message))
    server_version = version.get("server_version") if isinstance(version, dict) else None
    return ConnectionTestResult(ok=True, server_version=server_version, uid=uid)
