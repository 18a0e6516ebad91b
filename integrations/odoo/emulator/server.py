"""An Odoo server on loopback for tests and demos: XML-RPC, JSON-RPC and JSON-2.

A real HTTP server (``ThreadingHTTPServer`` in a thread) so the client is tested over
real sockets, timeouts and closed connections, the way it meets Odoo in production. It
answers in Odoo's shapes (``odoo-api.md``): XML-RPC faults 1-4, JSON-RPC errors with
``data.name``, JSON-2 HTTP statuses; authenticates by password or 40-hex API key; and
applies ``hr.attendance``'s validity rules with their exact messages (``models.py``).

Faults are injected the way they happen: ``down()`` stops listening (connection
refused) and ``up()`` listens again on the same port; ``inject("stall")`` holds the next
call ``stall_seconds``; ``inject("http_500")``/``("http_502")`` answers a proxy's error
page; ``inject("lose_answer")`` commits the next create and closes the connection
without answering; ``revoke_key()``; and five failed logins in 60 s lock the login.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import json
import secrets
import threading
import time
import traceback
import xmlrpc.client
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from config.loopback import LOOPBACK, free_port, stop_at_exit
from integrations.odoo.emulator.models import Fault, Store

LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW_S = 60.0
TOO_MANY_FAILURES = "Too many login failures, please wait a bit before trying again."

XML_RPC_FAULT_CODES = {
    "user": 2,
    "validation": 2,
    "missing": 2,
    "unknown_model": 2,
    "access_denied": 3,
    "access_error": 4,
    "private": 4,
    "value": 1,
    "other": 1,
}
JSON_NAMES = {
    "user": "odoo.exceptions.UserError",
    "validation": "odoo.exceptions.ValidationError",
    "missing": "odoo.exceptions.MissingError",
    "unknown_model": "odoo.exceptions.UserError",
    "access_denied": "odoo.exceptions.AccessDenied",
    "access_error": "odoo.exceptions.AccessError",
    "private": "odoo.exceptions.AccessError",
    "value": "builtins.ValueError",
    "other": "builtins.Exception",
    "bad_database": "psycopg2.OperationalError",
}
JSON2_STATUSES = {
    "user": 422,
    "validation": 422,
    "missing": 422,
    "value": 422,
    "unknown_model": 404,
    "unknown_method": 404,
    "access_denied": 401,
    "access_error": 403,
    "private": 403,
    "other": 500,
    "bad_database": 404,
}
READ_METHODS = {"search_read", "read", "search", "search_count"}


@dataclass
class OdooUser:
    """An Odoo user: a password (refused over RPC when 2FA is on) and API keys."""

    uid: int
    login: str
    password: str
    api_keys: set[str] = field(default_factory=set)
    totp: bool = False


def new_api_key() -> str:
    """An Odoo-style API key: 40 hex characters."""
    return secrets.token_hex(20)


class OdooEmulator:
    """One Odoo server with one or more databases sharing the emulated data."""

    def __init__(
        self,
        *,
        database: str = "presence",
        login: str = "admin",
        password: str = "admin",  # noqa: S107 - the emulated user's test password
        api_key: str | None = None,
        version: str = "17.0",
        stall_seconds: float = 10.0,
        port: int | None = None,
    ) -> None:
        self.databases = {database}
        self.database = database
        self.login = login
        self.api_key = api_key or new_api_key()
        self.users = {login: OdooUser(2, login, password, {self.api_key})}
        self.version_string = version
        self.stall_seconds = stall_seconds
        self.port = port or free_port()
        self.clock_offset = dt.timedelta(0)
        self.store = Store(self._now, versioned=self.major_version >= 19)
        self.calls: list[tuple[str, str, str]] = []
        self._faults: collections.deque[str] = collections.deque()
        self._failures: dict[str, collections.deque[float]] = collections.defaultdict(
            collections.deque
        )
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        stop_at_exit(self)

    # ----- lifecycle ---------------------------------------------------------------
    @property
    def url(self) -> str:
        """The base URL, as a connection stores it."""
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> OdooEmulator:
        """Listen on the port (again, after ``down``)."""
        if self._server is not None:
            return self
        self._release.clear()
        handler = type("Handler", (_Handler,), {"emulator": self})
        server = ThreadingHTTPServer((LOOPBACK, self.port), handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and release stalled calls: new connections are refused."""
        self._release.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    down = stop
    up = start

    def __enter__(self) -> OdooEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def major_version(self) -> int:
        """17 for "17.0": from 19 on, departments and jobs live on ``hr.version``."""
        return int(self.version_string.split(".")[0])

    # ----- data and faults -----------------------------------------------------------
    def _now(self) -> dt.datetime:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        return now + self.clock_offset

    def department(self, name: str) -> int:
        """The id of the department called ``name``, created as needed."""
        with self.store.lock:
            found = self.store.search("hr.department", [("name", "=", name)])
            return found[0] if found else self.store.insert("hr.department", {"name": name})

    def add_employee(self, name: str, **vals: Any) -> int:
        """An employee; ``department`` (a name) creates the department as needed."""
        department = vals.pop("department", None)
        if department:
            vals["department_id"] = self.department(department)
        with self.store.lock:
            return self.store.insert("hr.employee", {"name": name, **vals})

    def records(self, model: str, domain: list[Any] | None = None) -> list[dict[str, Any]]:
        """Records as the API returns them (for assertions)."""
        with self.store.lock:
            ids = self.store.search(model, domain or [], context={"active_test": False})
            return self.store.read(model, ids, None)

    def write_raw(self, model: str, record_id: int, vals: dict[str, Any]) -> None:
        """Change a record as a person would in Odoo (write_date moves, rules apply; from
        19 an employee's department and job move its current hr.version's instead)."""
        with self.store.lock:
            self.store.write(model, [record_id], vals)

    def inject(self, fault: str, times: int = 1) -> None:
        """Make the next ``times`` calls fail: ``stall``, ``http_500``, ``http_502``, or
        ``lose_answer`` (the next creates commit, and their answers never arrive)."""
        if fault not in ("stall", "http_500", "http_502", "lose_answer"):
            raise ValueError(f"unknown fault {fault!r}")
        self._faults.extend([fault] * times)

    def clear_faults(self) -> None:
        """Forget injected faults that have not happened yet."""
        self._faults.clear()

    def revoke_key(self, key: str | None = None) -> None:
        """Delete an API key (the connection's by default), as a user would in Odoo."""
        for user in self.users.values():
            user.api_keys.discard(key or self.api_key)

    def take_fault(self, *, is_create: bool) -> str | None:
        """The injected fault for this call, if any (``lose_answer`` waits for a create)."""
        if not self._faults:
            return None
        fault = self._faults[0]
        if fault == "lose_answer" and not is_create:
            return None
        with contextlib.suppress(IndexError):
            self._faults.popleft()
        return fault

    def stall(self) -> None:
        """Hold the call ``stall_seconds`` (released at once by ``stop``)."""
        self._release.wait(self.stall_seconds)

    # ----- Odoo's services -----------------------------------------------------------
    def version(self) -> dict[str, Any]:
        """``common.version()``."""
        major, minor = (int(part) for part in self.version_string.split(".")[:2])
        return {
            "server_version": self.version_string,
            "server_version_info": [major, minor, 0, "final", 0, ""],
            "server_serie": self.version_string,
            "protocol_version": 1,
        }

    def web_version(self) -> dict[str, Any]:
        """``GET /web/version`` (odoo/addons/base/controllers/rpc.py): Odoo's own names,
        not ``common.version()``'s."""
        common = self.version()
        return {"version_info": common["server_version_info"], "version": self.version_string}

    def _check_database(self, database: str) -> None:
        if database not in self.databases:
            raise Fault(
                "bad_database",
                f'connection to server failed: FATAL:  database "{database}" does not exist',
            )

    def _locked(self, login: str) -> bool:
        failures = self._failures[login]
        now = time.monotonic()
        while failures and now - failures[0] > LOCKOUT_WINDOW_S:
            failures.popleft()
        return len(failures) >= LOCKOUT_FAILURES

    def _credential_ok(self, user: OdooUser | None, secret: str) -> bool:
        if user is None:
            return False
        return secret in user.api_keys or (not user.totp and secret == user.password)

    def login_uid(self, database: str, login: str, secret: str) -> int:
        """``res.users._login``: the uid, or AccessDenied (counted towards the lock)."""
        self._check_database(database)
        if self._locked(login):
            raise Fault("access_denied", TOO_MANY_FAILURES)
        user = self.users.get(login)
        if not self._credential_ok(user, secret):
            self._failures[login].append(time.monotonic())
            raise Fault("access_denied", "Access Denied")
        self._failures.pop(login, None)
        return user.uid

    def authenticate(self, database: str, login: str, secret: str) -> int | bool:
        """``common.authenticate``: False for any AccessDenied, lock included."""
        try:
            return self.login_uid(database, login, secret)
        except Fault as fault:
            if fault.kind == "access_denied":
                return False
            raise

    def check_uid(self, database: str, uid: Any, secret: str) -> int:
        """``res.users.check``: every object call re-checks the credentials."""
        self._check_database(database)
        user = next((u for u in self.users.values() if u.uid == uid), None)
        if not self._credential_ok(user, secret):
            raise Fault("access_denied", "Access Denied")
        return uid

    def uid_for_key(self, key: str) -> int:
        """JSON-2's bearer key: the user it belongs to, or 401."""
        for user in self.users.values():
            if key and key in user.api_keys:
                return user.uid
        raise Fault("access_denied", "Invalid apikey")

    def execute(
        self, uid: int, model: str, method: str, args: list[Any], kwargs: dict[str, Any]
    ) -> Any:
        """One ORM call in one transaction: on any fault, nothing it did remains."""
        if method.startswith("_"):
            raise Fault(
                "private", f"Private methods (such as {model}.{method}) cannot be called remotely."
            )
        with self.store.lock:
            saved = self.store.snapshot()
            try:
                return self._dispatch(uid, model, method, list(args), dict(kwargs))
            except Exception:
                self.store.restore(saved)
                raise

    def _dispatch(
        self, uid: int, model: str, method: str, args: list[Any], kwargs: dict[str, Any]
    ) -> Any:
        if model == "res.users" and method == "context_get":
            return {"uid": uid, "lang": "en_US", "tz": "UTC"}
        store = self.store
        store.table(model)
        context = kwargs.pop("context", None) or {}
        try:
            if method == "search_read":
                domain = args[0] if args else kwargs.pop("domain", [])
                fields = kwargs.pop("fields", None)
                ids = store.search(model, domain, context=context, **kwargs)
                return store.read(model, ids, fields)
            if method == "search":
                domain = args[0] if args else kwargs.pop("domain", [])
                return store.search(model, domain, context=context, **kwargs)
            if method == "search_count":
                domain = args[0] if args else kwargs.pop("domain", [])
                return len(store.search(model, domain, context=context))
            if method == "read":
                ids = args[0] if args else kwargs.pop("ids")
                fields = args[1] if len(args) > 1 else kwargs.pop("fields", None)
                return store.read(model, _ids(ids), fields)
            if method == "create":
                vals = args[0] if args else kwargs.pop("vals_list")
                if isinstance(vals, dict):
                    return store.create(model, [vals])[0]
                return store.create(model, list(vals))
            if method == "write":
                ids = args[0] if args else kwargs.pop("ids")
                vals = args[1] if len(args) > 1 else kwargs.pop("vals")
                return store.write(model, _ids(ids), vals)
            if method == "unlink":
                ids = args[0] if args else kwargs.pop("ids")
                return store.unlink(model, _ids(ids))
        except TypeError as exc:
            raise Fault("value", f"{method}() got unexpected arguments: {exc}") from None
        raise Fault("unknown_method", f"The method '{method}' does not exist on '{model}'")


