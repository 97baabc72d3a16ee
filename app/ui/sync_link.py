"""The bar's link to the sync worker: starts and stops it, and brings its status to the UI
thread as a Qt signal (the worker itself knows nothing of Qt)."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from app.account import Account
from app.journal import LocalClaim
from app.recording import Recorder
from app.sync.client import SyncClient
from app.sync.worker import SyncWorker

log = logging.getLogger(__name__)


class SyncLink(QObject):
    """Signals:
    status(SyncStatus): emitted on the UI thread each time the worker reports.
    """

    status = Signal(object)

    def __init__(self, recorder: Recorder, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.recorder = recorder
        self.account: Account | None = None
        self.token: str | None = None
        self._worker: SyncWorker | None = None
        self._retired: list[SyncWorker] = []
        # Each report may carry a new measure of the PC's clock: the recorder cuts days by it.
        self.status.connect(self._follow_offset)

    def _follow_offset(self, _status: object) -> None:
        if self._worker is not None:
            self.recorder.set_clock_offset(self.clock_offset_ms)

    @property
    def active(self) -> bool:
        return self._worker is not None

    @property
    def clock_offset_ms(self) -> int:
        """The store's clock minus this PC's, as last measured (0 before any exchange)."""
        worker = self._worker
        offset = worker.offsets.offset_ms if worker is not None else None
        return offset or 0

    def start(self, account: Account, token: str, claim: LocalClaim | None = None) -> None:
        """Sync this journal to `account` from now on; the agent becomes its login. `claim`:
        the events recorded before sign-in that the agent chose to send as theirs."""
        self.stop()
        self.account, self.token = account, token
        self.recorder.agent = account.login
        client = SyncClient(account.server, token, self.recorder.clock)
        worker = SyncWorker(
            self.recorder.journal,
            client,
            self.recorder.clock,
            agent=account.login,
            claim=claim,
            activities=frozenset(self.recorder.activities),
            on_status=self.status.emit,
            state_provider=self._state,
        )
        self._worker = worker
        worker.start()
        log.info("sync started for %s on %s", account.login, account.server)

    def stop(self) -> None:
        """Stop sending; unsynced events stay in the journal. Does not wait: a request in
        flight may take its whole timeout, and the UI thread must not freeze for it. The
        thread is joined in close()."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.request_stop()
            self._retired.append(worker)

    def close(self) -> None:
        """Stop and join every worker this link started (when the bar quits)."""
        self.stop()
        retired, self._retired = self._retired, []
        for worker in retired:
            worker.stop()

    def forget(self) -> str | None:
        """Stop and forget the sign-in; return the token so that it can be revoked."""
        self.stop()
        token, self.token, self.account = self.token, None, None
        return token

    def kick(self) -> None:
        if self._worker is not None:
            self._worker.kick()

    def watch_network(self) -> bool:
        """Sync at once when the OS says the network came back (VPN up, another Wi-Fi),
        rather than at the end of a backoff of up to a minute. False where the platform has
        no network information backend (the backoff still gets there)."""
        from PySide6.QtNetwork import QNetworkInformation  # noqa: PLC0415

        if not QNetworkInformation.loadDefaultBackend():
            return False
        info = QNetworkInformation.instance()
        if info is None:
            return False
        # A bound method: Qt drops the connection when this link is destroyed.
        info.reachabilityChanged.connect(self._on_reachability)
        log.info("network changes watched through %s", info.backendName())
        return True

    def _on_reachability(self, reachability: object) -> None:
        from PySide6.QtNetwork import QNetworkInformation  # noqa: PLC0415

        if reachability in (
            QNetworkInformation.Reachability.Online,
            QNetworkInformation.Reachability.Site,
            QNetworkInformation.Reachability.Local,
        ):
            self.kick()

    def _state(self) -> dict[str, object]:
        state = self.recorder.state
        return {
            "open": state.open,
            "key": state.key.value if state.key else None,
            "activity": state.activity,
            "since_ms": state.since_ms,
        }
