"""The event: one timestamped click (or shift boundary) in an agent's day."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from enum import StrEnum

NOTE_MAX_CHARS = 200


class Key(StrEnum):
    """The three status keys. Their identities are fixed: indicators depend on them."""

    PRODUCTION = "production"
    PAUSE = "pause"
    OFF = "off"  # "Hors production": training, debriefing, coaching, meeting, admin.


# A new plateau's labels and colours (green, amber, blue as in the brief); an admin may
# change them per plateau, never the keys themselves.
DEFAULT_KEY_LOOKS: dict[Key, tuple[str, str]] = {
    Key.PRODUCTION: ("Production", "#1e8e3e"),
    Key.PAUSE: ("Pause", "#c77800"),
    Key.OFF: ("Hors production", "#1a73e8"),
}


def is_colour(text: str) -> bool:
    """A key colour as plateaux set them: #rrggbb."""
    return _COLOUR.fullmatch(text) is not None


_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


class Kind(StrEnum):
    """What an event records."""

    SHIFT_START = "shift_start"
    STATUS = "status"
    ACTIVITY = "activity"
    SHIFT_END = "shift_end"
    CORRECTION = "correction"
    # The wall clock moved in a way the monotonic clock did not: recorded, never hidden.
    CLOCK_JUMP = "clock_jump"


class SyncState(StrEnum):
    """Where an event stands with the central store."""

    LOCAL = "local"  # recorded before sign-in: kept on this PC unless its person claims it
    PENDING = "pending"
    ACKED = "acked"
    QUARANTINED = "quarantined"


class InvalidEvent(ValueError):
    """An event that must not be written, with a reason a person can read."""


def clean_note(note: str | None) -> str | None:
    """Return the note stripped, None when empty; raise if it is too long."""
    if note is None:
        return None
    note = note.strip()
    if not note:
        return None
    if len(note) > NOTE_MAX_CHARS:
        raise InvalidEvent(f"note is {len(note)} characters long; the limit is {NOTE_MAX_CHARS}")
    return note


def new_uuid(now_ns: int | None = None) -> str:
    """A new event's uuid: a UUID version 7 (RFC 9562), the creation time's milliseconds
    first, then 74 random bits. Time-ordered, so that the store's index of uuids grows at
    its end rather than at a random page for every event: half the cost of a batch's insert
    and commit on SQLite (tests/bench/bench_ingest.py). The time is the event's own, which
    it carries anyway: a uuid says nothing more. (Formatted by hand: importing `uuid` costs
    3 ms the bar need not pay before it is painted.)"""
    ms = (time.time_ns() if now_ns is None else now_ns) // 1_000_000 & (1 << 48) - 1
    rand = int.from_bytes(os.urandom(10), "big")
    value = ms << 80 | 0x7 << 76 | (rand >> 62 & 0xFFF) << 64 | 0b10 << 62 | rand & (1 << 62) - 1
    digits = f"{value:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


@dataclass(frozen=True, slots=True)
class Event:
    """An immutable journal event.

    Attributes:
        occurred_at_ms: UTC wall-clock time in milliseconds since the epoch.
        tz_name / utc_offset_s: the local zone at the time, for the agent's local day.
        monotonic_ms: a monotonic reading taken with the wall time, to detect clock jumps.
        clock_jump_ms: when set, how far the wall clock moved against the monotonic clock
            (negative: backwards) since the previous reading.
        seq: the journal's sequence number, known once the event is written.
    """

    device_id: str
    agent: str
    kind: Kind
    occurred_at_ms: int
    tz_name: str
    utc_offset_s: int
    monotonic_ms: int
    activity: str | None = None
    key: Key | None = None
    note: str | None = None
    clock_jump_ms: int | None = None
    uuid: str = field(default_factory=new_uuid)
    seq: int | None = None

    def __post_init__(self) -> None:
        if self.kind is Kind.STATUS and self.key is None:
            raise InvalidEvent("a status event needs a key")
        if self.note is not None and len(self.note) > NOTE_MAX_CHARS:
            raise InvalidEvent(f"note longer than {NOTE_MAX_CHARS} characters")
        if not self.agent:
            raise InvalidEvent("an event needs an agent")


_KEY_ALIASES = {
    "production": Key.PRODUCTION,
    "prod": Key.PRODUCTION,
    "pause": Key.PAUSE,
    "off": Key.OFF,
    "hors-production": Key.OFF,
    "hors_production": Key.OFF,
    "horsproduction": Key.OFF,
    "hp": Key.OFF,
}


def parse_key(text: str) -> Key:
    """A key from its name on the command line (production, pause, off, or a French alias)."""
    try:
        return _KEY_ALIASES[text.strip().lower().replace(" ", "-")]
    except KeyError:
        raise InvalidEvent(
            f"unknown key {text!r}: expected production, pause or off (hors-production)"
        ) from None
