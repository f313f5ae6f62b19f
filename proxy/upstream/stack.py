"""The transport stack every upstream call goes through, outermost first:

    retries (safe ones) → rate governor → concurrency limit → observation (metrics,
    reachability) → network

Retries sit outside the governor so every attempt spends budget and waits for it; the
observer sits inside so it counts exactly what reaches upstream.
"""

from __future__ import annotations

from dataclasses import dataclass

from proxy.config import Settings
from proxy.newapi.transport import Transport
from proxy.upstream.accounts import Accounts
from proxy.upstream.budget import Budget
from proxy.upstream.governor import GovernedTransport
from proxy.upstream.limit import ConcurrencyLimit
from proxy.upstream.observed import ObservedTransport
from proxy.upstream.retry import RetryingTransport
from proxy.upstream.tiers import TierTable, load_tiers, tiers_path


@dataclass(frozen=True)
class Stack:
    transport: Transport  # what the upstream client sends through
    observed: ObservedTransport  # knows whether upstream answered lately
    tiers: TierTable


def build_stack(network: Transport, settings: Settings, budget: Budget) -> Stack:
    tiers = load_tiers(tiers_path(settings.mappings_dir))
    observed = ObservedTransport(network, tiers.operation_of)
    limited = ConcurrencyLimit(observed, settings.upstream_concurrency)
    governed: Transport = limited
    if settings.rate_governor:
        accounts = Accounts(settings.token_keys)
        governed = GovernedTransport(limited, tiers, budget, max_wait=settings.governor_max_wait, accounts=accounts)
    retrying = RetryingTransport(governed, budget=settings.retry_budget, operation_of=tiers.operation_of)
    return Stack(retrying, observed, tiers)
