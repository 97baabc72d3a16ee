"""Start the bar: one instance per data dir, the journal, the recorder, the window, the socket."""

from __future__ import annotations

import logging
import os
import signal
import stat
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QTimer

from app.config import Places, Settings
from app.domain.clock import Clock
from app.instance import CommandServer, InstanceError, InstanceLock, send_request
from app.startup import JournalOpener

if TYPE_CHECKING:
    from app.desk.desk import Desk
    from app.ui.bar import Bar

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 2
EXIT_NO_DISPLAY = 3
READY_LINE = "Bandeau ready"
# With BANDEAU_START_MARKS set, the first paint is said on stderr too (the bundle's start
# benchmark reads it: a frozen program cannot be probed from outside).
PAINTED_LINE = "Bandeau painted"
# What the UI thread needs once the journal is open, imported on the opener's thread.
WARM_MODULES = (
    "app.desk.desk",
    "app.ui.network",
    "app.ui.tray",
    "app.ui.signin",
)


def display_problem(environ: dict[str, str] | None = None, command: str = "bandeau") -> str | None:
    """Why Qt could not show a window here, or None. Checked before Qt aborts the process."""
    env = dict(os.environ) if environ is None else environ
    if not sys.platform.startswith("linux") or env.get("QT_QPA_PLATFORM"):
        return None
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    return (
        f"{command}: no display found (neither DISPLAY nor WAYLAND_DISPLAY is set), so the bar "
        "cannot be shown.\n"
        "  - on a desktop, run it from the desktop session;\n"
        f"  - to try it without a screen: QT_QPA_PLATFORM=offscreen {command}\n"
        f"  - under Wayland, for an always-on-top bar: QT_QPA_PLATFORM=xcb {command}"
    )


def run_bar(
    places: Places,
    settings: Settings,
    clock: Clock | None = None,
    *,
    on_ready: Callable[[Bar], None] | None = None,
    autostart: bool = False,
) -> int:
    """Run the bar until the agent quits; return the process exit code. `on_ready` is
    called once the bar records (the demo signs it in and opens the panel there);
    `autostart`: this bar keeps the start-at-login entry in step with its setting (the
    agent's own bar, not the demo's)."""
    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_NO_DISPLAY

    # One bar per data dir: take the lock before touching the journal.
    lock = InstanceLock(places.data_dir)
    try:
        places.data_dir.mkdir(parents=True, exist_ok=True)
        make_private(places.data_dir)
        locked = lock.acquire()
    except (OSError, InstanceError) as exc:
        return _fatal(f"the data folder {places.data_dir} cannot be written: {exc}")
    if not locked:
        return _bring_forward(places, lock)

    opener = JournalOpener(places, settings, clock, warm=WARM_MODULES)
    try:
        return _run_window(places, settings, opener, on_ready, autostart=autostart)
    finally:
        if opener.ident is not None:
            opener.join()
        if opener.journal is not None:
            opener.journal.close()
        lock.release()


# The files Bandeau keeps in a data dir (whatever else someone put there is left alone).
OWN_FILES = ("journal.sqlite3", "bandeau.toml", "window.json", "bandeau.lock", "bandeau.log")


def make_private(data_dir: Path) -> None:
    """The data dir and Bandeau's files in it for their user alone (a data dir made before
    Bandeau did so, or by hand): on a shared host, no other user reads an agent's journal."""
    if sys.platform == "win32":
        return  # the user's profile folder is theirs already
    try:
        # Only ever taking rights away from the others: a folder or a file made read-only
        # on purpose stays read-only (and is refused as such).
        _tighten(data_dir)
        for path in data_dir.iterdir():
            ours = path.name.startswith(OWN_FILES) or path.suffix == ".log"
            if ours and path.is_file() and not path.is_symlink():
                _tighten(path)
    except OSError as exc:
        log.warning("cannot make %s private: %s", data_dir, exc)


