"""Recording creates, updates and deletes in the audit log.

Views, admin classes and services call these functions inside the transaction that makes
the change, so a change and its audit row land together or not at all. Values of fields
that hold secrets are masked: the log says *that* a password changed, never what to; and
whatever a row stores is masked once more by ``accounts.secrets.mask_value``, so a secret
inside a value (a URL's password or token, a nested ``api_key``) never lands in the log.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models

from accounts.models import AuditAction, AuditLog, AuditSource
from accounts.net import client_ip
from accounts.secrets import MASK, is_secret_name, mask_text, mask_value

if TYPE_CHECKING:
    from django.http import HttpRequest


@dataclass(frozen=True)
class AuditContext:
    """Who made a change and from where."""

    actor: Any = None
    ip: str | None = None
    source: str = AuditSource.SYSTEM

    @classmethod
    def from_request(cls, request: HttpRequest, source: str = AuditSource.API) -> AuditContext:
        """The signed-in user (if any) and the client address of a request.

        DRF's ``Request`` is accepted too: it forwards ``user`` and ``META``.
        """
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
        return cls(actor=actor, ip=client_ip(request), source=source)


def is_secret_field(model: type[models.Model] | models.Model, name: str) -> bool:
    """Whether a field's values must be masked: declared secret by the model, or by its name."""
    declared = getattr(model, "audit_secret_fields", ())
    return name in declared or is_secret_name(name)


@dataclass(frozen=True)
class SecretValue:
    """A secret field's value as the snapshot keeps it: comparable, never shown."""

    digest: str

    def __str__(self) -> str:
        return MASK


def _public(value: Any) -> Any:
    return MASK if isinstance(value, SecretValue) else value


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    if isinstance(value, dict | list):
        return value
    if hasattr(value, "name"):  # FieldFile
        return value.name or None
    return str(value)


def snapshot(instance: models.Model) -> dict[str, Any]:
    """The instance's concrete field values, JSON-safe, with secrets as ``SecretValue``
    so that a changed secret shows up in a diff without its value."""
    values = {}
    for field in instance._meta.concrete_fields:
        value = field.value_from_object(instance)
        if is_secret_field(instance, field.name) and value not in (None, ""):
            digest = hashlib.sha256(repr(value).encode()).hexdigest()
            values[field.attname] = SecretValue(digest)
        else:
            values[field.attname] = _json_safe(value)
    return values


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The fields that changed, old and new values made loggable (secrets masked)."""
    return {
        name: {"old": _public(before.get(name)), "new": _public(value)}
        for name, value in after.items()
        if before.get(name) != value
    }


def _row(
    action: str,
    instance: models.Model,
    context: AuditContext,
    changes: dict[str, Any] | None = None,
    *,
    object_id: Any = None,
) -> AuditLog:
    actor = context.actor
    return AuditLog(
        actor=actor,
        actor_email=getattr(actor, "email", "") or "",
        action=action,
        object_type=instance._meta.label_lower,
        object_id=str(object_id if object_id is not None else instance.pk or ""),
        object_repr=mask_text(str(instance))[:200],
        changes=mask_value(changes or {}),
        ip=context.ip,
        source=context.source,
    )


def record(
    action: str,
    instance: models.Model,
    context: AuditContext,
    changes: dict[str, Any] | None = None,
    *,
    object_id: Any = None,
) -> AuditLog:
    """Write one audit row; the actor's email is copied so it outlives the user."""
    row = _row(action, instance, context, changes, object_id=object_id)
    row.save(force_insert=True)
    return row


def _creation(instance: models.Model) -> dict[str, Any]:
    return {
        name: {"old": None, "new": _public(value)} for name, value in snapshot(instance).items()
    }


def record_create(instance: models.Model, context: AuditContext) -> AuditLog:
    """Log a creation with every field's initial value."""
    return record(AuditAction.CREATE, instance, context, _creation(instance))


def record_creates(instances: list[models.Model], context: AuditContext) -> list[AuditLog]:
    """``record_create`` for many saved instances in one INSERT (the attendance rules log
    a batch of camera events at once)."""
    rows = [_row(AuditAction.CREATE, i, context, _creation(i)) for i in instances]
    return AuditLog.objects.bulk_create(rows) if rows else []


def record_update(
    instance: models.Model, before: dict[str, Any], context: AuditContext
) -> AuditLog | None:
    """Record an update; with nothing changed, no row is written."""
    changes = diff(before, snapshot(instance))
    if not changes:
        return None
    return record(AuditAction.UPDATE, instance, context, changes)


def record_delete(
    instance: models.Model, before: dict[str, Any], object_id: Any, context: AuditContext
) -> AuditLog:
    """Log a deletion with the values the row had; ``object_id`` since the row has none now."""
    changes = {name: {"old": _public(value), "new": None} for name, value in before.items()}
    return record(AuditAction.DELETE, instance, context, changes, object_id=object_id)


def record_secret_change(instance: models.Model, field: str, context: AuditContext) -> AuditLog:
    """For changes made outside a model diff (a password set through its own endpoint)."""
    return record(AuditAction.UPDATE, instance, context, {field: {"old": MASK, "new": MASK}})
