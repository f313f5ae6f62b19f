"""Turning one matched legacy request into upstream calls and a legacy answer.

`dispatch` builds each request's `Context` and picks the entry's runner: a named handler,
or one of the engine's own, which run what the mapping YAML says (`styles`: one call, with
a `bodies` body for a write, every page, a v1 page; `timeline`; `lookup`; `matching`;
`sequence`).
"""
