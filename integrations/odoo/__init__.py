"""The Odoo HR integration: the client over Odoo's three RPC transports, and its rules."""
