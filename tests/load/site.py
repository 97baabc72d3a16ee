"""A site's day against a real store: thousands of agents' bars, their streams, the leads'.

Run (each prints every figure next to its target):
  .venv/bin/python -m tests.load.site                       # 2,000 agents, 10 min, both set-ups
  .venv/bin/python -m tests.load.site --store sqlite --minutes 3
  .venv/bin/python -m tests.load.site --herd                # 2,000 backlogs of an hour at once
  .venv/bin/python -m tests.load.site --herd --herd-hours 8 # …of a whole day: the store sheds
  .venv/bin/python -m tests.load.site --ceiling             # raise the agents until a target breaks

The store is a real `bandeau-server serve` on loopback: SQLite with one process, or a
throwaway PostgreSQL with `--workers 2`. The agents speak the real protocol, as the bar's
sync worker does (app/sync/worker.py): sign in, a heartbeat every ~30 s, a click every ~2
minutes sent at once in a batch with whatever is still queued, one request in flight per bar,
retries after an error with full-jitter backoff and the store's Retry-After. A quarter of the
bars follow their stream (their own events and their plateaux' coverage), and one lead per
plateau follows theirs. The bars run in `--procs` generator processes (one a core by
default), each an asyncio loop driving its share of the plateaux, on the same cores as the
store: the figures include that contention, and each run prints how late the generators'
own loops woke up, so that a figure that is the generator's is told from the store's.

At the end every simulated agent sends what it still holds, and the store's events are
counted against what the agents created: every event exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import ssl
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import suppress
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import func, select

from app.server import migrate
from app.server import models as m
from app.server.db import make_engine
from app.server.directory import NewPerson, add_activity, add_person, add_plateau
from app.server.security import hash_password, new_token, token_hash
from app.sim import SimAgent
from tests.pg import remove_cluster, start_cluster
from tests.servers import PASSWORD, Served, start_server, stop_server

HEARTBEAT_S = 30.0
CLICK_S = 120.0  # mean time between two clicks of one agent
PER_PLATEAU = 40
TARGET_P99_MS = 100.0
TARGET_LAG_S = 2.0
BACKOFF_CAP_S = 30.0


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


@dataclass(slots=True)
class Agent(SimAgent):
    """A simulated bar (the demo's agent, app.sim), with what the load generator keeps:
    the events it still holds, every event it created, its failures in a row."""

    plateau: str = ""
    pending: list[dict[str, Any]] = field(default_factory=list)
    created: set[str] = field(default_factory=set)
    failures: int = 0
    later: float | None = None  # the store's last Retry-After, for the next wait only
    sending: asyncio.Lock = field(default_factory=asyncio.Lock)

    def event(
        self, kind: str, at_ms: int, key: str | None = None, note: str | None = None
    ) -> dict[str, Any]:
        made: dict[str, Any] = SimAgent.event(self, kind, at_ms, key, note)
        self.created.add(made["uuid"])
        return made


class Figures:
    """What one generator process saw, each figure with the moment it was taken (monotonic:
    one clock for every process of the machine), so that the parent cuts the run into its
    phases: latencies per endpoint, errors, stream lags, its loop's late wake-ups."""

    def __init__(self) -> None:
        self.latency: list[tuple[str, float, float]] = []  # (endpoint, sent at, ms)
        self.errors: dict[str, int] = defaultdict(int)
        self.lag: list[tuple[str, float, float]] = []  # (kind, arrived at, s)
        self.sent_at: dict[str, float] = {}  # event uuid → when its bar sent it (monotonic)
        self.beat_at: dict[str, float] = {}  # login → when its last heartbeat left
        self.stream_drops = 0
        self.shed = 0  # 503/429 answers that asked the bar to come back later
        self.loop_lag: list[tuple[float, float]] = []  # (at, ms late)
        self.done_at: list[float] = []  # the herd: when each backlog was acknowledged

    def took(self, endpoint: str, sent: float, seconds: float) -> None:
        self.latency.append((endpoint, sent, seconds * 1000))

    def failed(self, what: str) -> None:
        self.errors[what] += 1

    def report(self) -> dict[str, Any]:
        """What goes back to the parent (the lookup tables stay here)."""
        return {
            "latency": self.latency,
            "errors": dict(self.errors),
            "lag": self.lag,
            "stream_drops": self.stream_drops,
            "shed": self.shed,
            "loop_lag": self.loop_lag,
            "done_at": self.done_at,
        }


class Site:
    """The simulated agents and leads, driving one store."""

    def __init__(
        self, base: str, agents: list[Agent], leads: list[str], args: Any, *, seed: int
    ) -> None:
        self.base = base
        self.agents = agents
        self.leads = leads
        self.args = args
        self.rng = random.Random(seed)
        self.fig = Figures()
        self.stopping = asyncio.Event()
        self.streams: list[asyncio.Task[None]] = []
        # A client of its own for each bar and each stream, as on a site: a request never
        # waits for another bar's connection (httpx's default pool of 100 left hundreds of
        # streams waiting for a slot), and never pays for theirs — httpcore walks its whole
        # pool at every request, which with one pool for thousands of connections took more
        # of the generator's core than the requests did. `--connections N`: one pool of N
        # for all the bars instead.
        self._tls = ssl.create_default_context()  # one for all (plain http: never used)
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._shared = (
            None
            if not args.connections
            else httpx.AsyncClient(
                base_url=base,
                timeout=30,
                limits=httpx.Limits(max_connections=args.connections),
            )
        )

    def http(self, who: str) -> httpx.AsyncClient:
        """`who`'s own client (a login; a stream's is its own too)."""
        if self._shared is not None and not who.startswith("stream:"):
            return self._shared
        client = self._clients.get(who)
        if client is None:
            client = self._clients[who] = httpx.AsyncClient(
                base_url=self.base, timeout=30, verify=self._tls
            )
        return client

    async def pause(self, seconds: float) -> None:
        """Wait `seconds` (the simulation's pace), or less if the run ends meanwhile: a
        wait on the run's stop event, not a sleep."""
        with suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), max(0.0, seconds))

    async def watch_loop(self) -> None:
        """How late this generator's own event loop wakes up: when it is late, so are the
        bars' requests and the streams' reads, and the figures measure the generator."""
        tick = 0.1
        while not self.stopping.is_set():
            t0 = time.monotonic()
            await self.pause(tick)
            if not self.stopping.is_set():
                self.fig.loop_lag.append((t0, (time.monotonic() - t0 - tick) * 1000))

    async def close(self) -> None:
        clients = [*self._clients.values(), *([self._shared] if self._shared else [])]
        await asyncio.gather(*(c.aclose() for c in clients))
        self._clients.clear()

    # One request, timed and classified.
    async def _request(
        self, who: str, endpoint: str, method: str, path: str, **kw: Any
    ) -> httpx.Response:
        t0 = time.monotonic()
        try:
            reply = await self.http(who).request(method, path, **kw)
        except httpx.HTTPError as exc:
            self.fig.failed(f"{endpoint}: {type(exc).__name__}")
            raise
        self.fig.took(endpoint, t0, time.monotonic() - t0)
        if reply.status_code != 200:
            if reply.status_code in (429, 503):
                self.fig.shed += 1
            self.fig.failed(f"{endpoint}: {reply.status_code}")
        return reply

    async def sign_in(self, login: str, device: str | None) -> str:
        while not self.stopping.is_set():
            body: dict[str, Any] = {"login": login, "password": PASSWORD}
            if device is not None:
                body["device_id"] = device
            try:
                reply = await self._request(login, "signin", "POST", "/v1/signin", json=body)
            except httpx.HTTPError:
                await self.pause(self.rng.uniform(0.5, 3))
                continue
            if reply.status_code == 200:
                return str(reply.json()["token"])
            await self.pause(_retry_after(reply) or self.rng.uniform(0.5, 3))
        return ""

    async def sync(self, agent: Agent) -> bool:
        """Send what the bar holds (≤ 500 at a time) until the store has it all or refuses
        for now; True when nothing is left."""
        async with agent.sending:
            while agent.pending:
                batch = agent.pending[:500]
                sent = time.monotonic()
                for event in batch:
                    self.fig.sent_at.setdefault(event["uuid"], sent)
                try:
                    reply = await self._request(
                        agent.login,
                        "events",
                        "POST",
                        "/v1/events",
                        headers={
                            "Authorization": f"Bearer {agent.token}",
                            "Content-Type": "application/json",
                        },
                        content=orjson.dumps(
                            {"device_id": agent.device_id, "sent_at_ms": now_ms(), "events": batch}
                        ),
                    )
                except httpx.HTTPError:
                    agent.failures += 1
                    return False
                if reply.status_code != 200:
                    agent.failures += 1
                    agent.later = _retry_after(reply)
                    return False
                answer = reply.json()
                if answer["rejected"]:
                    self.fig.failed("events: rejected " + answer["rejected"][0]["reason"][:60])
                done = set(answer["accepted"]) | {r["uuid"] for r in answer["rejected"]}
                agent.pending = [e for e in agent.pending if e["uuid"] not in done]
                agent.failures = 0
            return True

    def backoff(self, agent: Agent) -> float:
        """The wait before the agent's next try, as app.sync.timing.Backoff draws it: full
        jitter, and at least the Retry-After of the store's last refusal, if it gave one."""
        later, agent.later = agent.later, None
        ceiling = min(BACKOFF_CAP_S, 0.5 * 2 ** min(agent.failures, 10))
        return max(self.rng.uniform(0, ceiling), later or 0.0)

    async def beat(self, agent: Agent) -> None:
        self.fig.beat_at[agent.login] = time.monotonic()
        try:
            await self._request(
                agent.login,
                "heartbeat",
                "POST",
                "/v1/heartbeat",
                headers={
                    "Authorization": f"Bearer {agent.token}",
                    "Content-Type": "application/json",
                },
                content=orjson.dumps(
                    {
                        "device_id": agent.device_id,
                        "sent_at_ms": now_ms(),
                        "state": {"open": True, "key": agent.key, "activity": agent.activity},
                        "pending": len(agent.pending),
                    }
                ),
            )
        except httpx.HTTPError:
            return

    def click(self, agent: Agent) -> None:
        agent.key = self.rng.choice([k for k in ("production", "pause", "off") if k != agent.key])
        agent.pending.append(agent.event("status", now_ms(), agent.key))

    async def bar(self, agent: Agent, start_s: float, streams: bool) -> None:
        """One agent's bar: signs in within the wave, then beats and clicks until the end."""
        await self.pause(start_s)
        if not agent.token:
            agent.token = await self.sign_in(agent.login, agent.device_id)
        if not agent.token:
            return
        agent.pending.append(agent.event("shift_start", now_ms()))
        agent.pending.append(agent.event("status", now_ms(), agent.key))
        if streams:
            self.streams.append(
                asyncio.get_running_loop().create_task(self.follow(agent.token, agent.login))
            )
        next_beat = time.monotonic()
        next_click = time.monotonic() + self.rng.expovariate(1 / CLICK_S)
        retry_at: float | None = time.monotonic()
        while not self.stopping.is_set():
            now = time.monotonic()
            if retry_at is not None and now >= retry_at:
                retry_at = (
                    None if await self.sync(agent) else time.monotonic() + self.backoff(agent)
                )
            elif now >= next_beat:
                await self.beat(agent)
                next_beat = time.monotonic() + self.rng.uniform(0.9, 1.1) * HEARTBEAT_S
            elif now >= next_click:
                self.click(agent)
                next_click = time.monotonic() + self.rng.expovariate(1 / CLICK_S)
                retry_at = time.monotonic()  # the bar sends right after a click
            else:
                due = min(t for t in (next_beat, next_click, retry_at) if t is not None)
                await self.pause(due - now)

    async def follow(self, token: str, who: str) -> None:
        """A stream, read until the end of the run; reconnects after it is cut."""
        while not self.stopping.is_set():
            try:
                async with self.http(f"stream:{who}").stream(
                    "GET",
                    "/v1/stream",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=httpx.Timeout(30, read=None),
                ) as reply:
                    if reply.status_code != 200:
                        self.fig.failed(f"stream: {reply.status_code}")
                        await self.pause(self.rng.uniform(1, 3))
                        continue
                    await self._read_stream(reply)
            except httpx.HTTPError as exc:
                if self.stopping.is_set():
                    return
                self.fig.failed(f"stream: {type(exc).__name__}")
            if self.stopping.is_set():
                return
            self.fig.stream_drops += 1
            await self.pause(self.rng.uniform(1, 3))

    async def _read_stream(self, reply: httpx.Response) -> None:
        """Read until the stream ends; the run's end cancels the task (no race per line:
        that cost the generator more than the streams did)."""
        kind = ""
        async for line in reply.aiter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                self._message(kind, line[6:])

    def _message(self, kind: str, data: str) -> None:
        arrived = time.monotonic()
        if kind == "events":
            for event in orjson.loads(data)["events"]:
                sent = self.fig.sent_at.get(event["uuid"])
                if sent is not None:
                    self.fig.lag.append(("events", arrived, arrived - sent))
        elif kind == "presence":
            for beat in orjson.loads(data)["presence"]:
                sent = self.fig.beat_at.get(beat["agent"])
                if sent is not None:
                    self.fig.lag.append(("presence", arrived, arrived - sent))
        elif kind in ("resync", "bye"):
            self.fig.failed(f"stream: {kind}")


