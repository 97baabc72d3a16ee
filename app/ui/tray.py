"""The tray icon, where the desktop has one: the bar's menu and its current key at a glance.

Every action here is also on the bar itself (its ☰ button and right-click menu), because
stock GNOME, Xvfb and offscreen sessions have no tray.
"""

from __future__ import annotations

from PySide6.QtWidgets import QSystemTrayIcon

from app.ui.bar import Bar
from app.ui.theme import status_icon


def make_tray(bar: Bar) -> QSystemTrayIcon | None:
    """A tray icon showing the bar's key and menu, or None when there is no tray."""
    if not QSystemTrayIcon.isSystemTrayAvailable():
        return None
    tray = QSystemTrayIcon(bar)
    tray.setContextMenu(bar.menu)

    def update() -> None:
        state = bar.recorder.state
        tray.setIcon(status_icon(state.key if state.open else None))
        tray.setToolTip("Bandeau — " + bar.status_name)

    def activated(reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            bar.toggle_visible()

    bar.state_changed.connect(update)
    tray.activated.connect(activated)
    update()
    tray.show()
    return tray
