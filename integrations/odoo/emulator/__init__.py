"""An Odoo server on loopback: the tests' counterpart and the ``odoo_emulator`` demo.

It ships (the demo command runs it), so it imports no test support.
"""
