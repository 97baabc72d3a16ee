"""The live panel's model: a plateau's agents as the stream tells them (pure Python).

The panel and the bar's day view compute what they show with the same functions
(`ShiftState.replay`, `totals`, `apply_corrections`) from the same events and corrections: an
agent sees their day as their lead does, and as the reports count it (corrections applied; a
shift whose PC went silent stops counting at its last sign of life plus the same grace).
Times are the store's (clock-corrected); `now_ms` passed in is the panel's clock already set to
the server's (`PlateauLive.server_offset_ms`).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from app.domain.events import Event, Key, Kind
from app.domain.indicators import Correction, Record, corrected, counted_until, timeline
from app.domain.shift import ShiftState
from app.domain.totals import (
    Interval,
    RunningTotals,
    Totals,
    apply_corrections,
    intervals,
    totals_of,
)

_KEYS = frozenset(k.value for k in Key)
STALE_AFTER_MS = 60_000
OFFLINE_AFTER_MS = 5 * 60_000
DEFAULT_PAUSE_THRESHOLD_S = 15 * 60


class Freshness(StrEnum):
    """How recent the agent's last sign of life (heartbeat or event) is."""

    ONLINE = "online"
    STALE = "stale"  # no sign for a minute: the bar may be gone
    OFFLINE = "offline"  # none for 5 minutes
    ENDED = "ended"  # not on shift


class Level(StrEnum):
    """How a row stands against the plateau's pause threshold."""

    NORMAL = "normal"
    OVER = "over"  # a pause longer than the threshold
    WAY_OVER = "way_over"  # longer than twice the threshold


@dataclass(frozen=True, slots=True)
class PlateauInfo:
    name: str
    pause_threshold_s: int = DEFAULT_PAUSE_THRESHOLD_S
    labels: dict[Key, str] = field(default_factory=dict)
    colours: dict[Key, str] = field(default_factory=dict)
    activities: tuple[str, ...] = ()


@dataclass(slots=True)
class AgentLive:
    """One agent's events (ordered by time) and last heartbeat."""

    login: str
    name: str
    role: str = "agent"
    plateaux: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    last_seen_ms: int | None = None
    devices: dict[str, int] = field(default_factory=dict)  # each PC's last heartbeat
    corrections: dict[str, Correction] = field(default_factory=dict)  # by uuid
    version: int = 0  # bumped by each new event: what was derived from the events is stale
    _uuids: set[str] = field(default_factory=set)
    _order: list[tuple[int, str, int]] = field(default_factory=list)

    def add(self, event: Event) -> bool:
        """Add an event in its place by time; False if it was already there."""
        if event.uuid in self._uuids:
            return False
        self._uuids.add(event.uuid)
        key = (event.occurred_at_ms, event.device_id, event.seq or 0)
        where = bisect.bisect_right(self._order, key)
        self._order.insert(where, key)
        self.events.insert(where, event)
        self.version += 1
        return True


@dataclass(frozen=True, slots=True)
class AgentRow:
    """One row of the panel, as of `now_ms`."""

    login: str
    name: str
    plateau: str
    state: ShiftState
    freshness: Freshness
    time_in_status_ms: int
    today: Totals
    note: str | None
    level: Level
    last_sign_ms: int | None

    @property
    def key(self) -> Key | None:
        return self.state.key if self.state.open else None

    @property
    def production_share(self) -> float | None:
        presence = self.today.presence_ms
        return self.today.by_key[Key.PRODUCTION] / presence if presence else None

    @property
    def status(self) -> str:
        """production, pause, off, unclassified, offline or ended (what the counters count)."""
        if not self.state.open:
            return "ended"
        if self.freshness is Freshness.OFFLINE:
            return "offline"
        return self.key.value if self.key is not None else "unclassified"


def event_from_wire(data: dict[str, Any]) -> Event:
    """A stream event (see app.server.live.wire_event) as a domain event."""
    key = data.get("key")
    return Event(
        device_id=str(data["device_id"]),
        agent=str(data["agent"]),
        kind=Kind(data["kind"]),
        occurred_at_ms=int(data["at_ms"]),
        tz_name=str(data.get("tz") or "UTC"),
        utc_offset_s=int(data.get("utc_offset_s") or 0),
        monotonic_ms=0,
        activity=data.get("activity"),
        key=Key(key) if key else None,
        note=data.get("note"),
        uuid=str(data["uuid"]),
        seq=int(data["seq"]) if data.get("seq") is not None else None,
    )