def _retry_after(reply: httpx.Response) -> float | None:
    value = reply.headers.get("retry-after", "")
    return float(value) if value.replace(".", "", 1).isdigit() else None


# The store, seeded with a site: plateaux of PER_PLATEAU agents, one lead each.


def seed_site(url: str, agents: int, *, tokens: bool = False) -> tuple[list[Agent], list[str]]:
    """The site's plateaux, agents and leads; with `tokens`, each agent gets a token bound
    to its device straight in the store (the ceiling runs measure the steady rate, not
    thousands of argon2 checks: the log-in wave is measured at 2,000)."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    digest = hash_password(PASSWORD)  # one hash for all: the seeding is not what is measured
    plateaux = max(1, (agents + PER_PLATEAU - 1) // PER_PLATEAU)
    made: list[Agent] = []
    leads: list[str] = []
    with engine.begin() as conn:
        for p in range(plateaux):
            name = f"Plateau {p + 1:03d}"
            add_plateau(conn, name=name)
            for a in ("Assurance", "Banque"):
                add_activity(conn, name=f"{a} {p + 1:03d}", plateau=name)
            lead = f"lead{p + 1:03d}"
            add_person(conn, NewPerson(lead, lead, "lead", (name,)), password_hash=digest)
            leads.append(lead)
        for i in range(agents):
            p = i % plateaux
            login = f"agent{i + 1:05d}"
            add_person(
                conn,
                NewPerson(login, login, "agent", (f"Plateau {p + 1:03d}",)),
                password_hash=digest,
            )
            agent = Agent(
                login,
                PASSWORD,
                key="production",
                activity=f"Assurance {p + 1:03d}",
                plateau=f"Plateau {p + 1:03d}",
            )
            made.append(agent)
            if tokens:
                person_id = conn.execute(
                    select(m.people.c.id).where(m.people.c.login == login)
                ).scalar_one()
                agent.token = new_token()
                conn.execute(
                    m.tokens.insert().values(
                        person_id=person_id,
                        token_hash=token_hash(agent.token),
                        device_id=agent.device_id,
                        created_at=now_ms(),
                        last_used_at=now_ms(),
                    )
                )
    engine.dispose()
    return made, leads


def count_check(url: str, created: set[str]) -> tuple[int, int, int, int]:
    """(created, stored, missing, stored more than once) over the run's events."""
    engine = make_engine(url)
    with engine.connect() as conn:
        stored = set(conn.execute(select(m.events.c.uuid)).scalars())
        total = conn.execute(select(func.count()).select_from(m.events)).scalar_one()
        per_seq = conn.execute(
            select(func.count()).select_from(
                select(m.events.c.device_id, m.events.c.seq)
                .group_by(m.events.c.device_id, m.events.c.seq)
                .having(func.count() > 1)
                .subquery()
            )
        ).scalar_one()
    engine.dispose()
    missing = len(created - stored)
    return len(created), len(stored & created), missing, total - len(stored) + per_seq