def _ids(value: Any) -> list[int]:
    return [value] if isinstance(value, int) else list(value)


class _Handler(BaseHTTPRequestHandler):
    """Routes Odoo's RPC paths; one request is one call."""

    emulator: OdooEmulator
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; with Nagle on, a kept-alive connection waits
    # for the client's delayed ACK (40 ms) between them, which no real Odoo does.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read the emulator's state, not its access log."""

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(body)

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json")

    def _before(self, is_create: bool) -> str | None:
        """Apply an injected fault; returns "lose_answer" when the answer must be lost,
        or "handled" when a reply was already sent."""
        fault = self.emulator.take_fault(is_create=is_create)
        if fault == "stall":
            self.emulator.stall()
        elif fault in ("http_500", "http_502"):
            status = 500 if fault == "http_500" else 502
            self._send(status, f"<h1>{status}</h1>".encode(), "text/html")
            return "handled"
        return fault

    def _lose_answer(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(2)

    def do_GET(self) -> None:
        """``/web/version`` (JSON-2 has no common service)."""
        if self.path.rstrip("/") == "/web/version":
            if self._before(False) != "handled":
                self._json(200, self.emulator.web_version())
            return
        self._json(404, {"name": "werkzeug.exceptions.NotFound", "message": "Not Found"})

    def do_POST(self) -> None:
        """Dispatch by path: XML-RPC, JSON-RPC or JSON-2."""
        body = self._body()
        if self.path in ("/xmlrpc/2/common", "/xmlrpc/2/object"):
            self._xmlrpc(self.path.rsplit("/", 1)[1], body)
        elif self.path == "/jsonrpc":
            self._jsonrpc(body)
        elif self.path.startswith("/json/2/"):
            self._json2(body)
        else:
            self._json(404, {"name": "werkzeug.exceptions.NotFound", "message": "Not Found"})

    # ----- the three transports ------------------------------------------------------
    def _service(self, service: str, method: str, args: list[Any], transport: str) -> Any:
        emulator = self.emulator
        if service == "common":
            emulator.calls.append((transport, "common", method))
            if method == "version":
                return emulator.version()
            if method in ("authenticate", "login"):
                database, login, secret = args[0], args[1], args[2]
                return emulator.authenticate(database, login, secret)
            raise Fault("other", f"AttributeError: common has no method {method!r}")
        if service == "object" and method == "execute_kw":
            database, uid, secret, model, model_method = args[:5]
            call_args = args[5] if len(args) > 5 else []
            call_kwargs = args[6] if len(args) > 6 else {}
            emulator.calls.append((transport, model, model_method))
            emulator.check_uid(database, uid, secret)
            return emulator.execute(uid, model, model_method, call_args, call_kwargs)
        raise Fault("other", f"Unknown service or method {service}.{method}")

    def _xmlrpc(self, service: str, body: bytes) -> None:
        try:
            args, method = xmlrpc.client.loads(body)
        except (ValueError, xmlrpc.client.ResponseError, TypeError):
            self._send(400, b"bad request", "text/plain")
            return
        is_create = method == "execute_kw" and len(args) > 4 and args[4] == "create"
        fault = self._before(is_create)
        if fault == "handled":
            return
        try:
            result = self._service(service, method, list(args), "xmlrpc")
            if result is None:
                raise Fault("other", "TypeError: cannot marshal None unless allow_none is enabled")
            payload = xmlrpc.client.dumps((result,), methodresponse=True, allow_none=True)
        except Fault as exc:
            code = XML_RPC_FAULT_CODES.get(exc.kind, 1)
            text = exc.message if code != 1 else _traceback(exc)
            payload = xmlrpc.client.dumps(xmlrpc.client.Fault(code, text), allow_none=True)
        if fault == "lose_answer":
            self._lose_answer()
            return
        self._send(200, payload.encode(), "text/xml")

    def _jsonrpc(self, body: bytes) -> None:
        try:
            request = json.loads(body)
            params = request["params"]
            service, method, args = params["service"], params["method"], params.get("args", [])
        except (ValueError, KeyError, TypeError):
            self._json(400, {"error": "bad request"})
            return
        request_id = request.get("id")
        is_create = method == "execute_kw" and len(args) > 4 and args[4] == "create"
        fault = self._before(is_create)
        if fault == "handled":
            return
        try:
            payload = {"jsonrpc": "2.0", "id": request_id, "result": None}
            payload["result"] = self._service(service, method, list(args), "jsonrpc")
        except Fault as exc:
            name = JSON_NAMES.get(exc.kind, "builtins.Exception")
            payload = {
                "jsonrpc": "2.0",
                "id": request_id,
                "error": {
                    "code": 200,
                    "message": "Odoo Server Error",
                    "data": {
                        "name": name,
                        "debug": _traceback(exc),
                        "message": exc.message,
                        "arguments": [exc.message],
                        "context": {},
                    },
                },
            }
        if fault == "lose_answer":
            self._lose_answer()
            return
        self._json(200, payload)

    def _json2(self, body: bytes) -> None:
        parts = self.path.split("?")[0].split("/")
        if len(parts) != 5 or not parts[3] or not parts[4]:
            self._json(404, {"name": "werkzeug.exceptions.NotFound", "message": "Not Found"})
            return
        model, method = parts[3], parts[4]
        fault = self._before(method == "create")
        if fault == "handled":
            return
        emulator = self.emulator
        try:
            authorization = self.headers.get("Authorization", "")
            scheme, _, key = authorization.partition(" ")
            if scheme.lower() != "bearer":
                raise Fault("access_denied", "Invalid apikey")
            database = self.headers.get("X-Odoo-Database") or emulator.database
            emulator._check_database(database)
            uid = emulator.uid_for_key(key.strip())
            try:
                kwargs = json.loads(body or b"{}")
            except ValueError:
                raise Fault("value", "The body is not JSON.") from None
            if not isinstance(kwargs, dict):
                raise Fault("value", "The body must be an object of named arguments.")
            emulator.calls.append(("json2", model, method))
            result = emulator.execute(uid, model, method, [], kwargs)
            if method == "create" and not isinstance(result, list):
                result = [result]
            status, payload = 200, result
        except Fault as exc:
            status = JSON2_STATUSES.get(exc.kind, 500)
            payload = {
                "name": JSON_NAMES.get(exc.kind, "werkzeug.exceptions.NotFound"),
                "message": exc.message,
                "arguments": [exc.message],
                "context": {},
                "debug": _traceback(exc),
            }
        if fault == "lose_answer":
            self._lose_answer()
            return
        self._json(status, payload)


def _traceback(exc: Exception) -> str:
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return f"Traceback (most recent call last):\n  (emulated)\n{text}"
