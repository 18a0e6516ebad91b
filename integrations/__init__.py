"""Odoo HR: connection, client, employee sync, the attendance outbox and sync jobs."""
