"""Signals the attendance app sends upward (to integrations and the live stream).

All are sent inside the transaction that writes the change, so a receiver that writes
rows (the Odoo outbox) commits or rolls back with the events; a receiver that talks to
the outside world (a broadcast) should defer its work with ``transaction.on_commit``.
``event_created`` and ``event_voided`` carry one ``event`` (an AttendanceEvent);
``events_created`` carries ``events``, a list the camera rules inserted together, so a
receiver can write its rows for all of them at once.
"""

from django.dispatch import Signal

event_created = Signal()
event_voided = Signal()
events_created = Signal()
