"""Test support for the Odoo integration: an Odoo emulator on loopback."""
