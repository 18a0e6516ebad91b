"""The emulator's data and rules: hr.employee, hr.attendance and Odoo's domain language.

Kept apart from the HTTP side (``server.py``) so the rules of ``odoo-api.md`` read as
one piece: naive datetimes only, ``_check_validity`` with its exact messages, domains,
``active_test``, ``write_date``, many2one values as ``[id, name]`` and empty as False.

From Odoo 19 (``versioned``) an employee's department and job live on its current
``hr.version`` (``version_id``): the employee shows them as related fields, and changing
them writes the version (its ``write_date`` moves) and not the employee's row.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import threading
from collections.abc import Callable
from typing import Any

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DISPLAY_FORMAT = "%m/%d/%Y %H:%M:%S"  # en_US, as the API user's language formats it
_NAIVE = re.compile(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$")


class Fault(Exception):
    """An Odoo exception, by kind: user, validation, missing, access_denied,
    access_error, value (builtins.ValueError), private, unknown_model, other."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def parse_datetime(value: Any) -> dt.datetime | None:
    """Odoo's ``fields.Datetime.to_datetime``: naive strings only; "T", "Z", offsets and
    microseconds raise ValueError, as ``strptime`` does in Odoo."""
    if value is False or value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    text = str(value)
    if not _NAIVE.match(text):
        raise Fault("value", f"time data {text!r} does not match format '{DATETIME_FORMAT}'")
    return dt.datetime.strptime(text, DATETIME_FORMAT[: len(text) - 2])


def fmt(value: dt.datetime) -> str:
    """How Odoo's messages show a datetime (UTC user, en_US)."""
    return value.strftime(DISPLAY_FORMAT)


class Table:
    """One model's records: id -> stored values (datetimes as naive ``datetime``)."""

    def __init__(
        self, name: str, fields: dict[str, str], default_order: str, has_active: bool
    ) -> None:
        self.name = name
        self.fields = fields  # field -> type: char, int, bool, datetime, m2o:<model>, binary
        self.default_order = default_order
        self.has_active = has_active
        self.rows: dict[int, dict[str, Any]] = {}
        self.next_id = 1


VERSIONED_FIELDS = ("department_id", "job_title")  # on hr.version from Odoo 19


