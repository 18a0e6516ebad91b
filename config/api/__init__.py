"""API conventions shared by every app: errors, pagination, routers, schema, health."""