def correction_from_wire(data: dict[str, Any]) -> Correction:
    """A correction as the stream and the audit trail carry it (app.server.corrections)."""
    key = data.get("key")
    return Correction(
        uuid=str(data["uuid"]),
        start_ms=int(data["from_ms"]),
        end_ms=int(data["to_ms"]),
        key=Key(key) if key else None,
        author=str(data.get("author") or ""),
        reason=str(data.get("reason") or ""),
        made_at_ms=int(data.get("made_at_ms") or 0),
        activity=data.get("activity"),
        off_shift=bool(data.get("off_shift")),
    )


class PlateauLive:
    """The agents a stream shows, kept up to date by its messages."""

    def __init__(self) -> None:
        self.agents: dict[str, AgentLive] = {}
        self.plateaux: dict[str, PlateauInfo] = {}
        self.day_start_ms = 0
        self.day_end_ms = 0
        self.server_offset_ms = 0  # server clock − local clock, from the snapshot
        # Per agent, what only changes with a new event: (version, state, running totals).
        self._derived: dict[str, tuple[int, ShiftState, RunningTotals]] = {}
        self._pcs: dict[str, tuple[int, bool]] = {}  # (version, events from several PCs)

    def load_snapshot(self, data: dict[str, Any], *, local_now_ms: int) -> None:
        """Start again from a snapshot (after each (re)connection)."""
        self.server_offset_ms = int(data["server_now_ms"]) - local_now_ms
        self.day_start_ms = int(data["day_start_ms"])
        self.day_end_ms = int(data["day_end_ms"])
        self.load_plateaux(data.get("plateaux", []))
        self.agents = {}
        self._derived = {}
        self._pcs = {}
        for a in data.get("agents", []):
            agent = AgentLive(
                login=a["login"],
                name=a.get("name") or a["login"],
                role=a.get("role", "agent"),
                plateaux=list(a.get("plateaux", [])),
                last_seen_ms=a.get("last_seen_ms"),
                devices={str(d): int(t) for d, t in (a.get("devices") or {}).items()},
            )
            for e in a.get("events", []):
                agent.add(event_from_wire(e))
            for c in a.get("corrections", []):
                agent.corrections[str(c["uuid"])] = correction_from_wire(c)
            self.agents[agent.login] = agent

    def load_plateaux(self, plateaux: Iterable[dict[str, Any]]) -> None:
        """The plateaux as the stream describes them (a snapshot's, or a `plateaux` message
        when an admin changed one): key labels and colours, thresholds, activities."""
        self.plateaux = {}
        for p in plateaux:
            keys = p.get("keys", {})
            self.plateaux[p["name"]] = PlateauInfo(
                name=p["name"],
                pause_threshold_s=int(p.get("pause_threshold_s") or DEFAULT_PAUSE_THRESHOLD_S),
                labels={Key(k): v["label"] for k, v in keys.items() if k in _KEYS},
                colours={Key(k): v["colour"] for k, v in keys.items() if k in _KEYS},
                activities=tuple(p.get("activities", [])),
            )
        self._derived = {}  # thresholds may have moved: rows are worked out again

    def add_events(self, events: Iterable[dict[str, Any]]) -> set[str]:
        """New events (in any order, repeats ignored); the logins whose rows changed."""
        changed = set()
        for data in events:
            login = str(data["agent"])
            agent = self.agents.get(login)
            if agent is None:  # someone who joined the plateau since the snapshot
                agent = self.agents[login] = AgentLive(login=login, name=login)
            if agent.add(event_from_wire(data)):
                changed.add(login)
        return changed

    def add_corrections(self, fixes: Iterable[dict[str, Any]]) -> set[str]:
        """New corrections (repeats ignored); the logins whose rows changed."""
        changed = set()
        for data in fixes:
            agent = self.agents.get(str(data.get("agent")))
            if agent is None or str(data["uuid"]) in agent.corrections:
                continue
            agent.corrections[str(data["uuid"])] = correction_from_wire(data)
            changed.add(agent.login)
        return changed

    def fixes_today(self, login: str) -> list[Correction]:
        """The agent's corrections that touch today."""
        return [
            c
            for c in self.agents[login].corrections.values()
            if c.end_ms > self.day_start_ms and c.start_ms < self.day_end_ms
        ]

    def day_stretches(self, login: str, now_ms: int) -> list[Interval]:
        """Today's stretches as the reports count them: corrections applied, a silent PC
        stopping at its last sign of life — and, for an agent on several PCs, by the reports'
        own timeline (a PC that crashed and was never started again does not carry the shift
        through the night)."""
        agent = self.agents[login]
        start, end = self.day_start_ms, self.day_end_ms
        until = self.counted_until(login, now_ms)
        fixes = self.fixes_today(login)
        if not self._several_pcs(agent):
            return apply_corrections(intervals(agent.events, start, end, until), fixes)
        records = [
            Record(e.uuid, e.device_id, e.seq or 0, e.kind, e.occurred_at_ms, e.key, e.activity)
            for e in agent.events
        ]
        spans = timeline(
            records, now_ms=until, last_sign_ms=agent.last_seen_ms, device_signs=agent.devices
        )
        reasons = {fix.uuid: fix.reason for fix in fixes}
        return [
            Interval(
                max(s.start_ms, start),
                min(s.end_ms, end),
                s.key,
                s.activity,
                reasons.get(s.corrected_by or ""),
                s.corrected_by,
            )
            for s in corrected(spans, fixes)
            if s.end_ms > start and s.start_ms < end
        ]

    def _several_pcs(self, agent: AgentLive) -> bool:
        derived = self._pcs.get(agent.login)
        if derived is None or derived[0] != agent.version:
            derived = (agent.version, len({e.device_id for e in agent.events}) > 1)
            self._pcs[agent.login] = derived
        return derived[1]

    def counted_until(self, login: str, now_ms: int) -> int:
        """Until when the agent's open shift counts: now, or — their PC silent — their last
        sign of life plus the grace the reports give (app.domain.indicators, rule 3)."""
        return counted_until(now_ms, _last_sign(self.agents[login]))

    def add_presence(self, beats: Iterable[dict[str, Any]]) -> set[str]:
        changed = set()
        for beat in beats:
            agent = self.agents.get(str(beat.get("agent")))
            seen = beat.get("last_seen_ms")
            if agent is None or not isinstance(seen, int):
                continue
            device = beat.get("device_id")
            if isinstance(device, str) and seen > agent.devices.get(device, 0):
                agent.devices[device] = seen
                changed.add(agent.login)
            if agent.last_seen_ms is None or seen > agent.last_seen_ms:
                agent.last_seen_ms = seen
                changed.add(agent.login)
        return changed

    def row(self, login: str, now_ms: int) -> AgentRow:
        agent = self.agents[login]
        derived = self._derived.get(login)
        if derived is None or derived[0] != agent.version:
            running = RunningTotals(self.day_start_ms, self.day_end_ms)
            for event in agent.events:
                running.feed(event)
            derived = (agent.version, ShiftState.replay(agent.events), running)
            self._derived[login] = derived
        _version, state, running = derived
        last_sign = _last_sign(agent)
        if not state.open:
            freshness = Freshness.ENDED
        elif last_sign is None or now_ms - last_sign >= OFFLINE_AFTER_MS:
            freshness = Freshness.OFFLINE
        elif now_ms - last_sign >= STALE_AFTER_MS:
            freshness = Freshness.STALE
        else:
            freshness = Freshness.ONLINE
        since = state.since_ms if state.since_ms is not None else now_ms
        in_status = max(now_ms - since, 0) if state.open else 0
        plateau = agent.plateaux[0] if agent.plateaux else ""
        info = self.plateaux.get(plateau, PlateauInfo(plateau))
        level = Level.NORMAL
        if state.open and state.key is Key.PAUSE:
            threshold = info.pause_threshold_s * 1000
            if in_status > 2 * threshold:
                level = Level.WAY_OVER
            elif in_status > threshold:
                level = Level.OVER
        note = None
        if state.open and state.key is not None:
            current = next(
                (e for e in reversed(agent.events) if e.kind is Kind.STATUS and e.key is state.key),
                None,
            )
            note = current.note if current is not None else None
        if self.fixes_today(login) or self._several_pcs(agent):
            today = totals_of(self.day_stretches(login, now_ms))
        else:  # the common case, kept cheap: the running totals, fed once per event
            today = running.at(self.counted_until(login, now_ms))
        return AgentRow(
            login=agent.login,
            name=agent.name,
            plateau=plateau,
            state=state,
            freshness=freshness,
            time_in_status_ms=in_status,
            today=today,
            note=note,
            level=level,
            last_sign_ms=last_sign,
        )

    def rows(self, now_ms: int) -> list[AgentRow]:
        return [self.row(login, now_ms) for login in self.agents]


def _last_sign(agent: AgentLive) -> int | None:
    """The agent's last sign of life: their last heartbeat or event, whichever is later."""
    last_event = agent.events[-1].occurred_at_ms if agent.events else None
    signs = [t for t in (agent.last_seen_ms, last_event) if t is not None]
    return max(signs) if signs else None


COUNTED = ("production", "pause", "off", "unclassified", "offline")


def counters(rows: Iterable[AgentRow]) -> dict[str, int]:
    """How many agents are in production, pause, off, unclassified, offline (on shift)."""
    counts = dict.fromkeys(COUNTED, 0)
    for row in rows:
        if row.status in counts:
            counts[row.status] += 1
    return counts