class ServerUsage:
    """CPU seconds and RSS of the store's processes (the parent and its workers)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_rss_mb = 0.0
        self.tick = os.sysconf("SC_CLK_TCK")

    def pids(self) -> list[int]:
        found = [self.pid]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(stat[1]) == self.pid:
                    found.append(int(entry.name))
        return found

    def cpu_s(self) -> float:
        total = 0.0
        for pid in self.pids():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(stat[11]) + int(stat[12])) / self.tick
        return total

    def sample_rss(self) -> None:
        rss = 0.0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1]) / 1024
            except OSError:
                continue
        self.peak_rss_mb = max(self.peak_rss_mb, rss)


def show(name: str, value: str, target: str = "-", ok: bool | None = None) -> None:
    verdict = "" if ok is None else ("ok" if ok else "MISSED")
    print(f"  {name:<46} {value:>18}   {target:<16} {verdict}", flush=True)


# Each generator process drives a share of the plateaux (a plateau's bars and its lead
# together, so that a stream's lag is measured by the process that sent the event), on its
# own asyncio loop; the parent starts the store, sets the phases and reads the figures.


@dataclass(slots=True)
class Share:
    """One generator process's part of the site."""

    bars: list[tuple[Agent, bool]]  # each bar, and whether it follows its stream
    leads: list[str]  # the leads that follow their plateau's stream
    online: int = 0  # the herd: how many of `bars` (the first) are online all along
    seed: int = 1


