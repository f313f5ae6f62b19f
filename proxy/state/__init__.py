"""Cross-request state: one seam (`State`) for everything a later request relies on —
legacy markers, page-walk snapshots, lookups, rate budgets, the usage inventory.

Backends: Redis when `redis_url` is set (replicas), else a SQLite file every worker of
one host shares and that survives restarts, else (tests, explain) process memory.
"""
