"""`bandeau --self-test`: does this installation (a bundle above all) hold together?

It opens a journal and records and reads back one event, renders the bar offscreen in both
languages, checks that the keyring's backends are inside and says which one this session
gets, checks Bandeau's and Qt's French catalogues and the platform plugins a bar needs. It
prints each check and exits 0 only if all held. It never touches the agent's own journal:
`--data-dir DIR` (or a temporary folder, removed after) holds the journal it writes.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1

# The keyring backends an agent's PC of each system needs (keyring finds them by entry
# point: a frozen app can lose them and fall back to "no keyring" without a word).
NATIVE_BACKENDS = {
    "linux": ("keyring.backends.SecretService", "keyring.backends.kwallet"),
    "win32": ("keyring.backends.Windows",),
    "darwin": ("keyring.backends.macOS",),
}
# The platform plugin a visible bar needs on each system (offscreen is what this test uses).
NATIVE_PLATFORMS = {"linux": ("xcb", "wayland"), "win32": ("windows",), "darwin": ("cocoa",)}
SAMPLE_NOTE = "self-test"


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str


def run_self_test(data_dir: str | None, out: Callable[[str], None] = print) -> int:
    """Run every check, print one line each, and return the exit code."""
    # Offscreen whatever the session: the test must run over ssh and never pop a window.
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    checks: list[Check] = []
    with tempfile.TemporaryDirectory(prefix="bandeau-self-test-") as scratch:
        where = Path(data_dir).expanduser().absolute() if data_dir else Path(scratch)
        steps: tuple[tuple[str, Callable[[], Check]], ...] = (
            ("journal", lambda: _journal(where)),
            ("resources", _resources),
            ("bar", _bar),
            ("translations", _translations),
            ("keyring", _keyring),
            ("platforms", _platforms),
        )
        for name, check in steps:
            try:
                result = check()
            except Exception as exc:  # a check that breaks is a failed check, said as such
                result = Check(name, False, f"{exc!r}")
            checks.append(result)
            out(f"{'ok  ' if result.ok else 'FAIL'}  {result.name}: {result.detail}")
    failed = [c.name for c in checks if not c.ok]
    frozen = " (bundle)" if getattr(sys, "frozen", False) else ""
    if failed:
        out(f"self-test FAILED{frozen}: {', '.join(failed)}")
        return EXIT_FAILED
    out(f"self-test passed{frozen}: {len(checks)} checks")
    return EXIT_OK


def _journal(where: Path) -> Check:
    from app.domain.clock import SystemClock  # noqa: PLC0415
    from app.domain.events import Key  # noqa: PLC0415
    from app.journal import Journal  # noqa: PLC0415
    from app.recording import Recorder  # noqa: PLC0415

    # Its own file, removed after: pointed at a bar's data folder, it leaves the agent's
    # journal alone.
    path = where / "self-test.sqlite3"
    for old in _files_of(path):
        old.unlink(missing_ok=True)
    journal = Journal(path)
    try:
        recorder = Recorder(
            journal, SystemClock(), agent="self-test", activities=["Général"], signed_in=False
        )
        recorder.start()
        outcome = recorder.press(Key.PAUSE, SAMPLE_NOTE)
        written = outcome.events[-1]
        journal.close()
        journal = Journal(path, readonly=True)  # read back from the file, not from memory
        found = [e for e in journal.events() if e.uuid == written.uuid]
        if len(found) != 1 or found[0].note != SAMPLE_NOTE or found[0].key is not Key.PAUSE:
            return Check("journal", False, f"event {written.uuid} not read back from {path}")
        problems = journal.integrity_check()
        if problems != ["ok"]:
            return Check("journal", False, f"integrity check: {problems}")
        return Check("journal", True, f"recorded and read back one event in {path}")
    finally:
        journal.close()
        for done in _files_of(path):
            done.unlink(missing_ok=True)


def _files_of(path: Path) -> list[Path]:
    return [path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))]


def _resources() -> Check:
    from app.resources import resource, resources_dir  # noqa: PLC0415

    needed = [
        resource("style.qss"),
        resource("translations", "bandeau_fr.qm"),
        *(resource("icons", f"{n}.svg") for n in ("bandeau", "production", "pause", "off")),
    ]
    missing = [str(p) for p in needed if not p.is_file()]
    if missing:
        return Check("resources", False, "missing " + ", ".join(missing))
    return Check("resources", True, f"{len(needed)} files in {resources_dir()}")


def _application() -> object:
    from PySide6.QtWidgets import QApplication  # noqa: PLC0415

    return QApplication.instance() or QApplication(sys.argv[:1])


def _bar() -> Check:
    from PySide6.QtGui import QColor  # noqa: PLC0415

    from app.config import load_settings  # noqa: PLC0415
    from app.ui.bar import Bar  # noqa: PLC0415
    from app.ui.i18n import Translations  # noqa: PLC0415
    from app.ui.theme import stylesheet  # noqa: PLC0415

    app = _application()
    app.setStyleSheet(stylesheet())  # type: ignore[attr-defined]
    translations = Translations()
    seen = []
    for language in ("fr", "en"):
        translations.apply(language)
        bar = Bar(None, load_settings(None, environ={}), translations=translations)
        try:
            bar.ensurePolished()
            bar.adjustSize()
            image = bar.grab().toImage()
            colours = {
                QColor(image.pixel(x, y)).rgb()
                for x in range(0, image.width(), 3)
                for y in range(0, image.height(), 3)
            }
            if image.width() < 100 or image.height() < 20 or len(colours) < 8:
                return Check(
                    "bar",
                    False,
                    f"rendered {image.width()}×{image.height()}, {len(colours)} colours",
                )
            seen.append(f"{language} {image.width()}×{image.height()} ({len(colours)} colours)")
        finally:
            bar.close()
            bar.deleteLater()
    translations.apply("en")
    return Check("bar", True, "rendered offscreen: " + ", ".join(seen))


def _translations() -> Check:
    from PySide6.QtCore import QCoreApplication, QLocale, QTranslator  # noqa: PLC0415

    from app.ui.i18n import Translations, qt_translations_dir  # noqa: PLC0415

    _application()
    translations = Translations()
    if not translations.apply("fr"):
        return Check("translations", False, "Bandeau's French catalogue did not load")
    try:
        ours = QCoreApplication.translate("SettingsDialog", "Settings")
        qt = QTranslator()
        if not qt.load(QLocale(QLocale.Language.French), "qtbase", "_", qt_translations_dir()):
            return Check("translations", False, f"no qtbase_fr.qm in {qt_translations_dir()}")
        cancel = qt.translate("QPlatformTheme", "Cancel")
        if ours == "Settings" or not cancel or cancel == "Cancel":
            return Check("translations", False, f"French not applied ({ours!r}, {cancel!r})")
    finally:
        translations.apply("en")
    return Check(
        "translations",
        True,
        f"Bandeau's French (Settings → {ours}) and Qt's (Cancel → {cancel}) from "
        f"{qt_translations_dir()}",
    )


def _keyring() -> Check:
    from importlib.metadata import entry_points  # noqa: PLC0415

    import keyring  # noqa: PLC0415
    import keyring.backend  # noqa: PLC0415

    from app.credentials import backend_problem  # noqa: PLC0415

    # keyring finds even its own backends by entry point: without its metadata a frozen app
    # has none and silently falls back to "no keyring". Checked the way keyring looks.
    declared = {ep.value: ep for ep in entry_points(group="keyring.backends")}
    wanted = NATIVE_BACKENDS.get(sys.platform, ())
    missing = []
    for name in wanted:
        try:
            declared[name].load()
        except KeyError:
            missing.append(f"{name} (no entry point)")
        except ImportError as exc:
            missing.append(f"{name} ({exc})")
    if missing:
        return Check("keyring", False, "backends missing: " + ", ".join(missing))
    picked = keyring.get_keyring()
    chosen = f"{type(picked).__module__}.{type(picked).__name__}"
    viable = sorted({type(b).__module__ for b in keyring.backend.get_all_keyring()})
    problem = backend_problem()
    if problem:
        usable = f"none usable in this session: {problem}; a bar keeps its token in memory"
    else:
        broken, usable = _round_trip()
        if broken:
            return Check("keyring", False, f"{chosen}: {broken}")
    return Check(
        "keyring",
        True,
        f"backends inside ({', '.join(wanted) or 'none needed'}); this session picks {chosen} "
        f"({usable}); viable here: {', '.join(viable)}",
    )


def _round_trip() -> tuple[str | None, str]:
    """A test secret through the bar's own keyring calls: stored, read back and deleted.
    (What is broken in this installation, or None; what happened.) A locked keyring that
    does not answer, or refuses, is the session's state (a bar then keeps its token in
    memory), not the installation's."""
    import secrets  # noqa: PLC0415

    from app.credentials import NoKeyring, delete_token, load_token, save_token  # noqa: PLC0415

    server, login, value = "bandeau-self-test", "self-test", secrets.token_urlsafe(16)
    try:
        save_token(server, login, value)
        read = load_token(server, login)
        delete_token(server, login)
    except NoKeyring as exc:
        if exc.part_missing:
            return f"a part of the keyring is missing ({exc})", ""
        return None, f"usable, but not for a test secret: {exc}"
    if read != value:
        return "a test secret stored was not read back", ""
    return None, "usable: a test secret stored, read back and deleted"


def _platforms() -> Check:
    from PySide6.QtCore import QLibraryInfo  # noqa: PLC0415

    folder = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms"
    present = sorted(
        p.name.removeprefix("libq").removeprefix("q").split(".")[0]
        for p in (folder.iterdir() if folder.is_dir() else ())
    )
    wanted = NATIVE_PLATFORMS.get(sys.platform, ())
    if not any(w in present for w in wanted) or "offscreen" not in present:
        return Check("platforms", False, f"need {' or '.join(wanted)} in {folder}: {present}")
    image_formats = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "imageformats"
    svg = [p.name for p in image_formats.glob("*svg*")] if image_formats.is_dir() else []
    if not svg:
        return Check("platforms", False, f"no SVG image plugin in {image_formats} (the icons)")
    return Check("platforms", True, f"{', '.join(present)} in {folder}; SVG icons")
