"""What the bundle holds, said once: the spec builds from it, the build's smoke test and the
tests check the result against it, and the Inno Setup script names files from it.

Plain Python with no imports from Bandeau: PyInstaller reads this file before anything is
installed where it runs.
"""

from __future__ import annotations

import fnmatch
import sys

NAME = "bandeau"
APP_ID = "app.bandeau.Bandeau"  # reverse DNS: the .desktop file, Qt's desktop file name
EXECUTABLE = "bandeau.exe" if sys.platform == "win32" else "bandeau"
INTERNAL = "_internal"  # PyInstaller's folder beside the executable

# (source under the repository, folder inside the bundle): the bundle keeps resources/ as it
# is in the repository, without its screenshots (the README's, not the bar's).
DATA_FILES: tuple[tuple[str, str], ...] = (
    ("resources/style.qss", "resources"),
    ("resources/icons/bandeau.svg", "resources/icons"),
    ("resources/icons/grip.svg", "resources/icons"),
    ("resources/icons/production.svg", "resources/icons"),
    ("resources/icons/pause.svg", "resources/icons"),
    ("resources/icons/off.svg", "resources/icons"),
    ("resources/translations/bandeau_fr.qm", "resources/translations"),
)

# Imported by name at run time (app/startup.py warms them), which PyInstaller cannot see.
HIDDEN_IMPORTS: tuple[str, ...] = (
    "app.desk.desk",
    "app.ui.network",
    "app.ui.tray",
    "app.ui.signin",
)

# Never in an agent's bundle: the central store and the demo that embeds it (the bundle's
# `bandeau demo` says the store's parts are missing), and what only those use.
SERVER_MODULES: tuple[str, ...] = (
    "app.server",
    "app.demo",
    "app.sim",
    "sqlalchemy",
    "fastapi",
    "starlette",
    "uvicorn",
    "pydantic",
    "orjson",
    "alembic",
    "psycopg",
)
# Qt's modules Bandeau does not use (QtCore, QtGui, QtWidgets, QtNetwork and QtSvg it does).
UNUSED_QT: tuple[str, ...] = (
    "Qml", "Quick", "OpenGL", "OpenGLWidgets", "Pdf", "Sql", "Test", "Xml", "Concurrent",
    "Designer", "UiTools", "Help", "PrintSupport", "Multimedia",
)  # fmt: skip
EXCLUDED_MODULES: tuple[str, ...] = (
    *SERVER_MODULES,
    "tkinter",
    "unittest",
    "pydoc",
    *(f"PySide6.Qt{name}" for name in UNUSED_QT),
)
# Where a server part would be in the bundle if one slipped in (checked after a build).
SERVER_PARTS: tuple[str, ...] = tuple(
    name.replace(".", "/") for name in SERVER_MODULES if name not in ("app.demo", "app.sim")
)

# Qt's files the bar does not use, by their place in the bundle (fnmatch patterns). Kept:
# the platforms a bar shows on (xcb, wayland, windows, cocoa) and offscreen (the self-test),
# the SVG image and icon plugins (the keys' icons), the platform themes (native dialogs), and
# Qt's French catalogue (Cancel, Close…). Everything else is dead weight on every PC.
LEFT_OUT: tuple[str, ...] = (
    "PySide6/Qt/translations/*",
    "PySide6/translations/*",
    "PySide6/Qt/plugins/platforms/*eglfs*",
    "PySide6/Qt/plugins/platforms/*linuxfb*",
    "PySide6/Qt/plugins/platforms/*minimalegl*",
    "PySide6/Qt/plugins/platforms/*vnc*",
    "PySide6/Qt/plugins/platforms/*vkkhrdisplay*",
    # Wayland gives ordinary clients no way to stay on top or reserve a strip (dock mode):
    # without the plugin, Qt takes the XWayland path (xcb) by itself.
    "PySide6/Qt/plugins/platforms/*wayland*",
    "PySide6/Qt/plugins/wayland-*/*",
    "PySide6/Qt/lib/libQt6Wayland*",
    "PySide6/Qt/lib/libQt6Wl*",
    "PySide6/Qt/lib/libQt6EglFs*",
    "PySide6/Qt/lib/libQt6EglFS*",
    # GTK's theme plugin drags GTK's whole stack in (cairo, pango, harfbuzz…, 6 MB) for the
    # file dialog's look; the desktop portal's theme stays.
    "PySide6/Qt/plugins/platformthemes/*gtk3*",
    "PySide6/Qt/plugins/egldeviceintegrations/*",
    "PySide6/Qt/plugins/generic/*",
    "PySide6/Qt/plugins/imageformats/*",
    "PySide6/Qt/plugins/networkinformation/*",
    "PySide6/Qt/plugins/tls/*",  # the sync speaks https through httpx (Python's ssl)
    "PySide6/Qt/plugins/platforminputcontexts/*",
    "PySide6/Qt/lib/libQt6Pdf*",
    "PySide6/Qt/lib/libQt6Qml*",
    "PySide6/Qt/lib/libQt6Quick*",
    "PySide6/Qt/lib/libQt6VirtualKeyboard*",
    "PySide6/Qt/lib/libQt6OpenGL.*",
    "PySide6/Qt/lib/libQt6OpenGLWidgets*",
)
KEPT_ANYWAY: tuple[str, ...] = (
    "PySide6/Qt/translations/qtbase_fr.qm",
    "PySide6/translations/qtbase_fr.qm",
    "PySide6/Qt/plugins/imageformats/*qsvg*",
    "PySide6/Qt/plugins/networkinformation/*",  # the bar's "network is back" (app/ui/network.py)
    "PySide6/Qt/plugins/platforminputcontexts/*compose*",  # dead keys (é) on X11
    "PySide6/Qt/plugins/platforminputcontexts/*ibus*",
)


# Libraries of the system, at the bundle's top, that only what is left out above needed:
# after the filtering, the spec keeps a top-level library only if something kept needs it.
TOP_LEVEL_KEPT_IF_NEEDED = True


def left_out(dest: str) -> bool:
    """Whether a file PyInstaller collected (its path inside the bundle) stays out."""
    if any(fnmatch.fnmatch(dest, pattern) for pattern in KEPT_ANYWAY):
        return False
    return any(fnmatch.fnmatch(dest, pattern) for pattern in LEFT_OUT)
