"""Rate limits with the `limits` package (sliding-window counters, kept in memory).

A sliding-window counter keeps two counts per key, so a hit costs the same however many came
before it; the moving window kept every hit in a list and moved the whole list on each new one.

Each worker process counts on its own, so with N workers a client gets at most N times the
configured rate. That is acceptable for a handful of workers; a shared storage (limits supports
Redis) would make it exact.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from functools import lru_cache

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter

_limiter = SlidingWindowCounterRateLimiter(MemoryStorage())


@dataclass(frozen=True)
class RateVerdict:
    allowed: bool
    retry_after: int = 0  # seconds until the next attempt would be allowed


@lru_cache(maxsize=32)
def rate_item(rate: str) -> RateLimitItem:
    return parse(rate)


def configured_rate(variable: str, default: str) -> str:
    """Read on every call so tests and operators can change it without a restart."""
    return os.environ.get(variable) or default


def hit(item: RateLimitItem, *keys: str) -> RateVerdict:
    """Count one attempt against `item` for these keys; refuse it when over the rate."""
    return RateVerdict(True) if _limiter.hit(item, *keys) else _refused(item, keys)


def check(item: RateLimitItem, *keys: str) -> RateVerdict:
    """Whether one more attempt would be allowed, without counting it."""
    return RateVerdict(True) if _limiter.test(item, *keys) else _refused(item, keys)


def _refused(item: RateLimitItem, keys: tuple[str, ...]) -> RateVerdict:
    reset_at = _limiter.get_window_stats(item, *keys).reset_time
    return RateVerdict(False, max(1, math.ceil(reset_at - time.time())))


def reset() -> None:
    """Forget every counted attempt (tests)."""
    _limiter.storage.reset()
