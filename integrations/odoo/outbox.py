"""Attendance push: the outbox rows become ``hr.attendance`` records, exactly once.

Rows of one person go in ``id`` order, and a row waits while an earlier row of the same
person is pending or failed. Each attempt is saved (``attempts``, ``first_attempt_at``)
before Odoo is called and the result after, so a worker killed between the two leaves a
pending row whose next attempt repeats nothing: a check-in searches before creating, a
check-out writes the same value again, a void finds the record already gone.

What each kind does, and how Odoo's validity errors are reconciled, is written in the
README ("Odoo HR: the push"); the ``outcome`` codes below are the ones it lists.
Transport faults (and a refused login, an unexpected server error: nothing about the
row) retry with exponential backoff and jitter capped at ``BACKOFF_CAP`` and park the
row as ``failed`` only ``GIVE_UP_AFTER`` after its first attempt; the run stops at the
first such fault, since Odoo is unwell for every row. A business error that no rule
resolves parks the row at once for an admin to retry or skip.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import DateTimeField, Exists, F, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from attendance.models import AttendanceEvent, EventKind, EventSource
from integrations import metrics
from integrations.jobs import JobReport
from integrations.models import (
    UNFINISHED_STATES,
    OdooEmployeeLink,
    OdooOutbox,
    OutboxKind,
    OutboxState,
)
from integrations.odoo.client import OdooClient
from integrations.odoo.datetimes import from_odoo_datetime, to_odoo_datetime
from integrations.odoo.faults import (
    OdooError,
    OdooUserError,
    OdooValueError,
)

logger = logging.getLogger(__name__)

ATTENDANCE = "hr.attendance"
BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 60.0
GIVE_UP_AFTER = timedelta(hours=24)
BATCH = 500
CREATE_BATCH = 100


class UnresolvedConflict(OdooUserError):
    """Odoo's data contradicts the row and no written rule resolves it: park the row."""

    code = "odoo_conflict"


@dataclass(frozen=True)
class Pushed:
    """What a push did: the outcome code and the Odoo attendance it concerns."""

    outcome: str
    odoo_id: int | None = None
    state: str = OutboxState.SENT


Handler = Callable[[OdooOutbox, int], Pushed]


def is_business_error(exc: OdooError) -> bool:
    """Odoo refused this row's data: retrying the same call would fail the same way."""
    return isinstance(exc, OdooUserError | OdooValueError)


def backoff(attempts: int) -> timedelta:
    """Exponential from ``BACKOFF_BASE_S``, capped at ``BACKOFF_CAP_S``, with jitter
    (the upper half of the interval, so retries of many rows spread but still grow)."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


def mode_of(event: AttendanceEvent) -> str:
    """``in_mode``/``out_mode``: a camera is Odoo's kiosk; everything else is manual."""
    return "kiosk" if event.source == EventSource.CAMERA else "manual"


def odoo_id_of(value: Any) -> int | None:
    """A many2one as Odoo answers it (``[id, name]``, an id, or False) as the id."""
    if isinstance(value, list | tuple):
        return value[0] if value else None
    return value or None


