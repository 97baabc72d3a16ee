"""The agent's shift as the bar shows it: current key, activity, and since when."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from app.domain.events import Event, Key, Kind


@dataclass(frozen=True, slots=True)
class ShiftState:
    """What the journal says the agent is doing now.

    Attributes:
        open: a shift has started and not ended.
        key: the current key; None before the first key of the shift ("unclassified").
        activity: the activity the agent works on.
        since_ms: wall time (UTC ms) of the event that set the current key, or the shift start.
        last_event_ms: wall time of the latest event, the last local sign of life.
    """

    open: bool = False
    key: Key | None = None
    activity: str | None = None
    since_ms: int | None = None
    last_event_ms: int | None = None
    shift_started_ms: int | None = None

    def apply(self, event: Event) -> ShiftState:
        """The state after one more event (events come in journal order)."""
        state = replace(self, last_event_ms=event.occurred_at_ms)
        match event.kind:
            case Kind.SHIFT_START:
                if state.open:
                    # A second PC starting up: the shift (and the key) go on (one timeline).
                    return replace(state, activity=event.activity or state.activity)
                return replace(
                    state,
                    open=True,
                    key=None,
                    activity=event.activity,
                    since_ms=event.occurred_at_ms,
                    shift_started_ms=event.occurred_at_ms,
                )
            case Kind.STATUS:
                # The same key again (to add a note) does not restart the time in status.
                same = state.open and state.key is event.key
                return replace(
                    state,
                    open=True,
                    key=event.key,
                    activity=event.activity or state.activity,
                    since_ms=state.since_ms if same else event.occurred_at_ms,
                )
            case Kind.ACTIVITY:
                # Switching activity does not restart the time in status.
                return replace(state, activity=event.activity)
            case Kind.SHIFT_END:
                return replace(state, open=False, key=None, since_ms=event.occurred_at_ms)
            case _:
                return state

    @classmethod
    def replay(cls, events: Iterable[Event]) -> ShiftState:
        """Fold events (oldest first) into the current state."""
        state = cls()
        for event in events:
            state = state.apply(event)
        return state