def split(agents: list[Agent], leads: list[str], args: Any) -> list[Share]:
    """The site cut into `--procs` shares by plateau; the same bars stream, the same agents
    are online in a herd, whatever the number of processes."""
    procs = max(1, min(args.procs, len(leads)))
    shares = [Share([], [], seed=args.seed * 1000 + k) for k in range(procs)]
    later: list[list[tuple[Agent, bool]]] = [[] for _ in shares]
    for i, agent in enumerate(agents):
        k = (i % len(leads)) % procs  # seed_site: agent i is on plateau i % plateaux
        if not args.herd:
            shares[k].bars.append((agent, i < args.bar_streams))
        elif i < args.online:  # online all along: each share's first bars
            shares[k].bars.append((agent, i < min(50, args.online)))
            shares[k].online += 1
        else:
            later[k].append((agent, False))
    for share, herd in zip(shares, later, strict=True):
        share.bars += herd
    if not args.herd:
        for p, lead in enumerate(leads[: args.lead_streams]):
            shares[p % procs].leads.append(lead)
    return shares


def generator(conn: Connection, share: Share, args: Any) -> None:
    """A generator process (forked before the store starts): waits for the store's address,
    then for the start, and reports its figures when told to stop."""
    base = conn.recv()
    asyncio.run(_drive(conn, base, share, args))


