"""Odoo's three RPC transports behind one interface, each with a timeout on every call.

``OdooTransport`` is the one point where the client meets the network (architecture:
"a client over a transport interface"). Each transport turns its wire faults into the
exceptions of ``faults`` by code, name or HTTP status, never by message text:

- ``XmlRpcTransport``: ``/xmlrpc/2/common`` and ``/xmlrpc/2/object`` (Odoo up to 21);
- ``JsonRpcTransport``: ``/jsonrpc`` (Odoo up to 21);
- ``Json2Transport``: ``/json/2/<model>/<method>`` with a bearer API key (Odoo 19+).
"""

from __future__ import annotations

import http.client
import itertools
import socket
import xmlrpc.client
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import requests

from integrations.odoo.faults import (
    OdooAccessDenied,
    OdooConnectionRefused,
    OdooError,
    OdooHttpError,
    OdooServerError,
    OdooTimeout,
    OdooTransportError,
    classify_json2,
    classify_json_rpc,
    classify_xml_rpc,
)


@dataclass(frozen=True)
class OdooCredentials:
    """Where Odoo is and who we are there; ``api_key`` is never logged or shown."""

    base_url: str
    database: str
    login: str
    api_key: str = ""
    timeout_seconds: float = 10.0

    def url(self, path: str) -> str:
        """``path`` under the base URL (which may itself have a path prefix)."""
        return self.base_url.rstrip("/") + path

    def __repr__(self) -> str:
        return f"OdooCredentials(base_url={self.base_url!r}, database={self.database!r})"


def _network_error(exc: BaseException, where: str) -> OdooTransportError:
    """The transport error for a socket-level failure, in words an admin can act on."""
    if isinstance(exc, socket.timeout | TimeoutError | requests.Timeout):
        return OdooTimeout(f"Odoo did not answer within the timeout ({where}).")
    if isinstance(exc, ConnectionRefusedError) or (
        isinstance(exc, requests.ConnectionError) and _caused_by(exc, ConnectionRefusedError)
    ):
        return OdooConnectionRefused(f"Odoo refused the connection ({where}): is it running?")
    if isinstance(exc, socket.gaierror) or (
        isinstance(exc, requests.ConnectionError) and _caused_by(exc, socket.gaierror)
    ):
        return OdooConnectionRefused(f"Odoo's host was not found ({where}).")
    return OdooTransportError(
        f"The connection to Odoo failed before an answer arrived ({where}): {type(exc).__name__}."
    )


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kind):
            return True
        stack.extend([current.__cause__, current.__context__, *_args_errors(current)])
    return False


def _args_errors(exc: BaseException) -> list[BaseException]:
    found = [arg for arg in exc.args if isinstance(arg, BaseException)]
    reason = getattr(exc, "reason", None)
    if isinstance(reason, BaseException):
        found.append(reason)
    return found


def _http_status_error(status: int, where: str) -> OdooError:
    """A non-Odoo HTTP failure (a 5xx of Odoo or its proxy)."""
    if status >= 500:
        return OdooHttpError(f"Odoo answered HTTP {status} ({where}).", status=status)
    return OdooServerError(f"Odoo answered HTTP {status} ({where}).", details={"status": status})


class OdooTransport(ABC):
    """One way of calling Odoo: ``version``, ``authenticate`` and ``execute_kw``."""

    def __init__(self, credentials: OdooCredentials) -> None:
        self.credentials = credentials

    @abstractmethod
    def version(self) -> dict[str, Any]:
        """The server's version information (no authentication needed)."""

    @abstractmethod
    def authenticate(self) -> int | None:
        """The user id for the login and key, or None when Odoo refuses them."""

    @abstractmethod
    def execute_kw(
        self, uid: int | None, model: str, method: str, args: list[Any], kwargs: dict[str, Any]
    ) -> Any:
        """Call ``model.method(*args, **kwargs)`` as the user; faults raise ``OdooError``."""


