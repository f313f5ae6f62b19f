"""An in-memory emulator of the Klaviyo new-API operations the proxy uses, faithful to
the official spec: `Sandbox` answers `UpstreamRequest`s, `SandboxTransport` mounts it
in-process behind the transport seam, `build_app` serves it over HTTP."""

from proxy.sandbox.app import build_app
from proxy.sandbox.core import Sandbox
from proxy.sandbox.seed import DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY, demo_account, demo_sandbox
from proxy.sandbox.store import Account
from proxy.sandbox.transport import SandboxTransport

__all__ = [
    "DEMO_PRIVATE_KEY",
    "DEMO_PUBLIC_KEY",
    "Account",
    "Sandbox",
    "SandboxTransport",
    "build_app",
    "demo_account",
    "demo_sandbox",
]