async def _drive(conn: Connection, base: str, share: Share, args: Any) -> None:
    loop = asyncio.get_running_loop()
    orders: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    loop.add_reader(conn.fileno(), lambda: orders.put_nowait(conn.recv()))
    agents = [agent for agent, _ in share.bars]
    site = Site(base, agents, share.leads, args, seed=share.seed)
    queued = await _prepare_herd(site, share, args) if args.herd else 0
    conn.send({"ready": queued})
    go = (await orders.get())["go"]
    await site.pause(go - time.monotonic())
    tasks = [loop.create_task(site.watch_loop())]
    if args.herd:
        tasks += [
            loop.create_task(site.bar(a, site.rng.uniform(0, 5), streams))
            for a, streams in share.bars[: share.online]
        ]
        await site.pause(args.calm_s)  # the online agents' ordinary rate, before the herd
        herd = agents[share.online :]
        await asyncio.gather(*(_comes_back(site, a, args) for a in herd))
        conn.send({"herd_done": time.monotonic()})
    else:
        tasks += [
            loop.create_task(site.bar(a, site.rng.uniform(0, args.wave_s), streams))
            for a, streams in share.bars
        ]
        tasks += [loop.create_task(_lead(site, lead)) for lead in share.leads]
    await orders.get()  # stop
    site.stopping.set()
    for task in site.streams:
        task.cancel()
    await asyncio.gather(*tasks, *site.streams, return_exceptions=True)
    site.stopping.clear()  # the last sends: every agent hands over what it still holds
    drain_started = time.monotonic()
    while any(a.pending for a in agents) and time.monotonic() - drain_started < 300:
        await asyncio.gather(*(site.sync(a) for a in agents if a.pending))
    await site.close()
    created = [uuid for a in agents for uuid in a.created]
    conn.send({"figures": site.fig.report(), "created": created})


async def _lead(site: Site, lead: str) -> None:
    token = await site.sign_in(lead, None)
    if token:
        site.streams.append(asyncio.get_running_loop().create_task(site.follow(token, lead)))


async def _prepare_herd(site: Site, share: Share, args: Any) -> int:
    """Every agent signed in (not measured); the herd's backlogs queued: `--herd-hours` of
    a shift, offline since it began. How many events are queued."""
    sem = asyncio.Semaphore(8)

    async def signed(agent: Agent) -> None:
        async with sem:
            agent.token = await site.sign_in(agent.login, agent.device_id)

    await asyncio.gather(*(signed(a) for a, _ in share.bars))
    minutes = round(args.herd_hours * 60)
    began = now_ms() - minutes * 60_000
    herd = [a for a, _ in share.bars[share.online :]]
    for agent in herd:
        agent.pending.append(agent.event("shift_start", began))
        for minute in range(1, minutes, 2):
            agent.key = "pause" if agent.key == "production" else "production"
            agent.pending.append(agent.event("status", began + minute * 60_000, agent.key))
    return sum(len(a.pending) for a in herd)


async def _comes_back(site: Site, agent: Agent, args: Any) -> None:
    await site.pause(site.rng.uniform(0, args.herd_s))
    while not await site.sync(agent):
        await site.pause(site.backoff(agent))
    site.fig.done_at.append(time.monotonic())


class Generators:
    """The generator processes, seen from the parent."""

    def __init__(self, shares: list[Share], args: Any) -> None:
        context = multiprocessing.get_context("fork")  # before the store and its threads
        self.procs: list[tuple[BaseProcess, Connection]] = []
        for share in shares:
            ours, theirs = context.Pipe()
            proc = context.Process(target=generator, args=(theirs, share, args), daemon=True)
            proc.start()
            theirs.close()
            self.procs.append((proc, ours))
        self.usage = [ServerUsage(proc.pid or 0) for proc, _ in self.procs]

    def send(self, message: Any) -> None:
        for _, conn in self.procs:
            conn.send(message)

    def receive(self, timeout_s: float = 900) -> list[dict[str, Any]]:
        """One message from each process; a process that died or hung is an error."""
        got = []
        for proc, conn in self.procs:
            if not conn.poll(timeout_s):
                raise RuntimeError(f"a generator process gave nothing for {timeout_s:.0f} s")
            try:
                got.append(conn.recv())
            except EOFError:
                raise RuntimeError(f"a generator process died (exit {proc.exitcode})") from None
        return got

    def cpu_s(self) -> float:
        return sum(u.cpu_s() for u in self.usage)

    def wait_until(self, moment: float) -> None:
        """Keep time until `moment`, woken at once if a generator process ends early (an
        error: it would otherwise be found only at the end of the run)."""
        ended = wait([proc.sentinel for proc, _ in self.procs], max(0.0, moment - time.monotonic()))
        if ended:
            raise RuntimeError("a generator process ended before the run did")

    def close(self) -> None:
        for proc, conn in self.procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
                proc.join()
            conn.close()


