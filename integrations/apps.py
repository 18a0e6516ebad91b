"""The integrations app: the Odoo HR connection."""

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """Odoo HR: connection, client, employee sync, the attendance outbox and sync jobs."""

    name = "integrations"
    verbose_name = "Integrations"
