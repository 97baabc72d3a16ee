"""One bar per user and data dir: a lock file, and a local socket that later launches talk to.

The running bar holds `bandeau.lock` in its data dir (QLockFile, stale-lock safe: a bar killed
with SIGKILL leaves a lock that the next start detects as stale) and listens on a local socket
whose name derives from the data dir. A second `bandeau`, or `bandeau key pause` from a
softphone hook, connects to it and sends one JSON request per line; the bar answers one JSON
line.

On a shared host (Citrix, RDS, VDI) other users must not reach that socket, nor put one of
their own in its place: on Unix it lives in a folder only the user can open
(`$XDG_RUNTIME_DIR/bandeau`, else `<tmp>/bandeau-<uid>`, made 0700 and checked — owner, mode,
not a link — before every use), and both ends check the other's uid (SO_PEERCRED on Linux):
the bar answers only its own user, and a client talks (and hands a token) only to a bar of
its own user. On Windows the name is a named pipe that QLocalServer's UserAccessOption
restricts to the user (not testable here).

Only QtCore and QtNetwork are used here, so commands stay quick to start; the bar takes its
lock before its window shows, and loads the rest (QtNetwork, sockets) once it is painted.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QLockFile, QObject

if TYPE_CHECKING:
    from PySide6.QtNetwork import QLocalSocket

log = logging.getLogger(__name__)

LOCK_FILE = "bandeau.lock"
MAX_REQUEST_BYTES = 16 * 1024  # a request is a key and a note: anything bigger is not ours

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class InstanceError(Exception):
    """The instance lock or the command socket could not be used."""


def private_dir(*, create: bool) -> Path:
    """The folder of the user's command sockets, only theirs (Unix). Raises InstanceError
    when it is not private: another user made it, or it is open to others."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    uid = os.getuid()
    if runtime and _is_private(Path(runtime), uid):
        folder = Path(runtime) / "bandeau"
    else:  # no (usable) runtime dir: a folder of the user's own in the temp dir
        folder = Path(tempfile.gettempdir()) / f"bandeau-{uid}"
    if create:
        try:
            folder.mkdir(mode=0o700)  # never follows a link, never reuses another's folder
        except FileExistsError:
            pass
        except OSError as exc:
            raise InstanceError(f"cannot create the private folder {folder}: {exc}") from exc
    if (folder.exists() or folder.is_symlink()) and not _is_private(folder, uid):
        info = folder.lstat()
        raise InstanceError(
            f"{folder} is not private to you (owner uid {info.st_uid}, mode "
            f"{stat.filemode(info.st_mode)}): another user of this computer may have made "
            "it to catch your bar's commands. Nothing was sent; remove it, or set "
            "XDG_RUNTIME_DIR."
        )
    return folder


def _is_private(folder: Path, uid: int) -> bool:
    try:
        info = folder.lstat()  # a link is refused, not followed
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == uid
        and not info.st_mode & (stat.S_IRWXG | stat.S_IRWXO)
    )


def server_name(data_dir: Path, *, create: bool = False) -> str:
    """The local socket for a data dir: a path in the user's private folder (Unix), or a
    named pipe's name (Windows). Short: Unix socket paths are limited."""
    import hashlib  # noqa: PLC0415 - not needed before the bar is painted

    digest = hashlib.sha256(f"{getpass.getuser()}\0{data_dir.resolve()}".encode()).hexdigest()
    name = f"bandeau-{digest[:24]}"
    if sys.platform == "win32":
        return name
    return str(private_dir(create=create) / f"{name}.sock")


def peer_uid(descriptor: int) -> int | None:
    """The uid of the process at the other end of a connected Unix socket (Linux), or None
    where the platform does not say."""
    import socket  # noqa: PLC0415 - not needed before the bar is painted
    import struct  # noqa: PLC0415

    if not hasattr(socket, "SO_PEERCRED") or descriptor < 0:
        return None

    sock = socket.socket(fileno=os.dup(descriptor))
    try:
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except OSError:
        return None
    finally:
        sock.close()
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