class _SingleShotMixin:
    """One attempt per request, with a socket timeout.

    xmlrpc.client has no timeout of its own, and its ``request`` silently sends a call
    again when the connection drops before the answer: for a create whose answer was
    lost, that is a second attendance in Odoo. Retrying is the client's decision, and it
    never retries a write.
    """

    timeout: float

    def make_connection(self, host: Any) -> http.client.HTTPConnection:
        """A connection with the timeout set."""
        connection = super().make_connection(host)  # type: ignore[misc]
        connection.timeout = self.timeout
        return connection

    def request(self, host: Any, handler: str, request_body: bytes, verbose: bool = False) -> Any:
        """Send once; a dropped connection is the caller's to judge."""
        return self.single_request(host, handler, request_body, verbose)  # type: ignore[attr-defined]


class _TimeoutTransport(_SingleShotMixin, xmlrpc.client.Transport):
    """Plain HTTP XML-RPC, one attempt, with a timeout."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout


class _TimeoutSafeTransport(_SingleShotMixin, xmlrpc.client.SafeTransport):
    """HTTPS XML-RPC, one attempt, with a timeout."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout


class XmlRpcTransport(OdooTransport):
    """XML-RPC: faults come back as HTTP 200 with a ``faultCode`` (1-4)."""

    def _proxy(self, service: str) -> xmlrpc.client.ServerProxy:
        url = self.credentials.url(f"/xmlrpc/2/{service}")
        timeout = self.credentials.timeout_seconds
        transport: xmlrpc.client.Transport = (
            _TimeoutSafeTransport(timeout)
            if url.lower().startswith("https:")
            else _TimeoutTransport(timeout)
        )
        return xmlrpc.client.ServerProxy(url, transport=transport, allow_none=True)

    def _call(self, service: str, method: str, *args: Any) -> Any:
        where = f"xmlrpc {service}.{method}"
        try:
            return getattr(self._proxy(service), method)(*args)
        except xmlrpc.client.Fault as fault:
            error = classify_xml_rpc(fault.faultCode)
            message = _first_line(fault.faultString)
            raise error(message, details={"fault_code": fault.faultCode}) from None
        except xmlrpc.client.ProtocolError as exc:
            raise _http_status_error(exc.errcode, where) from None
        except (OSError, http.client.HTTPException, xmlrpc.client.ResponseError) as exc:
            raise _network_error(exc, where) from None

    def version(self) -> dict[str, Any]:
        """``common.version()``."""
        return self._call("common", "version")

    def authenticate(self) -> int | None:
        """``common.authenticate(db, login, key, {})``; False becomes None."""
        c = self.credentials
        uid = self._call("common", "authenticate", c.database, c.login, c.api_key, {})
        return uid or None

    def execute_kw(
        self, uid: int | None, model: str, method: str, args: list[Any], kwargs: dict[str, Any]
    ) -> Any:
        """``object.execute_kw(db, uid, key, model, method, args, kwargs)``."""
        c = self.credentials
        return self._call(
            "object", "execute_kw", c.database, uid, c.api_key, model, method, args, kwargs
        )