class Store:
    """Every table of the emulated database, under one lock (one call = one transaction)."""

    def __init__(self, clock: Callable[[], dt.datetime], *, versioned: bool = False) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.versioned = versioned
        self.tables = {
            "hr.department": Table("hr.department", {"name": "char"}, "name", False),
            "res.company": Table("res.company", {"name": "char"}, "name", False),
            "hr.employee": Table(
                "hr.employee",
                {
                    "name": "char",
                    "barcode": "char",
                    "pin": "char",
                    "department_id": "m2o:hr.department",
                    "job_title": "char",
                    "work_email": "char",
                    "active": "bool",
                    "image_1920": "binary",
                    "company_id": "m2o:res.company",
                    "tz": "char",
                },
                "name",
                True,
            ),
            "hr.attendance": Table(
                "hr.attendance",
                {
                    "employee_id": "m2o:hr.employee",
                    "check_in": "datetime",
                    "check_out": "datetime",
                    "in_mode": "char",
                    "out_mode": "char",
                },
                "check_in desc",
                False,
            ),
        }
        if versioned:
            self.tables["hr.employee"].fields["version_id"] = "m2o:hr.version"
            self.tables["hr.version"] = Table(
                "hr.version",
                {
                    "employee_id": "m2o:hr.employee",
                    "department_id": "m2o:hr.department",
                    "job_title": "char",
                    "date_version": "datetime",
                },
                "date_version desc, id desc",
                False,
            )
        self.insert("res.company", {"name": "My Company"})

    # ----- storage -------------------------------------------------------------------
    def table(self, model: str) -> Table:
        """The table of ``model``; Odoo's fault 2 for a model that does not exist."""
        try:
            return self.tables[model]
        except KeyError:
            raise Fault("unknown_model", f"Object {model} doesn't exist") from None

    def insert(self, model: str, vals: dict[str, Any]) -> int:
        """Store a record without rules (test set-up); returns its id."""
        table = self.table(model)
        record_id = table.next_id
        table.next_id += 1
        now = self.clock()
        row = {name: None for name in table.fields}
        if table.has_active:
            row["active"] = True
        if "company_id" in table.fields:
            row["company_id"] = 1
        row.update(self._clean(table, vals))
        row.update(id=record_id, create_date=now, write_date=now)
        table.rows[record_id] = row
        if self.versioned and model == "hr.employee":
            version = {name: row[name] for name in VERSIONED_FIELDS}
            version.update(employee_id=record_id, date_version=now)
            row["version_id"] = self.insert("hr.version", version)
        return record_id

    def _clean(self, table: Table, vals: dict[str, Any]) -> dict[str, Any]:
        clean = {}
        for name, value in vals.items():
            kind = table.fields.get(name)
            if kind is None:
                raise Fault("value", f"Invalid field {name!r} on model {table.name!r}")
            if kind == "datetime":
                clean[name] = parse_datetime(value)
            elif kind.startswith("m2o:"):
                clean[name] = (value[0] if isinstance(value, list) else value) or None
            else:
                clean[name] = None if value is False and kind != "bool" else value
        return clean

    def snapshot(self) -> dict[str, tuple[dict[int, dict[str, Any]], int]]:
        """A copy to roll back to when a call fails (one call is one transaction)."""
        return {name: (copy.deepcopy(t.rows), t.next_id) for name, t in self.tables.items()}

    def restore(self, saved: dict[str, tuple[dict[int, dict[str, Any]], int]]) -> None:
        """Roll back to ``snapshot``'s state."""
        for name, (rows, next_id) in saved.items():
            self.tables[name].rows, self.tables[name].next_id = rows, next_id

    # ----- reading -------------------------------------------------------------------
    def search(
        self,
        model: str,
        domain: list[Any],
        *,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> list[int]:
        """Ids matching ``domain``, ordered, paged; archived rows only without active_test."""
        table = self.table(model)
        predicate = compile_domain(table, list(domain or []))
        active_test = (context or {}).get("active_test", True)
        mentions_active = any(
            isinstance(leaf, list | tuple) and leaf and leaf[0] == "active" for leaf in domain
        )
        rows = [
            row
            for row in table.rows.values()
            if predicate(row)
            and not (table.has_active and active_test and not mentions_active and not row["active"])
        ]
        for field, descending in reversed(parse_order(order or table.default_order)):
            rows.sort(key=lambda row, f=field: _sort_key(row.get(f)), reverse=descending)
        ids = [row["id"] for row in rows][offset:]
        return ids[:limit] if limit else ids

    def read(self, model: str, ids: list[int], fields: list[str] | None) -> list[dict[str, Any]]:
        """Records as Odoo returns them: many2one ``[id, name]``, empty False."""
        table = self.table(model)
        names = fields or ["id", *table.fields, "write_date", "create_date"]
        records = []
        for record_id in ids:
            row = table.rows.get(record_id)
            if row is None:
                continue
            record = {"id": record_id}
            for name in names:
                if name != "id":
                    record[name] = self._out(table, name, row)
            records.append(record)
        return records

    def _out(self, table: Table, name: str, row: dict[str, Any]) -> Any:
        if name == "worked_hours":
            if row.get("check_out") and row.get("check_in"):
                return (row["check_out"] - row["check_in"]).total_seconds() / 3600
            return 0.0
        if name == "display_name":
            return self.display_name(table.name, row["id"])
        if name not in row:
            raise Fault("value", f"Invalid field {name!r} on model {table.name!r}")
        value = row[name]
        kind = table.fields.get(name, "datetime" if name.endswith("_date") else "char")
        if value is None:
            return False
        if kind == "datetime":
            return value.strftime(DATETIME_FORMAT)
        if kind.startswith("m2o:"):
            return [value, self.display_name(kind[4:], value)]
        return value

    def display_name(self, model: str, record_id: int) -> str:
        """The name Odoo shows for a record."""
        row = self.tables[model].rows.get(record_id)
        if row is None:
            return ""
        if model == "hr.attendance":
            return f"{self.display_name('hr.employee', row['employee_id'])} attendance"
        if model == "hr.version":
            return row["date_version"].strftime("%m/%d/%Y")
        return str(row.get("name") or "")

    # ----- writing -------------------------------------------------------------------
    def create(self, model: str, vals_list: list[dict[str, Any]]) -> list[int]:
        """Create records, then check the model's constraints on each."""
        table = self.table(model)
        if model == "hr.attendance":
            for vals in vals_list:
                for required in ("employee_id", "check_in"):
                    if not vals.get(required):
                        raise Fault(
                            "validation",
                            f"The operation cannot be completed: {required} is required.",
                        )
        ids = [self.insert(model, vals) for vals in vals_list]
        del table
        self.check(model, ids)
        return ids

    def write(self, model: str, ids: list[int], vals: dict[str, Any]) -> bool:
        """Write ``vals`` on ``ids`` (MissingError for a deleted record), then check."""
        table = self.table(model)
        clean = self._clean(table, vals)
        now = self.clock()
        on_version = {}
        if self.versioned and model == "hr.employee":
            on_version = {name: clean.pop(name) for name in VERSIONED_FIELDS if name in clean}
        for record_id in ids:
            row = table.rows.get(record_id)
            if row is None:
                raise Fault(
                    "missing",
                    "Record does not exist or has been deleted.\n"
                    f"(Record: {model}({record_id},), User: 2)",
                )
            if clean or not on_version:
                row.update(clean)
                row["write_date"] = now
            if on_version:
                self.write("hr.version", [row["version_id"]], on_version)
            if model == "hr.version":
                self._show_on_employee(row)
        self.check(model, ids)
        return True

    def _show_on_employee(self, version: dict[str, Any]) -> None:
        """The employee's related fields follow its current version; its row's
        ``write_date`` stays (only the version was written)."""
        employee = self.tables["hr.employee"].rows.get(version["employee_id"])
        if employee is not None and employee["version_id"] == version["id"]:
            employee.update({name: version[name] for name in VERSIONED_FIELDS})

    def unlink(self, model: str, ids: list[int]) -> bool:
        """Delete ``ids``; MissingError when one is already gone, as ``write`` says."""
        table = self.table(model)
        for record_id in ids:
            if record_id not in table.rows:
                raise Fault(
                    "missing",
                    "Record does not exist or has been deleted.\n"
                    f"(Record: {model}({record_id},), User: 2)",
                )
        for record_id in ids:
            del table.rows[record_id]
        if self.versioned and model == "hr.employee":  # employee_id is ondelete="cascade"
            versions = self.tables["hr.version"].rows
            for version_id in [v for v, row in versions.items() if row["employee_id"] in ids]:
                del versions[version_id]
        return True

    def check(self, model: str, ids: list[int]) -> None:
        """The model's constraints after a create or write."""
        if model == "hr.attendance":
            for record_id in ids:
                self.check_attendance(self.tables[model].rows[record_id])

    def check_attendance(self, a: dict[str, Any]) -> None:
        """``hr.attendance._check_validity`` and ``_check_validity_check_in_check_out``."""
        if a["check_out"] and a["check_out"] < a["check_in"]:
            raise Fault("validation", '"Check Out" time cannot be earlier than "Check In" time.')
        name = self.display_name("hr.employee", a["employee_id"])
        prefix = f"Cannot create new attendance record for {name}, the employee"
        others = sorted(
            (
                row
                for row in self.tables["hr.attendance"].rows.values()
                if row["employee_id"] == a["employee_id"] and row["id"] != a["id"]
            ),
            key=lambda row: row["check_in"],
            reverse=True,
        )
        prev = next((row for row in others if row["check_in"] <= a["check_in"]), None)
        if prev and prev["check_out"] and prev["check_out"] > a["check_in"]:
            raise Fault("validation", f"{prefix} was already checked in on {fmt(a['check_in'])}")
        if not a["check_out"]:
            still_open = next((row for row in others if not row["check_out"]), None)
            if still_open:
                raise Fault(
                    "validation",
                    f"{prefix} hasn't checked out since {fmt(still_open['check_in'])}",
                )
        else:
            nxt = next((row for row in others if row["check_in"] < a["check_out"]), None)
            if nxt and nxt is not prev:
                raise Fault(
                    "validation", f"{prefix} was already checked in on {fmt(nxt['check_in'])}"
                )


def parse_order(order: str) -> list[tuple[str, bool]]:
    """``"write_date asc, id asc"`` -> ``[("write_date", False), ("id", False)]``."""
    parts = []
    for term in order.split(","):
        words = term.split()
        if not words:
            continue
        if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise Fault("value", f"Invalid order {order!r}")
        parts.append((words[0], len(words) == 2 and words[1].lower() == "desc"))
    return parts


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None or value is False:
        return (0, 0)
    return (1, value)


OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a is not None and b is not None and a < b,
    "<=": lambda a, b: a is not None and b is not None and a <= b,
    ">": lambda a, b: a is not None and b is not None and a > b,
    ">=": lambda a, b: a is not None and b is not None and a >= b,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
    "ilike": lambda a, b: a is not None and str(b).lower() in str(a).lower(),
    "like": lambda a, b: a is not None and str(b) in str(a),
}

