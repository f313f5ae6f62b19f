"""The one rule for comparing email identifiers, shared by the proxy and the sandbox.

Klaviyo does not document whether its profile filters fold case, so the proxy sends every
email identifier trimmed and lower-cased, and the sandbox compares exactly what it is sent:
a path that forgets to normalise fails its tests instead of passing by the sandbox's grace.
"""


def normal_email(value: str) -> str:
    return value.strip().lower()