class Seen:
    """Every generator's figures together, cut by the moment each was taken."""

    def __init__(self, reports: list[dict[str, Any]]) -> None:
        figures = [r["figures"] for r in reports]
        self.latency = [x for f in figures for x in f["latency"]]
        self.lag = [x for f in figures for x in f["lag"]]
        self.loop_lag = [x for f in figures for x in f["loop_lag"]]
        self.done_at = [x for f in figures for x in f["done_at"]]
        self.errors: dict[str, int] = defaultdict(int)
        for f in figures:
            for what, n in f["errors"].items():
                self.errors[what] += n
        self.stream_drops: int = sum(f["stream_drops"] for f in figures)
        self.shed: int = sum(f["shed"] for f in figures)
        self.created: set[str] = {uuid for r in reports for uuid in r["created"]}

    def times(self, endpoints: tuple[str, ...], window: tuple[float, float]) -> list[float]:
        lo, hi = window
        return [ms for ep, at, ms in self.latency if ep in endpoints and lo <= at < hi]

    def late(self, window: tuple[float, float]) -> list[float]:
        lo, hi = window
        return [ms for at, ms in self.loop_lag if lo <= at < hi]


def run_load(url: str, served: Served, gens: Generators, args: Any) -> bool:
    """The site's day: the log-in wave, then the steady rate; figures printed, True if
    every target held."""
    usage = ServerUsage(served.proc.pid)
    gens.receive()  # ready
    go = time.monotonic() + 0.5
    gens.send({"go": go})
    gens.wait_until(go)
    cpu0 = usage.cpu_s()
    steady_at = go + args.wave_s
    gens.wait_until(steady_at)
    wave_cpu = (usage.cpu_s() - cpu0) / args.wave_s
    logged_from = len(served.stderr)
    cpu0, gen0, tcp0 = usage.cpu_s(), gens.cpu_s(), tcp_counters()
    end = steady_at + args.minutes * 60
    while time.monotonic() < end:
        usage.sample_rss()
        gens.wait_until(min(time.monotonic() + 5.0, end))
    steady_s = time.monotonic() - steady_at
    logged = served.stderr[logged_from:]
    in_store = {p: _server_ms(logged, p) for p in ("/v1/events", "/v1/heartbeat")}
    steady_cpu = (usage.cpu_s() - cpu0) / steady_s
    client_cpu = (gens.cpu_s() - gen0) / steady_s
    tcp = {k: v - tcp0.get(k, 0) for k, v in tcp_counters().items()}
    gens.send({"stop": True})
    seen = Seen(gens.receive())
    created, stored, missing, doubled = count_check(url, seen.created)
    agents = sum(len(s.bars) for s in args.shares)
    bar_streams = sum(streams for s in args.shares for _, streams in s.bars)
    lead_streams = sum(len(s.leads) for s in args.shares)
    print(
        f"  {agents} agents, {bar_streams} bar streams, {lead_streams} lead streams, "
        f"{len(args.shares)} generator process(es); "
        f"{'bars starting (tokens made in the store)' if args.ceiling else 'log-in wave'} "
        f"over {args.wave_s:.0f} s, then {steady_s / 60:.1f} min steady"
    )
    phases = {"wave": (go, steady_at), "steady": (steady_at, end)}
    ok = True
    for endpoint in ("events", "heartbeat", "signin"):
        for phase, window in phases.items():
            times = seen.times((endpoint,), window)
            if not times:
                continue
            p99 = pct(times, 0.99)
            target = endpoint != "signin" and phase == "steady"
            held = p99 <= TARGET_P99_MS
            ok &= held or not target
            show(
                f"{endpoint} ({phase}) p50 / p99 ms, {len(times)} req",
                f"{pct(times, 0.5):.1f} / {p99:.1f}",
                "p99 <= 100 ms" if target else "-",
                held if target else None,
            )
    for path, times in in_store.items():
        if times:
            show(
                f"  {path} in the store (its log), steady p50 / p99",
                f"{pct(times, 0.5):.1f} / {pct(times, 0.99):.1f}",
            )
    errors = sum(seen.errors.values())
    ok &= errors == 0
    show("errors", f"{errors}", "0", errors == 0)
    for what, n in sorted(seen.errors.items(), key=lambda kv: -kv[1])[:6]:
        print(f"      {n:>6}  {what}")
    for kind in ("events", "presence"):
        lags = [s for k, _, s in seen.lag if k == kind]
        if lags:
            worst = pct(lags, 0.99)
            ok &= worst <= TARGET_LAG_S
            show(
                f"stream lag, {kind} (send → stream) p50 / p99 s",
                f"{pct(lags, 0.5):.3f} / {worst:.3f}",
                "p99 <= 2 s",
                worst <= TARGET_LAG_S,
            )
    show("stream drops (reconnected)", f"{seen.stream_drops}", "0", seen.stream_drops == 0)
    ok &= seen.stream_drops == 0
    show_generator(seen.late(phases["steady"]), "steady", tcp)
    show("server CPU during the wave (cores)", f"{wave_cpu:.2f}")
    show("server CPU steady (cores)", f"{steady_cpu:.2f}")
    show("load generator CPU steady (cores)", f"{client_cpu:.2f}")
    show("server RSS, peak (MB)", f"{usage.peak_rss_mb:.0f}")
    exact = missing == 0 and doubled == 0 and stored == created
    ok &= exact
    show("count check: created / stored once", f"{created} / {stored}", "all, once", exact)
    if missing or doubled:
        print(f"      missing {missing}, more than once {doubled}")
    return ok