class InstanceLock:
    """The single-instance lock of one data dir."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_FILE
        self._lock = QLockFile(str(self.path))
        # Long-lived lock: never stale by age, only when its process is gone.
        self._lock.setStaleLockTime(0)

    def acquire(self) -> bool:
        """Take the lock; False if another live bar holds it. Raises InstanceError if the
        lock file cannot be written at all (read-only or missing data dir)."""
        if self._lock.tryLock(0):
            return True
        error = self._lock.error()
        if error == QLockFile.LockError.LockFailedError:
            # A lock whose PID now belongs to another program (after a reboot) looks alive.
            # Removing it fails while a live bar holds its file lock, so this is safe.
            if self._lock.removeStaleLockFile() and self._lock.tryLock(0):
                log.info("removed a stale lock file %s", self.path)
                return True
            return False
        raise InstanceError(f"cannot create the lock file {self.path} ({error.name})")

    def holder_pid(self) -> int | None:
        info = self._lock.getLockInfo()  # PySide6: (pid, hostname, appname) when readable
        if not info or not isinstance(info, tuple) or not info[0]:
            return None
        return int(info[0])

    def release(self) -> None:
        self._lock.unlock()


class CommandServer(QObject):
    """Answers the requests of later launches and command-line tools, on the UI thread."""

    def __init__(self, data_dir: Path, handler: Handler, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.data_dir = data_dir
        self.name = ""
        self._handler = handler
        from PySide6.QtNetwork import QLocalServer  # noqa: PLC0415

        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_connection)
        self._buffers: dict[QLocalSocket, bytes] = {}

    def listen(self) -> None:
        self.name = server_name(self.data_dir, create=True)  # InstanceError if not private
        # We hold the instance lock, so a socket file left by a killed bar is stale (and it is
        # in the user's private folder: nobody else's file is removed).
        from PySide6.QtNetwork import QLocalServer  # noqa: PLC0415

        QLocalServer.removeServer(self.name)
        if not self._server.listen(self.name):
            raise InstanceError(f"cannot listen on {self.name}: {self._server.errorString()}")

    def close(self) -> None:
        self._server.close()
        for sock in list(self._buffers):
            sock.abort()
        self._buffers.clear()

    def _on_connection(self) -> None:
        while self._server.hasPendingConnections():
            sock = self._server.nextPendingConnection()
            uid = peer_uid(int(sock.socketDescriptor()))
            if uid is not None and uid != os.getuid():
                log.warning("refused a command from uid %s (not this bar's user)", uid)
                sock.write(QByteArray(b'{"ok": false, "error": "not your bar"}\n'))
                sock.flush()
                sock.abort()
                sock.deleteLater()
                continue
            self._buffers[sock] = b""
            sock.readyRead.connect(lambda s=sock: self._on_ready(s))
            sock.disconnected.connect(lambda s=sock: self._forget(s))

    def _forget(self, sock: QLocalSocket) -> None:
        self._buffers.pop(sock, None)
        sock.deleteLater()

    def _on_ready(self, sock: QLocalSocket) -> None:
        if sock not in self._buffers:
            return
        data = self._buffers[sock] + bytes(sock.readAll().data())
        if len(data) > MAX_REQUEST_BYTES:
            self._reply(sock, {"ok": False, "error": "request too large"})
            return
        if b"\n" not in data:
            self._buffers[sock] = data
            return
        line = data.split(b"\n", 1)[0]
        self._buffers[sock] = b""
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise ValueError("a request is a JSON object")
        except (ValueError, RecursionError) as exc:  # a JSON nested 5,000 deep included
            self._reply(sock, {"ok": False, "error": f"malformed request: {type(exc).__name__}"})
            return
        try:
            response = self._handler(request)
        except Exception as exc:  # a bad request must never take the bar down
            log.exception("command %r failed", request.get("cmd"))
            response = {"ok": False, "error": f"internal error: {exc}"}
        self._reply(sock, response)

    def _reply(self, sock: QLocalSocket, response: dict[str, Any]) -> None:
        sock.write(QByteArray(json.dumps(response).encode("utf-8") + b"\n"))
        sock.flush()
        sock.disconnectFromServer()


def send_request(data_dir: Path, request: dict[str, Any], timeout_ms: int = 5000) -> dict[str, Any]:
    """Send one request to the bar running on `data_dir` and return its answer.

    Raises InstanceError when no bar answers (none running, or it did not answer in time).
    Works without an event loop (blocking socket calls).
    """
    from PySide6.QtNetwork import QLocalSocket  # noqa: PLC0415

    sock = QLocalSocket()
    sock.connectToServer(server_name(data_dir))  # InstanceError if its folder is not private
    if not sock.waitForConnected(timeout_ms):
        absent = (
            QLocalSocket.LocalSocketError.ServerNotFoundError,
            QLocalSocket.LocalSocketError.ConnectionRefusedError,
        )
        why = "" if sock.error() in absent else f" ({sock.errorString()})"
        raise InstanceError(f"no Bandeau bar is running for {data_dir}{why}")
    uid = peer_uid(int(sock.socketDescriptor()))
    if uid is not None and uid != os.getuid():
        sock.abort()  # nothing sent: a request may carry a token
        raise InstanceError(
            f"the bar's socket for {data_dir} is held by another user (uid {uid}): nothing "
            "was sent to it"
        )
    sock.write(QByteArray(json.dumps(request).encode("utf-8") + b"\n"))
    if not sock.waitForBytesWritten(timeout_ms):
        raise InstanceError(f"could not send the request: {sock.errorString()}")
    data = b""
    while b"\n" not in data:
        if not sock.waitForReadyRead(timeout_ms) and sock.bytesAvailable() == 0:
            raise InstanceError(
                "the bar did not answer in time"
                if sock.state() == QLocalSocket.LocalSocketState.ConnectedState
                else "the bar closed the connection without answering"
            )
        data += bytes(sock.readAll().data())
    sock.abort()
    try:
        answer = json.loads(data.split(b"\n", 1)[0])
    except (ValueError, RecursionError):
        raise InstanceError("the bar sent an answer that is not JSON") from None
    if not isinstance(answer, dict):
        raise InstanceError("the bar sent an answer that is not a JSON object")
    return answer