def _tighten(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        path.chmod(mode & 0o700)


def _run_window(
    places: Places,
    settings: Settings,
    opener: JournalOpener,
    on_ready: Callable[[Bar], None] | None = None,
    *,
    autostart: bool = False,
) -> int:
    from PySide6.QtWidgets import QApplication  # noqa: PLC0415 - only when a bar will show

    from app.ui.bar import PLACE_FILE, Bar  # noqa: PLC0415
    from app.ui.bridge import Poster  # noqa: PLC0415
    from app.ui.i18n import Translations, choose_language  # noqa: PLC0415
    from app.ui.theme import app_icon, stylesheet  # noqa: PLC0415

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Bandeau")
    app.setOrganizationDomain("bandeau.app")
    app.setDesktopFileName("app.bandeau.Bandeau")
    app.setWindowIcon(app_icon())
    app.setQuitOnLastWindowClosed(False)
    app.setStyleSheet(stylesheet())
    translations = Translations()
    translations.apply(choose_language(settings.text("ui.language")))

    # The bar shows at once; it takes clicks when the journal is open (a fraction of a second).
    bar = Bar(
        None,
        settings,
        config_file=places.config_file,
        place_file=places.data_dir / PLACE_FILE,
        translations=translations,
    )
    bar.place()
    bar.show()
    # Paint first, then open the journal (a check, maybe a migration, the keyring): the
    # agent sees their bar while it happens.
    app.processEvents()
    if os.environ.get("BANDEAU_START_MARKS"):
        print(PAINTED_LINE, f"at={time.time():.6f}", file=sys.stderr, flush=True)
    server: CommandServer | None = None
    tray = None
    outcome = {"code": EXIT_OK}

    def shut_down(code: int = EXIT_OK) -> None:
        # Qt 6's quit() closes every window first: a stopped bar closes without asking.
        # Queued, so that a signal arriving before the event loop runs still ends it.
        outcome["code"] = code
        bar.stop()
        QTimer.singleShot(0, app.quit)

    def on_journal_open() -> None:
        nonlocal tray, server
        opener.join()  # it has told us it ends
        # Loaded once the bar is painted: the desk, its link to Qt's loop, the tray.
        from app.ui.bridge import make_desk  # noqa: PLC0415
        from app.ui.network import watch_network  # noqa: PLC0415
        from app.ui.tray import make_tray  # noqa: PLC0415

        if opener.recorder is None:
            from app.journal import JournalError  # noqa: PLC0415
            from app.ui import wording  # noqa: PLC0415

            said = wording.journal_reason(
                JournalError(str(opener.error), opener.error_reason or "other")
            )
            _fatal(
                f"the journal cannot be opened, so no click could be recorded: {opener.error}",
                shown=QCoreApplication.translate(
                    "Bar", "The journal cannot be opened, so no click could be recorded: %1"
                ).replace("%1", said),
            )
            shut_down(EXIT_FAILED)
            return
        desk = make_desk(opener.recorder, settings, app)
        bar.attach(desk)
        desk.resume(
            opener.account,
            opener.token,
            profile=opener.profile,
            token_problem=opener.token_problem,
        )
        watch_network(desk.kick, bar)
        tray = make_tray(bar)
        _tell_startup_problems(desk, opener, settings)
        if autostart:
            if opener.first_run and desk.account is None:
                welcome(bar, places.config_file)
            follow_autostart(desk, settings.flag("startup.at_login"))
            bar.settings_applied.connect(
                lambda values: (
                    "startup.at_login" in values
                    and follow_autostart(desk, bool(values["startup.at_login"]))
                )
            )
        # Commands from other programs reach the desk, as the bar's clicks do.
        server = CommandServer(places.data_dir, desk.handle)
        try:
            server.listen()
        except InstanceError as exc:
            log.warning("commands from other programs will not reach this bar: %s", exc)
        if on_ready is not None:
            on_ready(bar)
        marks = f" at={time.time():.6f}" if os.environ.get("BANDEAU_START_MARKS") else ""
        print(READY_LINE, f"pid={os.getpid()}{marks}", file=sys.stderr, flush=True)
        log.info("bar started for %s on %s", opener.recorder.agent, places.data_dir)

    # The opener says when it ends; its answer is taken on this thread, in the event loop.
    poster = Poster(app)
    opener.on_done = lambda: poster.post(on_journal_open)
    opener.start()
    bar.quit_confirmed.connect(shut_down)
    # Ctrl+C in a terminal and SIGTERM at logout stop the bar cleanly, the shift kept open.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: shut_down())
    wake = QTimer()  # lets Python run its signal handlers while Qt's loop runs
    wake.start(200)
    wake.timeout.connect(lambda: None)
    try:
        code = app.exec()
        return outcome["code"] or code
    finally:
        wake.stop()
        bar.stop()
        if server is not None:
            server.close()
        if tray is not None:
            tray.hide()


def _tell_startup_problems(desk: Desk, opener: JournalOpener, settings: Settings) -> None:
    from app.desk.desk import DeskProblem  # noqa: PLC0415

    journal = opener.journal
    if journal is not None and journal.recovery is not None:
        rec = journal.recovery
        desk.set_problem(
            DeskProblem(
                "journal_repaired",
                f"journal repaired: {rec.reason}; kept aside as {rec.moved_to}",
                {"reason": rec.reason, "moved_to": str(rec.moved_to), "salvaged": rec.salvaged},
                alert=True,
                transient=False,
            )
        )
    if settings.problems:
        for line in settings.problems:
            print(f"bandeau: setting ignored: {line}", file=sys.stderr)
        desk.set_problem(
            DeskProblem(
                "settings",
                "; ".join(settings.problems),
                {"problems": list(settings.problems)},
                transient=False,
            )
        )


def welcome(bar: Bar, config_file: Path) -> None:
    """The first run's dialog: the language switches as it is picked; the choices are saved
    in the settings file and applied (start at login included) when it closes."""
    from app.config import set_in_file  # noqa: PLC0415
    from app.ui.i18n import choose_language  # noqa: PLC0415

    def on_language(setting: str) -> None:
        if bar.translations is not None:
            bar.translations.apply(choose_language(setting))

    def on_chosen(values: dict[str, object]) -> None:
        try:
            for name, value in values.items():
                set_in_file(config_file, name, value)
        except OSError as exc:
            log.warning("cannot save the first run's choices: %s", exc)
        bar.apply_settings(values)

    bar.accounts.show_welcome(on_language=on_language, on_chosen=on_chosen)


def follow_autostart(desk: Desk, wanted: bool) -> bool:
    """The start-at-login entry made to follow the setting; a failure is the bar's problem
    to show (the shift goes on)."""
    from app.autostart import AutostartError, set_enabled  # noqa: PLC0415
    from app.desk.desk import DeskProblem  # noqa: PLC0415

    try:
        set_enabled(wanted)
    except AutostartError as exc:
        log.warning("%s", exc)
        desk.set_problem(DeskProblem("autostart", str(exc), {"error": str(exc)}, transient=True))
        return False
    return True


def _bring_forward(places: Places, lock: InstanceLock) -> int:
    try:
        send_request(places.data_dir, {"cmd": "show"})
    except InstanceError as exc:
        pid = lock.holder_pid()
        print(
            f"bandeau: a bar is already running for {places.data_dir} (pid {pid}) but does "
            f"not answer: {exc}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    print(
        f"bandeau: a bar is already running for {places.data_dir}; brought it forward.",
        file=sys.stderr,
    )
    return EXIT_OK


def _fatal(message: str, *, shown: str | None = None) -> int:
    """Said on stderr and in the log (English, with the details) and, on a screen, in a
    message box (`shown`: the agent's words, in their language)."""
    log.error("%s", message)
    print(f"bandeau: {message}", file=sys.stderr)
    from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: PLC0415

    app = QApplication.instance()
    if isinstance(app, QApplication) and app.platformName() not in ("offscreen", "minimal"):
        QMessageBox.critical(None, "Bandeau", shown or message)
    return EXIT_FAILED