Predicate = Callable[[dict[str, Any]], bool]


def compile_domain(table: Table, domain: list[Any]) -> Predicate:
    """A predicate for an Odoo domain (prefix ``&``, ``|``, ``!``; implicit AND)."""
    position = 0

    def term() -> Predicate:
        nonlocal position
        item = domain[position]
        position += 1
        if item in ("&", "|"):
            left, right = term(), term()
            if item == "&":
                return lambda row: left(row) and right(row)
            return lambda row: left(row) or right(row)
        if item == "!":
            inner = term()
            return lambda row: not inner(row)
        return leaf(table, item)

    predicates = []
    while position < len(domain):
        predicates.append(term())
    return lambda row: all(predicate(row) for predicate in predicates)


def leaf(table: Table, item: Any) -> Predicate:
    """One ``(field, operator, value)`` condition."""
    if not isinstance(item, list | tuple) or len(item) != 3:
        raise Fault("value", f"Invalid leaf {item!r}")
    field, operator, value = item
    if operator not in OPERATORS:
        raise Fault("value", f"Invalid operator {operator!r}")
    kind = table.fields.get(
        field, "int" if field == "id" else "datetime" if field.endswith("_date") else None
    )
    if kind is None:
        raise Fault("value", f"Invalid field {table.name}.{field} in leaf {tuple(item)!r}")

    def convert(single: Any) -> Any:
        if kind == "bool":
            return bool(single)
        if single is False or single is None:
            return None
        if kind == "datetime":
            return parse_datetime(single)
        if kind.startswith("m2o:") and isinstance(single, list):
            return single[0]
        return single

    target = [convert(v) for v in value] if operator in ("in", "not in") else convert(value)
    compare = OPERATORS[operator]
    return lambda row: compare(row.get(field), target)
