"""The live stream, client side: Server-Sent Events from `/v1/stream`, on a thread of its own.

`read_events` parses one connection's messages; `StreamClient` keeps a connection up,
reconnecting by itself (full-jitter backoff) after a server restart or a network drop. Every
connection starts with a fresh `snapshot`, so a panel that reconnects is whole again.
It knows nothing of Qt: the panel gets the messages through `on_message`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal

import httpx

from app.sync.client import PROBE_EVERY_S, store_ok, wait_probing
from app.sync.timing import Backoff

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 45.0  # the server sends a keep-alive every 15 s: silence this long = dead


class StreamRefused(Exception):
    """The server refused the stream (a bad token): reconnecting would not help."""


def read_events(lines: Iterable[str]) -> Iterator[tuple[str, Any]]:
    """(event name, decoded data) for each message; comments (keep-alives) are skipped."""
    kind, data = "message", list[str]()
    for line in lines:
        if not line:
            if data:
                yield kind, json.loads("\n".join(data))
            kind, data = "message", []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())


StreamState = Literal["connecting", "live", "offline", "refused"]


class StreamClient(threading.Thread):
    """Keeps `/v1/stream` open. Calls `on_message(kind, data)` for each message and
    `on_state(state, detail)` with "connecting", "live", "offline" or "refused"."""

    def __init__(
        self,
        server: str,
        token: str,
        *,
        on_message: Callable[[str, Any], None],
        on_state: Callable[[StreamState, str], None] = lambda _s, _d: None,
        backoff: Backoff | None = None,
        read_timeout_s: float = READ_TIMEOUT_S,
        probe_every_s: tuple[float, float] = PROBE_EVERY_S,
    ) -> None:
        super().__init__(name="bandeau-stream", daemon=True)
        self.server = server.rstrip("/")
        self._token = token
        self._on_message = on_message
        self._on_state = on_state
        self._backoff = backoff or Backoff(base_s=0.5, cap_s=30)
        self._probe_every_s = probe_every_s
        self._timeout = httpx.Timeout(10.0, read=read_timeout_s)
        self._stopping = threading.Event()
        self._response: httpx.Response | None = None
        self._lock = threading.Lock()

    def stop(self, timeout_s: float = 10.0) -> None:
        """End the stream and wait for the thread."""
        self.request_stop()
        if self.is_alive():
            self.join(timeout_s)

    def request_stop(self) -> None:
        """End the stream without waiting (the thread ends at once, or after its connect
        attempt's timeout)."""
        self._stopping.set()
        with self._lock:
            response = self._response
        if response is not None:
            # Shut the socket down: that wakes the thread blocked reading it at once (closing
            # the response from this thread would not).
            stream = response.extensions.get("network_stream")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def run(self) -> None:
        with httpx.Client(timeout=self._timeout) as http:
            while not self._stopping.is_set():
                self._on_state("connecting", "")
                try:
                    self._follow(http)
                    detail = "the server ended the stream"
                except StreamRefused as exc:
                    self._on_state("refused", str(exc))
                    return
                except (httpx.HTTPError, ValueError) as exc:
                    detail = f"{type(exc).__name__}: {exc}"
                if self._stopping.is_set():
                    return
                delay = self._backoff.next_delay()
                log.info("live stream lost (%s); again in %.1f s", detail, delay)
                self._on_state("offline", detail)
                # Sooner if the store answers /health meanwhile (back after an outage).
                wait_probing(
                    lambda: store_ok(http, f"{self.server}/health"),
                    delay,
                    self._stopping,
                    every_s=self._probe_every_s,
                )

    def _follow(self, http: httpx.Client) -> None:
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "text/event-stream"}
        with http.stream("GET", f"{self.server}/v1/stream", headers=headers) as response:
            if response.status_code in (401, 403):
                raise StreamRefused(f"the server refused the stream ({response.status_code})")
            response.raise_for_status()
            with self._lock:
                self._response = response
            try:
                for kind, data in read_events(response.iter_lines()):
                    if kind == "snapshot":
                        self._backoff.reset()
                        self._on_state("live", "")
                    if kind == "bye" and data.get("reason") == "signed out":
                        raise StreamRefused("signed out")
                    self._on_message(kind, data)
                    if self._stopping.is_set():
                        return
            finally:
                with self._lock:
                    self._response = None