def _first_line(text: str) -> str:
    """An XML-RPC fault string may be a whole traceback: its last line says what failed."""
    lines = [line for line in str(text).strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "Odoo reported an error."


class _HttpJsonTransport(OdooTransport):
    """Shared HTTP plumbing of the JSON transports: one session, a timeout on each call."""

    def __init__(self, credentials: OdooCredentials) -> None:
        super().__init__(credentials)
        self._session = requests.Session()
        self._ids = itertools.count(1)

    def _post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
        where = f"{type(self).__name__} {path.split('?')[0]}"
        try:
            response = self._session.post(
                self.credentials.url(path),
                json=body,
                headers=headers,
                timeout=self.credentials.timeout_seconds,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise _network_error(exc, where) from None
        return self._handle(response, where)

    @abstractmethod
    def _handle(self, response: requests.Response, where: str) -> Any:
        """The result of a response, or the ``OdooError`` it carries."""


class JsonRpcTransport(_HttpJsonTransport):
    """JSON-RPC 2.0 at ``/jsonrpc``: errors are HTTP 200 with ``error.data.name``."""

    def _rpc(self, service: str, method: str, *args: Any) -> Any:
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": list(args)},
            "id": next(self._ids),
        }
        return self._post("/jsonrpc", body)

    def _handle(self, response: requests.Response, where: str) -> Any:
        if response.status_code != 200:
            raise _http_status_error(response.status_code, where)
        try:
            payload = response.json()
        except ValueError:
            raise OdooServerError(f"Odoo's answer is not JSON ({where}).") from None
        error = payload.get("error") if isinstance(payload, dict) else None
        if error:
            data = error.get("data") or {}
            name = str(data.get("name") or "")
            message = str(data.get("message") or error.get("message") or "Odoo error")
            raise classify_json_rpc(name)(message, details={"name": name})
        if not isinstance(payload, dict) or "result" not in payload:
            raise OdooServerError(f"Odoo's answer has no result ({where}).")
        return payload["result"]

    def version(self) -> dict[str, Any]:
        """``common.version``."""
        return self._rpc("common", "version")

    def authenticate(self) -> int | None:
        """``common.authenticate``; False becomes None."""
        c = self.credentials
        return self._rpc("common", "authenticate", c.database, c.login, c.api_key, {}) or None

    def execute_kw(
        self, uid: int | None, model: str, method: str, args: list[Any], kwargs: dict[str, Any]
    ) -> Any:
        """``object.execute_kw``."""
        c = self.credentials
        return self._rpc(
            "object", "execute_kw", c.database, uid, c.api_key, model, method, args, kwargs
        )


#: How JSON-2 names the positional arguments of each method the client calls.
JSON2_ARGUMENT_NAMES: dict[str, tuple[str, ...]] = {
    "search_read": ("domain",),
    "search": ("domain",),
    "search_count": ("domain",),
    "read": ("ids", "fields"),
    "create": ("vals_list",),
    "write": ("ids", "vals"),
    "unlink": ("ids",),
}


class Json2Transport(_HttpJsonTransport):
    """JSON-2 (Odoo 19+): bare JSON bodies, a bearer key, errors as HTTP statuses."""

    def _headers(self) -> dict[str, str]:
        headers = {"Authorization": f"bearer {self.credentials.api_key}"}
        if self.credentials.database:
            headers["X-Odoo-Database"] = self.credentials.database
        return headers

    def _handle(self, response: requests.Response, where: str) -> Any:
        if response.status_code == 200:
            try:
                return response.json()
            except ValueError:
                raise OdooServerError(f"Odoo's answer is not JSON ({where}).") from None
        name, message = "", f"Odoo answered HTTP {response.status_code} ({where})."
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and ("name" in body or "message" in body):
            name = str(body.get("name") or "")
            message = str(body.get("message") or message)
        elif response.status_code >= 500:
            raise _http_status_error(response.status_code, where)
        error = classify_json2(response.status_code, name)
        if issubclass(error, OdooHttpError):
            raise error(message, status=response.status_code)
        raise error(message, details={"status": response.status_code, "name": name})

    def version(self) -> dict[str, Any]:
        """``GET /web/version`` (JSON-2 has no common service), under the names
        ``common.version()`` gives them: that route answers ``version`` and
        ``version_info``."""
        where = "json2 /web/version"
        try:
            response = self._session.get(
                self.credentials.url("/web/version"),
                timeout=self.credentials.timeout_seconds,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise _network_error(exc, where) from None
        answer = self._handle(response, where)
        if not isinstance(answer, dict):
            return {}
        return {
            "server_version": answer.get("version"),
            "server_version_info": answer.get("version_info"),
            **answer,
        }

    def authenticate(self) -> int | None:
        """``res.users.context_get`` with the key: its ``uid``, or None on a 401."""
        try:
            context = self.execute_kw(None, "res.users", "context_get", [], {})
        except OdooAccessDenied:
            return None
        return int(context["uid"]) if isinstance(context, dict) and context.get("uid") else None

    def execute_kw(
        self, uid: int | None, model: str, method: str, args: list[Any], kwargs: dict[str, Any]
    ) -> Any:
        """``POST /json/2/<model>/<method>`` with the arguments named."""
        names = JSON2_ARGUMENT_NAMES.get(method, ())
        if len(args) > len(names):
            raise ValueError(f"JSON-2 cannot name the positional arguments of {method}.")
        body = dict(zip(names, args, strict=False)) | kwargs
        return self._post(f"/json/2/{model}/{method}", body, headers=self._headers())


TRANSPORTS: dict[str, type[OdooTransport]] = {
    "xmlrpc": XmlRpcTransport,
    "jsonrpc": JsonRpcTransport,
    "json2": Json2Transport,
}
