"""``OdooClient``: Odoo's ORM calls over any of the three transports.

What the rest of Presence needs from Odoo, with the rules of ``odoo-api.md`` applied in
one place: datetimes leave as naive UTC strings, every call has a timeout (the
transport's), reads are retried after a transport fault and writes never are (a create
whose answer was lost may have happened: the caller searches before creating again),
and the API key is never put in a log line or a message.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from integrations.odoo.datetimes import odoo_values
from integrations.odoo.faults import (
    OdooAccessDenied,
    OdooConfigError,
    OdooError,
    OdooTooManyLoginFailures,
    OdooTransportError,
)
from integrations.odoo.transports import TRANSPORTS, OdooCredentials, OdooTransport

logger = logging.getLogger(__name__)

#: Odoo locks a login (per source address) after this many failures in this window.
LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW_S = 60.0
READ_RETRIES = 1
RETRY_PAUSE_S = 0.2

_failures: dict[tuple[str, str, str], collections.deque[float]] = {}
_failures_lock = threading.Lock()


def _note_denial(key: tuple[str, str, str]) -> int:
    """Record an access denial for ``key``; how many happened before it in the window."""
    now = time.monotonic()
    with _failures_lock:
        times = _failures.setdefault(key, collections.deque())
        while times and now - times[0] > LOCKOUT_WINDOW_S:
            times.popleft()
        before = len(times)
        times.append(now)
        return before


def _clear_denials(key: tuple[str, str, str]) -> None:
    with _failures_lock:
        _failures.pop(key, None)


class OdooClient:
    """Odoo's external API for one connection, over the transport its protocol names."""

    def __init__(
        self,
        credentials: OdooCredentials,
        protocol: str = "xmlrpc",
        *,
        company_id: int | None = None,
        read_retries: int = READ_RETRIES,
        before_connect: Callable[[], None] | None = None,
        transport: OdooTransport | None = None,
    ) -> None:
        if protocol not in TRANSPORTS:
            raise OdooConfigError(f"Unknown Odoo protocol {protocol!r}.")
        if not credentials.base_url:
            raise OdooConfigError("The Odoo connection has no base URL.")
        self.credentials = credentials
        self.protocol = protocol
        self.company_id = company_id
        self.read_retries = read_retries
        self._before_connect = before_connect
        self.transport = transport or TRANSPORTS[protocol](credentials)
        self._uid: int | None = None

    def __repr__(self) -> str:
        return f"OdooClient({self.credentials.base_url!r}, {self.protocol!r})"

    @property
    def _denial_key(self) -> tuple[str, str, str]:
        c = self.credentials
        return (c.base_url, c.database, c.login)

    def _guarded(self, call: Callable[[], Any], *, read: bool, what: str) -> Any:
        """Run ``call`` after the address check; retry a read after a transport fault."""
        attempts = 1 + (self.read_retries if read else 0)
        for attempt in range(1, attempts + 1):
            if self._before_connect is not None:
                self._before_connect()
            try:
                return call()
            except OdooAccessDenied as exc:
                raise self._denied(exc) from None
            except OdooTransportError as exc:
                logger.warning("Odoo %s failed (attempt %d/%d): %s", what, attempt, attempts, exc)
                if attempt == attempts:
                    raise
                time.sleep(RETRY_PAUSE_S * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _denied(self, exc: OdooAccessDenied) -> OdooAccessDenied:
        self._uid = None
        if isinstance(exc, OdooTooManyLoginFailures):
            return exc
        if _note_denial(self._denial_key) >= LOCKOUT_FAILURES:
            return OdooTooManyLoginFailures(
                "Odoo refused the login after repeated failures; it locks the login for a "
                "minute after five: wait, then check the login and API key.",
                details=exc.details,
            )
        return exc

    def version(self) -> dict[str, Any]:
        """The server's version (``server_version``, ``server_version_info``...)."""
        return self._guarded(self.transport.version, read=True, what="version")

    def authenticate(self) -> int:
        """The Odoo user id of the login and API key; ``OdooAccessDenied`` when refused."""

        def call() -> int:
            uid = self.transport.authenticate()
            if not uid:
                raise OdooAccessDenied(
                    "Odoo refused the login or API key for this database "
                    "(or locked the login after repeated failures)."
                )
            return uid

        self._uid = self._guarded(call, read=True, what="authenticate")
        _clear_denials(self._denial_key)
        return self._uid

    @property
    def uid(self) -> int | None:
        """The user id once authenticated (JSON-2 needs none)."""
        return self._uid

    def _context(self, context: dict[str, Any] | None) -> dict[str, Any]:
        merged = dict(context or {})
        if self.company_id:
            merged.setdefault("allowed_company_ids", [self.company_id])
        return merged

    def execute_kw(
        self,
        model: str,
        method: str,
        args: list[Any],
        kwargs: dict[str, Any] | None = None,
        *,
        read: bool,
    ) -> Any:
        """Call ``model.method`` with datetimes converted; retried only when ``read``."""
        if self.protocol != "json2" and self._uid is None:
            self.authenticate()
        kwargs = dict(kwargs or {})
        context = self._context(kwargs.pop("context", None))
        if context:
            kwargs["context"] = context
        args, kwargs = odoo_values(list(args)), odoo_values(kwargs)
        logger.debug("Odoo %s.%s over %s", model, method, self.protocol)
        return self._guarded(
            lambda: self.transport.execute_kw(self._uid, model, method, args, kwargs),
            read=read,
            what=f"{model}.{method}",
        )

    def search_read(
        self,
        model: str,
        domain: list[Any],
        fields: list[str] | None = None,
        *,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Records matching ``domain``, as dicts of ``fields``."""
        kwargs: dict[str, Any] = {"offset": offset}
        if fields is not None:
            kwargs["fields"] = fields
        if limit is not None:
            kwargs["limit"] = limit
        if order:
            kwargs["order"] = order
        if context:
            kwargs["context"] = context
        return self.execute_kw(model, "search_read", [domain], kwargs, read=True)

    def read(
        self, model: str, ids: list[int], fields: list[str] | None = None
    ) -> list[dict[str, Any]]:
        """The records ``ids`` (missing ones are left out by Odoo)."""
        kwargs = {"fields": fields} if fields is not None else {}
        return self.execute_kw(model, "read", [ids], kwargs, read=True)

    def search_count(self, model: str, domain: list[Any]) -> int:
        """How many records match ``domain``."""
        return self.execute_kw(model, "search_count", [domain], read=True)

    def create(self, model: str, vals_list: list[dict[str, Any]]) -> list[int]:
        """Create records in one transaction (all or none); their ids, in order.

        Never retried: after a timeout the records may exist, so the caller searches.
        """
        result = self.execute_kw(model, "create", [vals_list], read=False)
        return result if isinstance(result, list) else [result]

    def write(self, model: str, ids: list[int], vals: dict[str, Any]) -> bool:
        """Write ``vals`` on the records ``ids``; never retried."""
        return bool(self.execute_kw(model, "write", [ids, vals], read=False))

    def unlink(self, model: str, ids: list[int]) -> bool:
        """Delete the records ``ids``; never retried (a lost answer may hide a success)."""
        return bool(self.execute_kw(model, "unlink", [ids], read=False))


__all__ = ["OdooClient", "OdooCredentials", "OdooError"]
