"""The API's bodies as pydantic models: what `/openapi.json` documents, and (but for the
ingest hot path) what the routes check.

Requests are strict (a number is a JSON number, never "5" or true) and closed (an unknown
field is refused, naming it). A batch of events is checked by hand in `app.server.ingest`
(each event on its own, a bad one never blocking the others, and faster than a model):
`EventBatch` describes those same checks, and `tests/server/test_schema.py` holds the two
to each other.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

MAX_INT = 2**53 - 1  # the largest whole number every JSON reader holds exactly
MAX_BATCH = 500
NOTE_MAX = 200
REASON_MAX = 200
STATE_MAX_CHARS = 2000
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

Key = Literal["production", "pause", "off"]
Kind = Literal["shift_start", "status", "activity", "shift_end", "correction", "clock_jump"]
Role = Literal["agent", "lead", "admin"]
Millis = Annotated[int, Field(ge=-MAX_INT, le=MAX_INT, description="UTC milliseconds")]
Uuid = Annotated[str, Field(pattern=UUID_PATTERN, max_length=36)]
NUL = "\x00"


def kept_text(text: str | None) -> str | None:
    """A string the store can keep: PostgreSQL's text holds no NUL character (U+0000), and a
    statement carrying one fails as the store's failure — the request's 503 for a bad body,
    one poison value holding up the rest."""
    if text is not None and NUL in text:
        raise ValueError("holds a NUL character (U+0000), which the store cannot keep")
    return text


Kept = AfterValidator(kept_text)  # on every request string the store stores or looks up


class Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- errors ---------------------------------------------------------------------------


class ErrorBody(Answer):
    """Every answer other than 200."""

    error: str = Field(description="what went wrong, in English (for logs and developers)")
    code: str = Field(description="stable: what a client words in its person's language")
    field: str | None = Field(description="the field at fault, as a dotted path, or null")
    params: dict[str, Any] = Field(description="what the wording needs (limits, counts)")


# --- people ---------------------------------------------------------------------------


class SignInRequest(Request):
    login: Annotated[str, Field(min_length=1, max_length=200), Kept]
    password: Annotated[str, Field(min_length=1, max_length=1024)]
    device_id: Uuid | None = Field(
        None, description="the journal's device id: the token's events must carry it"
    )


class PasswordChange(Request):
    current: Annotated[str, Field(min_length=1, max_length=1024)]
    new: Annotated[str, Field(min_length=1, max_length=1024)]


class PasswordChanged(Answer):
    changed: bool
    other_tokens_revoked: int


class PersonOut(Answer):
    login: str
    name: str
    role: Role
    must_change_password: bool = False


class KeyLook(Answer):
    label: str
    colour: str


class PlateauOut(Answer):
    name: str
    pause_threshold_s: int
    keys: dict[str, KeyLook]
    activities: list[str]


class Me(Answer):
    person: PersonOut
    plateaux: list[PlateauOut]


class SignedIn(Me):
    token: str


class SignedOut(Answer):
    revoked: bool


class Version(Answer):
    version: str
    api: str
    schema_: str = Field(alias="schema")


class Health(Answer):
    status: str
    since_ms: int | None = None
    reason: str | None = None


# --- events ---------------------------------------------------------------------------


class EventIn(Request):
    """One event as a bar's journal recorded it."""

    uuid: Uuid
    device_id: Uuid
    seq: Annotated[int, Field(ge=1, le=MAX_INT)]
    agent: Annotated[str, Field(description="the sender's own login")]
    kind: Kind
    occurred_at_ms: Millis = Field(
        description="by the PC's clock; more than 5 minutes ahead of the store's, or more "
        "than 400 days behind it (after the clock correction), is refused"
    )
    tz: Annotated[str, Field(max_length=64), Kept]
    utc_offset_s: Annotated[int, Field(ge=-18 * 3600, le=18 * 3600)]
    monotonic_ms: Annotated[int, Field(ge=0, le=MAX_INT)]
    activity: str | None = None
    key: Key | None = Field(None, description="needed by a status event")
    note: Annotated[str | None, Field(max_length=NOTE_MAX), Kept] = None
    clock_jump_ms: Millis | None = None


