"""The HTTP edge: an aiohttp middleware pipeline around the legacy route.

A request passes, outermost first: `observe` (request id, log line, metrics, client
aborts) → the usage inventory → `legacy_errors` (every failure in the caller's legacy
dialect) → deprecation headers → `admin_access` (staging and metrics stay private) →
passthrough (new-API requests go upstream unchanged) → the legacy route (`legacy_route`),
which reads the body through `body`. Each staging feature is added only when its setting
is on; `proxy.app` assembles the pipeline.
"""