def tcp_counters() -> dict[str, int]:
    """This machine's TCP counters that tell a client's connection was kept waiting before
    the store saw it: a full accept queue (dropped SYNs, retransmitted 1 s, 3 s, 7 s… later)."""
    wanted = ("ListenOverflows", "ListenDrops", "TCPSynRetrans", "TCPTimeouts")
    found: dict[str, int] = {}
    with suppress(OSError):
        lines = Path("/proc/net/netstat").read_text().splitlines()
        for names, values in zip(lines[::2], lines[1::2], strict=False):
            if names.startswith("TcpExt:"):
                pairs = zip(names.split()[1:], values.split()[1:], strict=False)
                found.update({k: int(v) for k, v in pairs if k in wanted})
    return found


def show_generator(late: list[float], phase: str, tcp: dict[str, int]) -> None:
    """What tells whether a figure is the store's or the generator's own: its loops' late
    wake-ups, and the machine's TCP counters over the phase (all processes on it)."""
    if late:
        show(
            f"  generator loops late ({phase}) p50 / p99 / max ms",
            f"{pct(late, 0.5):.0f} / {pct(late, 0.99):.0f} / {max(late):.0f}",
        )
    if tcp:
        show(
            f"  TCP ({phase}): listen overflows / SYN retransmits",
            f"{tcp.get('ListenOverflows', 0)} / {tcp.get('TCPSynRetrans', 0)}",
        )


def run_herd(url: str, served: Served, gens: Generators, args: Any) -> bool:
    """Every agent back at once with `--herd-hours` queued, while `--online` others go on
    working: how long until every backlog is acknowledged, and the p99 of those who stayed
    online."""
    agents = sum(len(s.bars) for s in args.shares)
    print(f"  signing in {agents} agents (not measured)…", flush=True)
    queued = sum(r["ready"] for r in gens.receive())
    go = time.monotonic() + 0.5
    gens.send({"go": go})
    herd_at = go + args.calm_s
    gens.wait_until(herd_at)
    herd = agents - args.online
    print(f"  the herd comes back ({herd} agents within {args.herd_s:.0f} s)…", flush=True)
    logged_from = len(served.stderr)
    usage = ServerUsage(served.proc.pid)
    cpu0, gen0, tcp0 = usage.cpu_s(), gens.cpu_s(), tcp_counters()
    gens.receive()  # every share's herd acknowledged
    done = time.monotonic()
    store_cpu = (usage.cpu_s() - cpu0) / (done - herd_at)
    client_cpu = (gens.cpu_s() - gen0) / (done - herd_at)
    tcp = {k: v - tcp0.get(k, 0) for k, v in tcp_counters().items()}
    server_side = _server_ms(served.stderr[logged_from:], "/v1/heartbeat")
    gens.wait_until(time.monotonic() + min(10.0, args.calm_s))  # a moment after, as before
    gens.send({"stop": True})
    seen = Seen(gens.receive())
    created, stored, missing, doubled = count_check(url, seen.created)
    acked = [t - herd_at for t in seen.done_at]
    print(
        f"  {herd} agents with {args.herd_hours:g} h queued ({queued} events) back within "
        f"{args.herd_s:.0f} s; {args.online} others online meanwhile; "
        f"{len(args.shares)} generator process(es)"
    )
    show("every backlog acknowledged after", f"{max(acked):.1f} s", "-")
    show("half of the backlogs acknowledged after", f"{pct(acked, 0.5):.1f} s", "-")
    ok = True
    herd_window = (herd_at, herd_at + max(acked))
    for phase, window in (("before", (go, herd_at)), ("herd", herd_window)):
        times = seen.times(("events", "heartbeat"), window)
        p99 = pct(times, 0.99)
        if phase == "herd":
            ok &= p99 <= TARGET_P99_MS
        show(
            f"online agents' p50 / p99 ms ({phase})",
            f"{pct(times, 0.5):.1f} / {p99:.1f}",
            "p99 <= 100 ms" if phase == "herd" else "-",
            p99 <= TARGET_P99_MS if phase == "herd" else None,
        )
    if server_side:
        show(
            "  the same heartbeats, in the store (its log) p50 / p99",
            f"{pct(server_side, 0.5):.1f} / {pct(server_side, 0.99):.1f}",
        )
    show_generator(seen.late(herd_window), "herd", tcp)
    show("store CPU / generator CPU during the herd (cores)", f"{store_cpu:.2f} / {client_cpu:.2f}")
    show("answers asking to come back later (503/429)", f"{seen.shed}")
    other = {k: v for k, v in seen.errors.items() if not k.endswith((" 503", " 429"))}
    show("other errors", f"{sum(other.values())}", "0", not other)
    for what, n in sorted(other.items(), key=lambda kv: -kv[1])[:6]:
        print(f"      {n:>6}  {what}")
    exact = missing == 0 and doubled == 0 and stored == created
    show("count check: created / stored once", f"{created} / {stored}", "all, once", exact)
    return ok and exact and not other