class EventBatch(Request):
    """A batch from one bar. Each event is checked on its own: a bad one is listed in
    `rejected` with its reason, never blocking the others."""

    device_id: Uuid | None = None
    sent_at_ms: Millis = Field(description="by the PC's clock, when the batch left")
    clock_offset_ms: Millis | None = Field(
        None,
        description="the PC's estimate of (store clock − PC clock); held by the store within "
        "what this exchange itself shows",
    )
    events: Annotated[list[EventIn], Field(max_length=MAX_BATCH)]


class Rejection(Answer):
    uuid: str
    reason: str = Field(description="'field: why', in English")


class BatchAnswer(Answer):
    accepted: list[str] = Field(description="in the store now (new, or already there)")
    rejected: list[Rejection]
    received_at_ms: int
    replied_at_ms: int


class StoredEvent(Answer):
    uuid: str
    device_id: str
    seq: int
    agent: str
    plateau: str
    activity: str | None
    kind: str
    key: str | None
    occurred_at: str | None = Field(description="ISO 8601 UTC, after the clock correction")
    client_at: str | None
    received_at: str | None
    late: bool = Field(description="received after its day was settled (see README)")
    clock_offset_ms: int
    tz: str
    utc_offset_s: int
    clock_jump_ms: int | None
    note: str | None


class EventsPage(Answer):
    events: list[StoredEvent]
    truncated: bool


class Heartbeat(Request):
    device_id: Uuid
    sent_at_ms: Millis | None = None
    state: dict[str, Any] = Field(
        default_factory=dict, description=f"at most {STATE_MAX_CHARS} characters as JSON"
    )
    pending: Annotated[int, Field(ge=0, le=MAX_INT)] = 0


class HeartbeatAnswer(Answer):
    received_at_ms: int
    replied_at_ms: int


# --- reports and corrections ----------------------------------------------------------


class ReportRow(Answer):
    agent: str | None = None
    name: str | None = None
    day: str | None = None
    activity: str | None = None
    production_s: int
    pause_s: int
    off_s: int
    unclassified_s: int
    presence_s: int
    production_share: float | None
    shrinkage_share: float | None
    pauses: int
    average_pause_s: int | None
    longest_pause_s: int
    over_threshold_s: int
    corrections: int
    late_events: int = Field(
        description="events in these figures that reached the store more than 24 h after "
        "they happened (counted: they are real; said: a settled period changed)"
    )


class Report(Answer):
    rows: list[ReportRow]


class CorrectionIn(Request):
    uuid: Uuid
    agent: Annotated[str, Field(min_length=1, max_length=200), Kept]
    from_ms: Millis
    to_ms: Millis
    key: Key | None = None
    activity: Annotated[str | None, Field(max_length=100), Kept] = None
    off_shift: bool = False
    reason: Annotated[str, Field(min_length=1, max_length=REASON_MAX), Kept]


class StoredCorrection(Answer):
    uuid: str
    agent: str
    author: str
    from_ms: int
    to_ms: int
    key: str | None
    activity: str | None
    off_shift: bool
    reason: str
    made_at_ms: int


class LateArrival(Answer):
    agent: str
    day: str = Field(description="the site day the events happened on")
    events: int
    first_received_at_ms: int
    last_received_at_ms: int


class Corrections(Answer):
    """The audit trail: what changed an agent's time after the fact."""

    corrections: list[StoredCorrection]
    late_arrivals: list[LateArrival] = Field(
        description="events that reached the store more than 24 h after they happened"
    )


class Device(Answer):
    device_id: str
    last_seen_at_ms: int
    state: dict[str, Any]
    pending: int


class MyData(Answer):
    """Everything the store holds about the person asking: the access right."""

    person: PersonOut
    plateaux: list[str]
    events: list[StoredEvent]
    corrections: list[StoredCorrection] = Field(
        description="the corrections of their time: who made them, when and why"
    )
    late_arrivals: list[LateArrival]
    devices: list[Device] = Field(description="their PCs' last heartbeats")
    exported_at_ms: int
