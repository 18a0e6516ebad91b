"""Odoo's datetimes: naive UTC strings, "YYYY-MM-DD HH:MM:SS", nothing else.

Odoo refuses a "T", a "Z", an offset or microseconds with a ValueError, and
xmlrpc.client drops an offset silently, so every datetime is converted here, once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

ODOO_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def to_odoo_datetime(value: dt.datetime) -> str:
    """``value`` as Odoo stores it: UTC, naive, to the second.

    A naive ``value`` is refused: Presence keeps aware datetimes, and guessing the zone of
    a naive one would shift attendances by hours without anyone noticing.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("A naive datetime cannot be sent to Odoo: its time zone is unknown.")
    return value.astimezone(dt.UTC).replace(tzinfo=None).strftime(ODOO_DATETIME_FORMAT)


def from_odoo_datetime(value: str | bool | None) -> dt.datetime | None:
    """An aware UTC datetime from Odoo's string; Odoo's False (empty) becomes None."""
    if not value:
        return None
    return dt.datetime.strptime(str(value), ODOO_DATETIME_FORMAT).replace(tzinfo=dt.UTC)


def odoo_values(value: Any) -> Any:
    """``value`` (vals, a domain, a list of them) with every datetime made Odoo's string
    and every date ISO; tuples become lists, as every transport sends them."""
    if isinstance(value, dt.datetime):
        return to_odoo_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: odoo_values(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [odoo_values(item) for item in value]
    return value
