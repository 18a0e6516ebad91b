"""Users, roles, JWT authentication, permissions, the audit log and login throttling."""
