"""Reads of biometric images in the audit log, batched.

Face photos, face crops and camera frames are biometric data (GDPR art. 9, BIPA): who
looked at them, when and from where must be on record. One row per image would bury the
log (a page of fifty thumbnails is fifty reads), so reads are coalesced: a read joins the
newest row of the same actor, address, source, model and image if that row was opened
less than ``AUDIT_READ_BATCH_SECONDS`` ago and names fewer than ``MAX_OBJECTS_PER_ROW``
objects; otherwise it opens a new row. The row lists the object ids and counts them.

Browsers fetch thumbnails in parallel, from several server processes at once, so finding
and extending the open row is serialised per batch key: by a PostgreSQL advisory lock
held to the end of the transaction, or, on SQLite (the embedded run, one process), by a
lock in the process.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from accounts.audit import AuditContext
from accounts.models import AuditAction, AuditLog

MAX_OBJECTS_PER_ROW = 500
_process_lock = threading.Lock()


def batch_seconds() -> float:
    """How long a batch stays open after its first read."""
    return float(getattr(settings, "AUDIT_READ_BATCH_SECONDS", 60))


@contextmanager
def _serialised(key: str) -> Iterator[None]:
    """Only one reader at a time extends or opens the batch named by ``key``."""
    if connection.vendor == "postgresql":
        lock_id = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])
            yield
    else:
        with _process_lock, transaction.atomic():
            yield


def _repr(model: type[models.Model], image: str, count: int) -> str:
    meta = model._meta
    name = meta.verbose_name if count == 1 else meta.verbose_name_plural
    return f"{image} of {count} {name}"


def record_read(
    context: AuditContext, model: type[models.Model], image: str, object_id: Any
) -> AuditLog:
    """Record that ``context.actor`` read the ``image`` of ``model`` #``object_id``.

    Returns the row the read landed in, new or extended.
    """
    actor = context.actor
    object_type = model._meta.label_lower
    actor_id = getattr(actor, "pk", None)
    key = f"audit-read:{actor_id}:{context.ip}:{context.source}:{object_type}:{image}"
    now = timezone.now()
    with _serialised(key):
        row = (
            AuditLog.objects.filter(
                action=AuditAction.READ,
                actor=actor,
                ip=context.ip,
                source=context.source,
                object_type=object_type,
                changes__image=image,
                at__gte=now - timedelta(seconds=batch_seconds()),
            )
            .order_by("-at", "-id")
            .first()
        )
        if row is not None and len(row.changes.get("ids", [])) < MAX_OBJECTS_PER_ROW:
            return _extend(row, model, image, object_id, now)
        return AuditLog.objects.create(
            at=now,
            actor=actor,
            actor_email=getattr(actor, "email", "") or "",
            action=AuditAction.READ,
            object_type=object_type,
            object_id=str(object_id),
            object_repr=_repr(model, image, 1),
            changes={"image": image, "ids": [object_id], "count": 1, "reads": 1},
            ip=context.ip,
            source=context.source,
        )


def _extend(
    row: AuditLog, model: type[models.Model], image: str, object_id: Any, now: Any
) -> AuditLog:
    changes = row.changes
    ids = changes.get("ids", [])
    if object_id not in ids:
        ids.append(object_id)
    changes.update(ids=ids, count=len(ids), reads=changes.get("reads", 0) + 1)
    changes["last_at"] = now.isoformat()
    row.changes = changes
    row.object_id = str(ids[0]) if len(ids) == 1 else ""
    row.object_repr = _repr(model, image, len(ids))
    row.save(update_fields=["changes", "object_id", "object_repr"])
    return row
