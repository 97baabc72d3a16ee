"""A simulated plateau: agents whose clicks follow a plausible shift, sent to a real store
through the real API (sign-in, /v1/events, /v1/heartbeat), as their bars would.

Used by `bandeau demo` and by the load benchmarks. `speed` compresses time for the live part
(30: a 20-minute stretch of production lasts 40 s); the morning before the demo started is
sent first, at real times, so that the day's totals look like a day.
"""

from __future__ import annotations

import heapq
import logging
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.domain.events import new_uuid

log = logging.getLogger(__name__)

MIN_MS = 60_000
HEARTBEAT_S = 30.0
# How long a stretch lasts, in minutes (low, high), and where it goes next (weights).
_STRETCH = {"production": (12, 55), "pause": (4, 16), "off": (10, 40)}
_NEXT = {
    "production": {"pause": 5, "off": 2},
    "pause": {"production": 9, "off": 1},
    "off": {"production": 8, "pause": 2},
}


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(slots=True)
class SimAgent:
    login: str
    password: str
    device_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    token: str = ""
    seq: int = 0
    key: str | None = None
    activity: str = ""

    def event(self, kind: str, at_ms: int, key: str | None = None, note: str | None = None) -> Any:
        self.seq += 1
        return {
            "uuid": new_uuid(),  # as the bar's journal makes them
            "device_id": self.device_id,
            "seq": self.seq,
            "agent": self.login,
            "kind": kind,
            "key": key,
            "activity": self.activity,
            "occurred_at_ms": at_ms,
            "tz": "Europe/Paris",
            "utc_offset_s": 3600,
            "monotonic_ms": self.seq,
            "note": note,
            "clock_jump_ms": None,
        }


class PlateauSimulator(threading.Thread):
    """Drives `agents` (login, password) on the store at `base_url` until `stop()`."""

    def __init__(
        self,
        base_url: str,
        agents: list[tuple[str, str]],
        activities: list[str],
        *,
        speed: float = 30.0,
        history_minutes: int = 150,
        seed: int | None = None,
    ) -> None:
        super().__init__(name="bandeau-simulator", daemon=True)
        self.base_url = base_url.rstrip("/")
        self.rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
        self.agents = [SimAgent(login, password) for login, password in agents]
        self.activities = activities
        self.speed = speed
        self.history_minutes = history_minutes
        self.sent = 0
        self.errors: list[str] = []
        self._stopping = threading.Event()
        self.ready = threading.Event()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stopping.set()
        if self.is_alive():
            self.join(timeout_s)

    def run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=10) as http:
            try:
                for agent in self.agents:
                    agent.activity = self.rng.choice(self.activities)
                    reply = http.post(
                        "/v1/signin", json={"login": agent.login, "password": agent.password}
                    )
                    reply.raise_for_status()
                    agent.token = reply.json()["token"]
                    self._send(http, agent, self._morning(agent))
                    self._beat(http, agent)
            except httpx.HTTPError as exc:
                self.errors.append(f"start: {exc}")
                log.warning("simulator could not start: %s", exc)
                return
            finally:
                self.ready.set()
            self._live(http)

    def _morning(self, agent: SimAgent) -> list[Any]:
        """The shift so far: started between `history_minutes` and half as long ago."""
        now = now_ms()
        at = now - self.rng.randint(self.history_minutes // 2, self.history_minutes) * MIN_MS
        events = [agent.event("shift_start", at)]
        at += self.rng.randint(1, 4) * MIN_MS
        key = "production"
        while at < now:
            events.append(agent.event("status", at, key, self._note(key)))
            agent.key = key
            low, high = _STRETCH[key]
            at += self.rng.randint(low, high) * MIN_MS
            key = self._next_key(key)
        return events

    def _live(self, http: httpx.Client) -> None:
        start = time.monotonic()
        due: list[tuple[float, int, str]] = []
        for n, agent in enumerate(self.agents):
            heapq.heappush(due, (start + self._stretch_s(agent.key or "production"), n, "click"))
            heapq.heappush(due, (start + self.rng.uniform(1, HEARTBEAT_S), n, "beat"))
        while not self._stopping.is_set():
            when, n, what = due[0]
            wait = when - time.monotonic()
            if wait > 0:
                self._stopping.wait(wait)
                continue
            heapq.heappop(due)
            agent = self.agents[n]
            try:
                if what == "click":
                    key = self._next_key(agent.key or "production")
                    if self.rng.random() < 0.05:  # now and then, another campaign
                        agent.activity = self.rng.choice(self.activities)
                    self._send(http, agent, [agent.event("status", now_ms(), key, self._note(key))])
                    agent.key = key
                    heapq.heappush(due, (time.monotonic() + self._stretch_s(key), n, "click"))
                else:
                    self._beat(http, agent)
                    heapq.heappush(due, (time.monotonic() + HEARTBEAT_S, n, "beat"))
            except httpx.HTTPError as exc:
                self.errors.append(str(exc))
                heapq.heappush(due, (time.monotonic() + 2.0, n, what))

    def _stretch_s(self, key: str) -> float:
        low, high = _STRETCH[key]
        return self.rng.uniform(low, high) * 60 / self.speed

    def _next_key(self, key: str) -> str:
        choices = _NEXT[key]
        return self.rng.choices(list(choices), weights=list(choices.values()))[0]

    def _note(self, key: str) -> str | None:
        if key == "off" and self.rng.random() < 0.5:
            return self.rng.choice(["formation", "débrief", "réunion d'équipe", "coaching"])
        return None

    def _send(self, http: httpx.Client, agent: SimAgent, events: list[Any]) -> None:
        reply = http.post(
            "/v1/events",
            headers={"Authorization": f"Bearer {agent.token}"},
            json={"device_id": agent.device_id, "sent_at_ms": now_ms(), "events": events},
        )
        reply.raise_for_status()
        self.sent += len(reply.json()["accepted"])

    def _beat(self, http: httpx.Client, agent: SimAgent) -> None:
        http.post(
            "/v1/heartbeat",
            headers={"Authorization": f"Bearer {agent.token}"},
            json={
                "device_id": agent.device_id,
                "sent_at_ms": now_ms(),
                "state": {"key": agent.key, "activity": agent.activity},
                "pending": 0,
            },
        ).raise_for_status()
