"""The corrections ledger: the corrections of the signed-in agent's time that the bar counts.

From the agent's stream (the store's), just made on this PC, or kept in the journal because
the store could not be reached when they were made (the sync sends those later; the store
may then refuse one, which the agent is told of and which stops counting).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.domain.indicators import Correction
from app.domain.live import correction_from_wire
from app.journal import JournalError

if TYPE_CHECKING:
    from app.journal import Journal

log = logging.getLogger(__name__)


def refusal(body: dict[str, Any]) -> tuple[str, dict[str, Any], str]:
    """Why the store refused a correction kept offline: (code, params, English). The sync
    keeps the store's answer as JSON (older journals kept its English alone)."""
    raw = str(body.get("refused", ""))
    try:
        why = json.loads(raw)
    except ValueError:
        return "", {}, raw
    if not isinstance(why, dict):
        return "", {}, raw
    given = why.get("params")
    params: dict[str, Any] = given if isinstance(given, dict) else {}
    return str(why.get("code") or ""), params, str(why.get("error") or "")


class Ledger:
    """One agent's corrections, by uuid. Not thread-safe: the desk's thread only."""

    def __init__(self, journal: Journal, agent: Callable[[], str]) -> None:
        """`agent()`: whose time the bar records now."""
        self.journal = journal
        self._agent = agent
        self.fixes: dict[str, Correction] = {}
        self._awaiting: set[str] = set()  # kept in the journal, not yet sent
        # Made on this PC (taken by the store or kept to send) and not yet in the stream: a
        # snapshot read a moment before the store took one does not uncount it.
        self._unconfirmed: set[str] = set()
        self._unchecked = False  # refusals told before a restart may still wait

    @property
    def agent(self) -> str:
        return self._agent()

    def reset(self) -> None:
        """Whoever signs in next counts their own corrections only."""
        self.fixes = {}
        self._awaiting = set()
        self._unconfirmed = set()
        self._unchecked = True

    def add(self, rows: list[dict[str, Any]], *, mine: bool = False) -> None:
        """Corrections as the store describes them: its stream's, or (`mine`) made on this
        PC — its answer to the POST, or kept to send later."""
        for data in rows:
            if not isinstance(data, dict) or data.get("agent") not in (None, self.agent):
                continue
            try:
                fix = correction_from_wire(data)
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("a correction that cannot be read is left out: %r", exc)
                continue
            self.fixes[fix.uuid] = fix
            if mine:
                self._unconfirmed.add(fix.uuid)
            else:
                self._unconfirmed.discard(fix.uuid)

    def replace(self, rows: list[dict[str, Any]], made_at_ms: int) -> None:
        """The store's whole list (a stream's snapshot), those still kept here, and those
        made here that the stream has not shown yet: a snapshot read a moment before the
        store took one (the sync sending one kept offline, or the agent's POST) lacks it,
        while the journal no longer holds it either; the stream's next message brings it."""
        made_here = {u: self.fixes[u] for u in self._unconfirmed if u in self.fixes}
        self.fixes = {}
        self.add(rows)
        for uuid, fix in made_here.items():
            if uuid in self._unconfirmed:  # not in the snapshot
                self.fixes[uuid] = fix
        self.load_kept(made_at_ms)

    def keep(self, body: dict[str, Any], made_at_ms: int) -> dict[str, Any]:
        """The store cannot be reached: the correction waits in the journal (raises
        JournalError if it cannot) and counts meanwhile; the row to show."""
        self.journal.queue_correction(body)
        self._awaiting.add(str(body["uuid"]))
        row = self._row(body, made_at_ms)
        self.add([row], mine=True)
        return row

    def load_kept(self, made_at_ms: int) -> None:
        """Corrections still waiting in the journal (made offline, before a restart)."""
        try:
            queued = self.journal.queued_corrections()
        except JournalError as exc:
            log.warning("queued corrections: %s", exc)
            return
        mine = [body for body in queued if body.get("agent") == self.agent]
        # Added to, not replaced: one sent and refused since is still to be told (`settle`).
        self._awaiting |= {str(body.get("uuid")) for body in mine}
        self.add([self._row(body, made_at_ms) for body in mine], mine=True)

    def settle(self) -> list[dict[str, Any]]:
        """The agent's corrections kept offline that the store has since refused: uncounted,
        gone from the journal, and returned (each with `refused`) for the agent to be told.
        The journal is only asked while some wait to be sent (or once after a sign-in)."""
        if not self._awaiting and not self._unchecked:
            return []
        self._unchecked = False
        try:
            # Queued first: one refused in between is then in the refused list, not lost.
            waiting = self.journal.queued_corrections()
            refused = self.journal.refused_corrections()
        except JournalError as exc:
            log.warning("refused corrections: %s", exc)
            return []
        self._awaiting = {str(b.get("uuid")) for b in waiting if b.get("agent") == self.agent}
        told = []
        for body in refused:
            if body.get("agent") != self.agent:
                continue  # someone else's, made on this PC: told at their sign-in
            uuid = str(body.get("uuid", ""))
            try:
                self.journal.forget_refused(uuid)
            except JournalError as exc:
                log.warning("refused correction %s kept: %s", uuid, exc)
                continue
            self.fixes.pop(uuid, None)
            self._unconfirmed.discard(uuid)
            told.append(body)
        return told

    def in_day(self, day: tuple[int, int]) -> list[Correction]:
        """The corrections that touch this day (in the store's time)."""
        return [fix for fix in self.fixes.values() if fix.end_ms > day[0] and fix.start_ms < day[1]]

    def _row(self, body: dict[str, Any], made_at_ms: int) -> dict[str, Any]:
        return {"author": self.agent, "made_at_ms": made_at_ms, **body}
