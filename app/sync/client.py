"""The HTTP client of the sync protocol (/v1): one batch or one heartbeat per call."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from app.domain.clock import Clock
from app.sync.timing import Exchange

TIMEOUT_S = 10.0
# While it waits to try again after the store could not be reached, a bar asks /health
# (cheap, no token) every few seconds, at a random moment in this range: once the store is
# back it resumes within a few seconds rather than at the end of a backoff of up to a minute,
# and a site's bars come back spread over those seconds, not all at once.
PROBE_EVERY_S = (2.0, 4.0)
PROBE_TIMEOUT_S = 2.0


class SyncError(Exception):
    """A call that did not get an answer to act on.

    Attributes:
        retry: try again later (network, timeout, 5xx, 429); a timeout means "unknown", and
            retrying is safe because the store dedupes by uuid.
        retry_after_s: the server's Retry-After, if it gave one.
        signed_out: the token is no longer valid (revoked, user disabled).
        code, params: the store's error code and its parameters, when it refused (for the
            interface to word); None otherwise.
        status: the HTTP status of a refusal (a 4xx other than 401 and 429): the store
            understood the request and will not take it; sending it again unchanged would
            be refused again.
    """

    def __init__(
        self,
        message: str,
        *,
        retry: bool = True,
        retry_after_s: float | None = None,
        signed_out: bool = False,
        code: str | None = None,
        params: dict[str, Any] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.retry = retry
        self.retry_after_s = retry_after_s
        self.signed_out = signed_out
        self.code = code
        self.params = params or {}
        self.status = status

    @property
    def refused(self) -> bool:
        """The store refused this request as such (a 4xx other than 401 and 429)."""
        return self.status is not None


@dataclass(frozen=True, slots=True)
class BatchReply:
    accepted: list[str]
    rejected: list[dict[str, str]]
    exchange: Exchange


class SyncClient:
    """Talks to one server with one token; a fresh connection after any network failure."""

    def __init__(
        self, base_url: str, token: str, clock: Clock, *, timeout_s: float = TIMEOUT_S
    ) -> None:
        self._clock = clock
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout_s,
            headers={"Authorization": f"Bearer {token}", "User-Agent": "bandeau-bar"},
        )

    def close(self) -> None:
        self._http.close()

    def store_ok(self) -> bool:
        """Whether the store answers /health with ok."""
        return store_ok(self._http, "/health")

    def post_events(
        self,
        *,
        device_id: str,
        events: Sequence[Mapping[str, Any]],
        clock_offset_ms: int | None,
    ) -> BatchReply:
        body: dict[str, Any] = {"device_id": device_id, "events": [dict(e) for e in events]}
        if clock_offset_ms is not None:
            body["clock_offset_ms"] = clock_offset_ms
        data, exchange = self._post("/v1/events", body)
        accepted = data.get("accepted")
        rejected = data.get("rejected")
        if not isinstance(accepted, list) or not isinstance(rejected, list):
            raise SyncError("the server's answer has no accepted/rejected lists")
        return BatchReply(
            [str(u) for u in accepted], [r for r in rejected if isinstance(r, dict)], exchange
        )

    def heartbeat(self, *, device_id: str, state: Mapping[str, Any], pending: int) -> Exchange:
        _data, exchange = self._post(
            "/v1/heartbeat", {"device_id": device_id, "state": dict(state), "pending": pending}
        )
        return exchange

    def _send(self, path: str, body: dict[str, Any]) -> httpx.Response:
        """POST; a SyncError for what no caller acts on itself: no answer (retry), a sign-in
        no longer valid, a busy or failing server (retry, after its Retry-After)."""
        try:
            reply = self._http.post(path, json=body)
        except httpx.HTTPError as exc:
            raise SyncError(f"{type(exc).__name__}: {exc}") from exc
        if reply.status_code == 401:
            raise SyncError(
                "the server no longer accepts this sign-in", retry=False, signed_out=True
            )
        if reply.status_code == 429 or reply.status_code >= 500:
            raise SyncError(
                f"server answered {reply.status_code}",
                retry_after_s=_retry_after(reply.headers.get("Retry-After")),
            )
        return reply

    def post_correction(self, body: dict[str, Any]) -> dict[str, Any]:
        """Send a correction kept while the store was away: the stored row. A refusal (the
        store says why) is a SyncError with retry False; the same uuid twice is stored once."""
        reply = self._send("/v1/corrections", body)
        if reply.status_code != 200:
            raise _refusal(reply)
        try:
            data = reply.json()
        except ValueError as exc:
            raise SyncError(f"the server's answer is not understood: {exc}") from exc
        if not isinstance(data, dict):
            raise SyncError("the server's answer is not understood: not an object")
        return data

    def _post(self, path: str, body: dict[str, Any]) -> tuple[dict[str, Any], Exchange]:
        t1 = self._clock.now_ms()
        reply = self._send(path, {**body, "sent_at_ms": t1})
        t4 = self._clock.now_ms()
        if reply.status_code != 200:
            raise _refusal(reply)
        try:
            data = reply.json()
            exchange = Exchange(t1, int(data["received_at_ms"]), int(data["replied_at_ms"]), t4)
        except (ValueError, KeyError, TypeError) as exc:
            raise SyncError(f"the server's answer is not understood: {exc}") from exc
        return data, exchange


def store_ok(http: httpx.Client, url: str) -> bool:
    """Whether the store answers /health with ok (its database can be read and written)."""
    try:
        return http.get(url, timeout=PROBE_TIMEOUT_S).status_code == 200
    except httpx.HTTPError:
        return False


def wait_probing(
    probe: Callable[[], bool],
    delay_s: float,
    wake: threading.Event,
    *,
    every_s: tuple[float, float] = PROBE_EVERY_S,
    rng: random.Random | None = None,
) -> bool:
    """Wait `delay_s`, or less: `probe()` (true once the store is back) every `every_s`
    (drawn at random each time), and `wake` set, end the wait early. True if the probe
    ended it."""
    draw = rng or random.Random()  # noqa: S311 - jitter, not a secret
    deadline = time.monotonic() + delay_s
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        step = draw.uniform(*every_s)
        if step >= left:
            wake.wait(left)
            return False
        if wake.wait(step):
            return False
        if probe():
            return True


def _refusal(reply: httpx.Response) -> SyncError:
    """A 4xx (or any other answer than 200 that `_send` let through), as the store says it:
    its code, field and parameters when its body is the API's error shape."""
    try:
        given = reply.json()
    except ValueError:
        given = None
    body: dict[str, Any] = given if isinstance(given, dict) else {}
    params = body.get("params")
    return SyncError(
        str(body.get("error") or f"server refused the request ({reply.status_code})"),
        retry=False,
        code=str(body.get("code") or "refused"),
        params=params if isinstance(params, dict) else {},
        status=reply.status_code,
    )


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None
