"""The durable spool for fire-and-forget writes (track, identify): accepted only once
stored, delivered later by a worker with idempotency keys, batched where Klaviyo has a
bulk operation, retried until upstream takes or refuses them for good."""
