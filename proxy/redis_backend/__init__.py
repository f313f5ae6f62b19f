"""Redis for many replicas: one rate budget per account shared by all of them, and one
spool any of them delivers from."""
