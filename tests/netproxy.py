"""A small TCP proxy for fault tests: it passes traffic through, refuses connections, or
black-holes them (takes the bytes, never answers), switched at will while clients run."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from typing import Literal

Mode = Literal["pass", "refuse", "blackhole"]


class Proxy:
    """Listens on 127.0.0.1:`port`, forwards to `target`. Use as a context manager."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.mode: Mode = "pass"
        self.refused = 0  # connections turned away while refusing
        self.swallowed = 0  # connections taken into the black hole
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._closing = threading.Event()
        self._accepter = threading.Thread(target=self._accept, name="proxy-accept", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Proxy:
        self._accepter.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def set_mode(self, mode: Mode) -> None:
        """Switch; the connections already open are cut (reset) so that the change applies
        to them too, as when a VPN drops or a Wi-Fi network changes."""
        with self._lock:
            self.mode = mode
            cut, self._open = self._open, set()
        for sock in cut:
            _reset(sock)

    def close(self) -> None:
        self._closing.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self.set_mode("refuse")
        self._accepter.join(10)
        for thread in self._threads:
            thread.join(10)

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                mode = self.mode
            if mode == "refuse":
                self.refused += 1
                _reset(client)
                continue
            if mode == "blackhole":
                self.swallowed += 1
                self._track(client)
                self._start(self._swallow, client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _reset(client)
                continue
            upstream.settimeout(None)
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._track(sock)
            self._start(self._pump, client, upstream)
            self._start(self._pump, upstream, client)

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.add(sock)

    def _start(self, target: object, *args: socket.socket) -> None:
        self._threads = [t for t in self._threads if t.is_alive()]
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self._threads.append(thread)
        thread.start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            _reset(source)
            _reset(sink)

    def _swallow(self, sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while sock.recv(65536):
                pass  # taken, never answered
        _reset(sock)


def _reset(sock: socket.socket) -> None:
    """Close with a reset (SO_LINGER 0), as a dropped network or a firewall would."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RD)  # wakes a thread blocked reading it
    with contextlib.suppress(OSError):
        sock.close()
