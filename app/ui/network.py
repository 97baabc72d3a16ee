"""The OS's word on the network: sync at once when it says the network came back (VPN up,
another Wi-Fi), rather than at the end of a backoff of up to a minute."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject

log = logging.getLogger(__name__)


def watch_network(kick: Callable[[], None], owner: QObject) -> bool:
    """Call `kick` whenever the network is reachable again, while `owner` lives. False where
    the platform has no network information backend (the backoff still gets there)."""
    from PySide6.QtNetwork import QNetworkInformation  # noqa: PLC0415

    if not QNetworkInformation.loadDefaultBackend():
        return False
    info = QNetworkInformation.instance()
    if info is None:
        return False
    reachable = (
        QNetworkInformation.Reachability.Online,
        QNetworkInformation.Reachability.Site,
        QNetworkInformation.Reachability.Local,
    )

    class _Watcher(QObject):
        def on_change(self, reachability: object) -> None:
            if reachability in reachable:
                kick()

    watcher = _Watcher(owner)
    # A bound method of an object owned by `owner`: Qt drops the connection with it.
    info.reachabilityChanged.connect(watcher.on_change)
    log.info("network changes watched through %s", info.backendName())
    return True