def _server_ms(lines: list[str], path: str) -> list[float]:
    """The store's own time for each request to `path` (its request log: one JSON object a
    line): what the client's measure adds beyond it is the network and the client itself,
    which shares the cores."""
    found = []
    for text in lines:
        start = text.find("{")
        if start < 0 or path not in text:
            continue
        with suppress(ValueError):
            entry = orjson.loads(text[start:])
            if entry.get("path") == path:
                found.append(float(entry["ms"]))
    return found


def run_on(label: str, url: str, workers: int, args: Any) -> bool:
    print(f"{label} — `serve --workers {workers}`:", flush=True)
    agents, leads = seed_site(
        url, args.agents + (args.online if args.herd else 0), tokens=args.ceiling
    )
    args.shares = split(agents, leads, args)
    gens = Generators(args.shares, args)
    extra = ("--workers", str(workers)) if workers > 1 else ()
    try:
        served = start_server(url, *extra, clock_start_ms=None)  # real time: the agents' clocks
        try:
            gens.send(served.base_url)
            runner = run_herd if args.herd else run_load
            return runner(url, served, gens, args)
        finally:
            stop_server(served)
    finally:
        gens.close()


def on_sqlite(args: Any) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        return run_on("SQLite", f"sqlite:///{Path(tmp) / 'store.sqlite3'}", 1, args)


def on_postgresql(args: Any) -> bool:
    cluster = start_cluster()
    try:
        return run_on("PostgreSQL", cluster.url(cluster.create_database()), 2, args)
    finally:
        remove_cluster(cluster)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--bar-streams", type=int, default=500)
    parser.add_argument("--lead-streams", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=10.0, help="the steady part")
    parser.add_argument("--wave-s", type=float, default=120.0, help="the log-in wave")
    parser.add_argument(
        "--connections", type=int, default=0, help="the bars' connections (0: one each)"
    )
    parser.add_argument("--herd", action="store_true", help="the herd instead of the day")
    parser.add_argument("--herd-s", type=float, default=10.0, help="the herd comes back over")
    parser.add_argument("--calm-s", type=float, default=30.0, help="the others alone, before")
    parser.add_argument("--online", type=int, default=200, help="others, not in the herd")
    parser.add_argument(
        "--herd-hours", type=float, default=1.0, help="the shift each of the herd has queued"
    )
    parser.add_argument(
        "--ceiling",
        action="store_true",
        help="raise the agents by half until a target breaks (tokens made in the store)",
    )
    parser.add_argument(
        "--procs",
        type=int,
        default=os.cpu_count() or 1,
        help="generator processes, each with its share of the plateaux (default: one a core)",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"Bandeau at a site's scale — Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    stores = [on_sqlite, on_postgresql]
    if args.store != "both":
        stores = [on_sqlite] if args.store == "sqlite" else [on_postgresql]
    ok = True
    for store in stores:
        if not args.ceiling:
            ok &= store(args)
            continue
        agents, held = args.agents, 0
        scale = (args.bar_streams / args.agents, args.lead_streams / args.agents)
        while True:
            args.bar_streams, args.lead_streams = int(agents * scale[0]), int(agents * scale[1])
            args.agents = agents
            if not store(args):
                print(
                    f"  ceiling: {held or 'below ' + str(agents)} agents hold every target; "
                    f"{agents} break one"
                )
                break
            held, agents = agents, int(agents * 1.5)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
