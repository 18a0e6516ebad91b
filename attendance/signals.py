"""Signals the attendance app sends upward (to integrations and the live stream).

Both are sent inside the transaction that writes the change, with ``event`` (an
AttendanceEvent), so a receiver that writes rows (the Odoo outbox) commits or rolls back
with the event; a receiver that talks to the outside world (a broadcast) should defer
its work with ``transaction.on_commit``.
"""

from django.dispatch import Signal

event_created = Signal()
event_voided = Signal()
