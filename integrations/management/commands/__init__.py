"""Commands for the Odoo integration: the emulator for demos."""
