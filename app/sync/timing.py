"""Retry timing and clock offset: exponential backoff with full jitter, NTP-style offsets."""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass

BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 60.0
OFFSET_SAMPLES = 8


class Backoff:
    """Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): the n-th retry
    waits a uniform random time in [0, min(cap, base·2ⁿ)], so that 500 bars coming back after
    a server restart do not all knock at once."""

    def __init__(
        self,
        *,
        base_s: float = BACKOFF_BASE_S,
        cap_s: float = BACKOFF_CAP_S,
        rng: random.Random | None = None,
    ) -> None:
        self.base_s = base_s
        self.cap_s = cap_s
        self.failures = 0
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not a secret

    def next_delay(self, retry_after_s: float | None = None) -> float:
        """The wait before the next try after a failure (at least Retry-After if given)."""
        ceiling = min(self.cap_s, self.base_s * (2 ** min(self.failures, 30)))
        self.failures += 1
        delay = self._rng.uniform(0, ceiling)
        if retry_after_s is not None:
            delay = max(delay, min(retry_after_s, self.cap_s * 5))
        return delay

    def reset(self) -> None:
        self.failures = 0


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request/response: client send (t1), server receive (t2) and reply (t3), client
    receive (t4), all in ms on their own clocks."""

    t1: int
    t2: int
    t3: int
    t4: int

    @property
    def offset_ms(self) -> int:
        """θ = ((t2 − t1) + (t3 − t4)) / 2: add it to a client time to get server time."""
        return round(((self.t2 - self.t1) + (self.t3 - self.t4)) / 2)

    @property
    def delay_ms(self) -> int:
        """δ = (t4 − t1) − (t3 − t2): the network round trip."""
        return (self.t4 - self.t1) - (self.t3 - self.t2)


class OffsetEstimator:
    """Keeps the last few exchanges and trusts the one with the shortest round trip (as NTP's
    clock filter does): a slow exchange says least about the offset."""

    def __init__(self, samples: int = OFFSET_SAMPLES) -> None:
        self._recent: deque[Exchange] = deque(maxlen=samples)

    def add(self, exchange: Exchange) -> None:
        if exchange.delay_ms >= 0:
            self._recent.append(exchange)

    def reset(self) -> None:
        """Forget the samples (after a detected wall-clock jump they describe another clock)."""
        self._recent.clear()

    @property
    def offset_ms(self) -> int | None:
        if not self._recent:
            return None
        return min(self._recent, key=lambda e: e.delay_ms).offset_ms
