"""REST API of the accounts app: auth, users and the audit log."""