def due_heads(now: datetime, limit: int = BATCH) -> list[OdooOutbox]:
    """The first unfinished row of each person, when it is pending and due."""
    earlier = OdooOutbox.objects.filter(
        person=OuterRef("person"), id__lt=OuterRef("id"), state__in=UNFINISHED_STATES
    )
    return list(
        OdooOutbox.objects.filter(state=OutboxState.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .exclude(Exists(earlier))
        .select_related("event")
        .order_by("id")[:limit]
    )


class OutboxPusher:
    """One drain: pushes due rows until none is left or Odoo fails to answer."""

    def __init__(
        self,
        client: OdooClient,
        report: JobReport,
        *,
        clock: Callable[[], datetime] = timezone.now,
    ) -> None:
        self.client = client
        self.report = report
        self.clock = clock
        self.redact = report.redact

    def drain(self) -> None:
        """Push every due row, in order per person; stop at the first transport fault."""
        while True:
            heads = due_heads(self.clock())
            if not heads:
                return
            going_on = self.push_round(heads)
            self.report.save()
            if not going_on:
                return

    # ----- one round: the first due row of each person --------------------------------
    def push_round(self, heads: list[OdooOutbox]) -> bool:
        """Push one row per person, batching check-ins and check-outs; False when Odoo is
        unwell (stop the run)."""
        links = dict(
            OdooEmployeeLink.objects.filter(
                person_id__in={row.person_id for row in heads}
            ).values_list("person_id", "odoo_id")
        )
        by_kind: dict[str, list[tuple[OdooOutbox, int]]] = {kind: [] for kind in OutboxKind}
        for row in heads:
            employee = self._employee_or_finish(row, links.get(row.person_id))
            if employee is not None:
                by_kind[row.kind].append((row, employee))
        check_ins = by_kind[OutboxKind.CHECK_IN]
        for first in range(0, len(check_ins), CREATE_BATCH):
            if not self._push_check_ins(check_ins[first : first + CREATE_BATCH]):
                return False
        if by_kind[OutboxKind.CHECK_OUT] and not self._push_check_outs(
            by_kind[OutboxKind.CHECK_OUT]
        ):
            return False
        for row, employee in by_kind[OutboxKind.VOID]:
            self._begin([row])
            if not self._attempt(row, employee, self._void):
                return False
        return True

    # ----- one row -------------------------------------------------------------------
    def _employee_or_finish(self, row: OdooOutbox, employee: int | None) -> int | None:
        """The row's Odoo employee, or None after finishing a row that needs no call."""
        if row.kind != OutboxKind.VOID and row.event.voided_at and row.attempts == 0:
            self._finish(row, Pushed("voided_before_push", state=OutboxState.SKIPPED))
            return None
        if employee is None:
            self._finish(row, Pushed("not_linked", state=OutboxState.SKIPPED))
        return employee

    def _begin(self, rows: list[OdooOutbox]) -> None:
        """Save one more attempt of ``rows`` (one query) before Odoo is called."""
        now = self.clock()
        OdooOutbox.objects.filter(pk__in=[row.pk for row in rows]).update(
            attempts=F("attempts") + 1,
            first_attempt_at=Coalesce("first_attempt_at", Value(now, output_field=DateTimeField())),
            updated_at=timezone.now(),  # as ``auto_now`` would
        )
        for row in rows:
            row.attempts += 1
            row.first_attempt_at = row.first_attempt_at or now

    def _attempt(self, row: OdooOutbox, employee: int, handler: Handler) -> bool:
        """Run ``handler`` for a row whose attempt is saved, and record what happened."""
        try:
            result = handler(row, employee)
        except OdooError as exc:
            return self._failed(row, exc)
        self._finish(row, result)
        return True

    def _one_by_one(self, pairs: list[tuple[OdooOutbox, int]], handler: Handler) -> bool:
        """Rows of a refused batch, each on its own; stop at the first transport fault
        (the rows not reached stay pending and due)."""
        return all(self._attempt(row, employee, handler) for row, employee in pairs)

    def _failed_all(self, rows: list[OdooOutbox], exc: OdooError) -> bool:
        """A batched call failed for every row in it: record the failure on each."""
        results = [self._failed(row, exc) for row in rows]
        return all(results)

    def _finish(self, row: OdooOutbox, result: Pushed) -> None:
        row.state = result.state
        row.outcome = result.outcome
        row.odoo_id = result.odoo_id if result.odoo_id is not None else row.odoo_id
        row.next_attempt_at = None
        row.last_error = "" if result.state == OutboxState.SENT else row.last_error
        row.save()
        self.report.count(result.state)
        self.report.count(f"outcome:{result.outcome}")
        metrics.OUTBOX_PUSHES.labels(str(result.state)).inc()

    def _failed(self, row: OdooOutbox, exc: OdooError) -> bool:
        message = self.redact(f"{exc.code}: {exc.message}")
        row.last_error = message[:2000]
        if is_business_error(exc):
            row.state = OutboxState.FAILED
            row.outcome = "rejected" if isinstance(exc, OdooValueError) else "conflict"
            row.next_attempt_at = None
            row.save()
            self.report.count(OutboxState.FAILED)
            metrics.OUTBOX_PUSHES.labels(str(OutboxState.FAILED)).inc()
            self.report.error(exc.code, message, outbox=row.pk)
            return True
        now = self.clock()
        if now - (row.first_attempt_at or now) >= GIVE_UP_AFTER:
            row.state = OutboxState.FAILED
            row.outcome = "gave_up"
            row.next_attempt_at = None
            self.report.count(OutboxState.FAILED)
            metrics.OUTBOX_PUSHES.labels(str(OutboxState.FAILED)).inc()
        else:
            row.outcome = "retrying"
            row.next_attempt_at = now + backoff(row.attempts)
            self.report.count("retried")
            metrics.OUTBOX_PUSHES.labels("retried").inc()
        row.save()
        self.report.error(exc.code, message, outbox=row.pk)
        logger.warning("Odoo push of outbox row %s failed: %s", row.pk, exc.code)
        return False

    # ----- batched check-ins and check-outs -------------------------------------------
    def _push_check_ins(self, batch: list[tuple[OdooOutbox, int]]) -> bool:
        """Search all the check-ins at once, then create the missing ones in one call."""
        rows = [row for row, _employee in batch]
        self._begin(rows)
        try:
            found = self._find_many(batch)
        except OdooError as exc:
            return self._failed_all(rows, exc)
        missing = []
        for row, employee in batch:
            existing = found.get((employee, row.at.replace(microsecond=0)))
            if existing is None:
                missing.append((row, employee))
            else:
                self._finish(row, Pushed("matched_existing", existing))
        if len(missing) <= 1:
            return self._one_by_one(missing, self._create_check_in)
        try:
            created = self.client.create(
                ATTENDANCE, [self._check_in_vals(row, employee) for row, employee in missing]
            )
        except OdooError as exc:
            if is_business_error(exc):  # all or nothing: none was created
                return self._one_by_one(missing, self._create_check_in)
            return self._failed_all([row for row, _employee in missing], exc)
        for (row, _employee), odoo_id in zip(missing, created, strict=True):
            self._finish(row, Pushed("created", odoo_id))
        return True

    def _find_many(self, batch: list[tuple[OdooOutbox, int]]) -> dict[tuple[int, datetime], int]:
        """Odoo attendances of these employees at these check-in times, by both."""
        found = self.client.search_read(
            ATTENDANCE,
            [
                ("employee_id", "in", sorted({employee for _row, employee in batch})),
                ("check_in", "in", sorted({row.at for row, _employee in batch})),
            ],
            ["id", "employee_id", "check_in"],
        )
        by_key: dict[tuple[int, datetime], int] = {}
        for record in found:
            employee, at = odoo_id_of(record["employee_id"]), from_odoo_datetime(record["check_in"])
            if employee is not None and at is not None:
                by_key.setdefault((employee, at), record["id"])
        return by_key

    def _push_check_outs(self, batch: list[tuple[OdooOutbox, int]]) -> bool:
        """Read all the target attendances at once; write identical values together."""
        self._begin([row for row, _employee in batch])
        found = {row.pk: self._check_in_attendance(row) for row, _employee in batch}
        targets = {pk: target for pk, target in found.items() if target is not None}
        known = [(row, employee) for row, employee in batch if row.pk in targets]
        if known:
            try:
                records = self.client.read(
                    ATTENDANCE, sorted({targets[row.pk] for row, _employee in known}), ["check_out"]
                )
            except OdooError as exc:
                return self._failed_all([row for row, _employee in known], exc)
            current = {record["id"]: from_odoo_datetime(record["check_out"]) for record in records}
            groups: dict[tuple[str, str], list[tuple[OdooOutbox, int]]] = {}
            for row, employee in known:
                target = targets[row.pk]
                if target not in current:
                    self._failed(row, self._deleted(target))
                elif current[target] == row.at.replace(microsecond=0):
                    self._finish(row, Pushed("already_checked_out", target))
                else:
                    key = (to_odoo_datetime(row.at), mode_of(row.event))
                    groups.setdefault(key, []).append((row, employee))
            for group in groups.values():
                if not self._write_check_outs(group, targets):
                    return False
        unknown = [(row, employee) for row, employee in batch if row.pk not in targets]
        return self._one_by_one(unknown, self._check_out)

    def _write_check_outs(
        self, group: list[tuple[OdooOutbox, int]], targets: dict[int, int]
    ) -> bool:
        """One ``write`` for check-outs with the same values; one at a time if refused."""

        def write_one(row: OdooOutbox, _employee: int) -> Pushed:
            target = targets[row.pk]
            self.client.write(ATTENDANCE, [target], self._check_out_vals(row))
            return Pushed("checked_out", target)

        if len(group) == 1:
            return self._one_by_one(group, write_one)
        rows = [row for row, _employee in group]
        try:
            self.client.write(
                ATTENDANCE, [targets[row.pk] for row in rows], self._check_out_vals(rows[0])
            )
        except OdooError as exc:
            if is_business_error(exc):  # all or nothing: none was written
                return self._one_by_one(group, write_one)
            return self._failed_all(rows, exc)
        for row in rows:
            self._finish(row, Pushed("checked_out", targets[row.pk]))
        return True

    # ----- the three kinds -----------------------------------------------------------
    def _find(self, employee: int, check_in: datetime) -> dict[str, Any] | None:
        found = self.client.search_read(
            ATTENDANCE,
            [("employee_id", "=", employee), ("check_in", "=", check_in)],
            ["id", "check_in", "check_out"],
            limit=1,
        )
        return found[0] if found else None

    def _open_attendance(self, employee: int) -> dict[str, Any] | None:
        found = self.client.search_read(
            ATTENDANCE,
            [("employee_id", "=", employee), ("check_out", "=", False)],
            ["id", "check_in"],
            order="check_in desc",
            limit=1,
        )
        return found[0] if found else None

    def _check_in(self, row: OdooOutbox, employee: int) -> Pushed:
        """Search first (a create whose answer was lost is never repeated), then create;
        on "hasn't checked out since" close an older open attendance at our check-in."""
        existing = self._find(employee, row.at)
        if existing is not None:
            return Pushed("matched_existing", existing["id"])
        return self._create_check_in(row, employee)

    @staticmethod
    def _check_in_vals(row: OdooOutbox, employee: int) -> dict[str, Any]:
        return {"employee_id": employee, "check_in": row.at, "in_mode": mode_of(row.event)}

    @staticmethod
    def _check_out_vals(row: OdooOutbox) -> dict[str, Any]:
        return {"check_out": row.at, "out_mode": mode_of(row.event)}

    @staticmethod
    def _deleted(target: int) -> UnresolvedConflict:
        return UnresolvedConflict(
            f"The Odoo attendance {target} of this check-out's check-in was deleted in Odoo."
        )

    def _create_check_in(self, row: OdooOutbox, employee: int) -> Pushed:
        """Create a check-in known to be missing; on "hasn't checked out since" close an
        older open attendance at our check-in, then create."""
        vals = self._check_in_vals(row, employee)
        try:
            (created,) = self.client.create(ATTENDANCE, [vals])
        except OdooUserError:  # XML-RPC tells a ValidationError from a UserError by no code
            still_open = self._open_attendance(employee)
            opened = from_odoo_datetime(still_open["check_in"]) if still_open else None
            if still_open is None or opened is None or opened >= row.at:
                raise
            self.client.write(ATTENDANCE, [still_open["id"]], {"check_out": row.at})
            (created,) = self.client.create(ATTENDANCE, [vals])
            return Pushed(f"closed_{still_open['id']}_then_created", created)
        return Pushed("created", created)

    def _check_in_attendance(self, row: OdooOutbox) -> int | None:
        """The Odoo attendance of the check-in this check-out closes, if it was pushed."""
        check_in = (
            AttendanceEvent.objects.active()
            .filter(person_id=row.person_id, kind=EventKind.CHECK_IN, at__lt=row.at)
            .order_by("-at", "-id")
            .first()
        )
        if check_in is None:
            return None
        return (
            OdooOutbox.objects.filter(
                event=check_in, kind=OutboxKind.CHECK_IN, odoo_id__isnull=False
            )
            .values_list("odoo_id", flat=True)
            .first()
        )

    def _closed_at(self, employee: int, check_out: datetime) -> dict[str, Any] | None:
        found = self.client.search_read(
            ATTENDANCE,
            [("employee_id", "=", employee), ("check_out", "=", check_out)],
            ["id"],
            limit=1,
        )
        return found[0] if found else None

    def _check_out(self, row: OdooOutbox, employee: int) -> Pushed:
        """Write ``check_out`` on our check-in's attendance (or the employee's open one).

        Without a pushed check-in, an attendance already closed at our time is ours
        (a write whose result was not saved): its open attendance is gone by then."""
        target = self._check_in_attendance(row)
        if target is None:
            closed = self._closed_at(employee, row.at)
            if closed is not None:
                return Pushed("already_checked_out", closed["id"])
            still_open = self._open_attendance(employee)
            opened = from_odoo_datetime(still_open["check_in"]) if still_open else None
            if still_open is None or opened is None or opened > row.at:
                raise UnresolvedConflict(
                    "Odoo has no attendance open before this check-out to close."
                )
            target = still_open["id"]
        current = self.client.read(ATTENDANCE, [target], ["check_out"])
        if not current:
            raise self._deleted(target)
        if from_odoo_datetime(current[0].get("check_out")) == row.at.replace(microsecond=0):
            return Pushed("already_checked_out", target)
        self.client.write(ATTENDANCE, [target], self._check_out_vals(row))
        return Pushed("checked_out", target)

    def _void(self, row: OdooOutbox, employee: int) -> Pushed:
        """Undo in Odoo what the voided event's row did: unlink a check-in's attendance,
        clear a check-out (only if Odoo still shows ours)."""
        original = (
            OdooOutbox.objects.filter(event_id=row.event_id)
            .exclude(kind=OutboxKind.VOID)
            .order_by("-id")
            .first()
        )
        if original is None or (original.odoo_id is None and original.attempts == 0):
            return Pushed("nothing_to_correct")
        event = row.event
        target = original.odoo_id
        if event.kind == EventKind.CHECK_IN:
            if target is None:
                found = self._find(employee, event.at)
                target = found["id"] if found else None
            if target is None:
                return Pushed("nothing_to_correct")
            try:
                self.client.unlink(ATTENDANCE, [target])
            except OdooUserError:  # a MissingError is fault 2 like any other over XML-RPC
                if self.client.read(ATTENDANCE, [target], ["id"]):
                    raise
                return Pushed("already_removed", target)
            return Pushed("unlinked", target)
        if target is None:
            return Pushed("nothing_to_correct")
        current = self.client.read(ATTENDANCE, [target], ["check_out"])
        if not current:
            return Pushed("already_removed", target)
        if from_odoo_datetime(current[0].get("check_out")) != event.at.replace(microsecond=0):
            return Pushed("changed_in_odoo_left", target)
        self.client.write(ATTENDANCE, [target], {"check_out": False})
        return Pushed("reopened", target)
