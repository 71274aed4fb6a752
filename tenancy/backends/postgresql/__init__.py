"""Django's PostgreSQL backend with the workspace carried into every transaction (row-level security)."""
