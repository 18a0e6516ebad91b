"""The integrations app: the Odoo HR connection, employee sync and attendance outbox."""

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """Odoo HR: connection, client, employee sync, the attendance outbox and sync jobs."""

    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        """Write an outbox row with every attendance event and void (same transaction);
        report the outbox's depth at every metrics scrape."""
        from attendance import signals
        from config.metrics import register_collector
        from integrations import receivers
        from integrations.metrics import collect_outbox

        register_collector("odoo_outbox", collect_outbox)

        signals.event_created.connect(
            receivers.outbox_event_created, dispatch_uid="integrations-outbox-created"
        )
        signals.events_created.connect(
            receivers.outbox_events_created, dispatch_uid="integrations-outbox-many-created"
        )
        signals.event_voided.connect(
            receivers.outbox_event_voided, dispatch_uid="integrations-outbox-voided"
        )
