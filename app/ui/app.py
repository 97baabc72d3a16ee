"""Start the bar: one instance per data dir, the journal, the recorder, the window, the socket."""

from __future__ import annotations

import getpass
import logging
import os
import signal
import sys

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from app.config import Places, Settings
from app.domain.clock import Clock, SystemClock
from app.instance import CommandServer, InstanceError, InstanceLock, send_request
from app.journal import Journal, JournalError
from app.recording import Recorder
from app.ui.bar import Bar
from app.ui.i18n import Translations, choose_language
from app.ui.theme import app_icon, stylesheet
from app.ui.tray import make_tray

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 2
EXIT_NO_DISPLAY = 3
READY_LINE = "Bandeau ready"


def display_problem(environ: dict[str, str] | None = None) -> str | None:
    """Why Qt could not show a window here, or None. Checked before Qt aborts the process."""
    env = dict(os.environ) if environ is None else environ
    if not sys.platform.startswith("linux") or env.get("QT_QPA_PLATFORM"):
        return None
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    return (
        "bandeau: no display found (neither DISPLAY nor WAYLAND_DISPLAY is set), so the bar "
        "cannot be shown.\n"
        "  - on a desktop, run it from the desktop session;\n"
        "  - to try it without a screen: QT_QPA_PLATFORM=offscreen bandeau\n"
        "  - under Wayland, for an always-on-top bar: QT_QPA_PLATFORM=xcb bandeau"
    )


def run_bar(places: Places, settings: Settings, clock: Clock | None = None) -> int:
    """Run the bar until the agent quits; return the process exit code."""
    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_NO_DISPLAY
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

    lock = InstanceLock(places.data_dir)
    try:
        places.data_dir.mkdir(parents=True, exist_ok=True)
        if not lock.acquire():
            return _bring_forward(places, lock)
    except (OSError, InstanceError) as exc:
        return _fatal(f"the data folder {places.data_dir} cannot be written: {exc}")

    try:
        journal = Journal(
            places.journal_file, busy_timeout_ms=settings.number("journal.busy_timeout_ms")
        )
        recorder = Recorder(
            journal,
            clock or SystemClock(),
            agent=settings.text("agent.name") or getpass.getuser(),
            activities=settings.texts("activity.list"),
            default_activity=settings.text("activity.default"),
            resume_minutes=settings.number("shift.resume_minutes"),
        )
        recorder.start()
    except JournalError as exc:
        lock.release()
        return _fatal(f"the journal cannot be opened, so no click could be recorded: {exc}")

    bar = Bar(recorder, settings, config_file=places.config_file, translations=translations)
    bar.place()
    bar.show()
    tray = make_tray(bar)
    if journal.recovery is not None:
        rec = journal.recovery
        bar.show_problem(
            QCoreApplication.translate("Bar", "Journal repaired"),
            QCoreApplication.translate(
                "Bar",
                "Your journal file was damaged (%1). It was kept aside as %2, %3 events were "
                "recovered from it, and a new journal was started. Please tell IT.",
            )
            .replace("%1", rec.reason)
            .replace("%2", str(rec.moved_to))
            .replace("%3", str(rec.salvaged)),
            alert=True,
            transient=False,
        )
    if settings.problems:
        for line in settings.problems:
            print(f"bandeau: setting ignored: {line}", file=sys.stderr)
        bar.show_problem(
            QCoreApplication.translate("Bar", "Settings"),
            "\n".join(settings.problems),
            transient=False,
        )

    server = CommandServer(places.data_dir, bar.handle_request)
    try:
        server.listen()
    except InstanceError as exc:
        log.warning("commands from other programs will not reach this bar: %s", exc)

    def shut_down() -> None:
        # Qt 6's quit() closes every window first: a stopped bar closes without asking.
        # Queued, so that a signal arriving before the event loop runs still ends it.
        bar.stop()
        QTimer.singleShot(0, app.quit)

    bar.quit_confirmed.connect(shut_down)
    # Ctrl+C in a terminal and SIGTERM at logout stop the bar cleanly, the shift kept open.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: shut_down())
    wake = QTimer()  # lets Python run its signal handlers while Qt's loop runs
    wake.start(200)
    wake.timeout.connect(lambda: None)

    print(READY_LINE, f"pid={os.getpid()}", file=sys.stderr, flush=True)
    log.info("bar started for %s on %s", recorder.agent, places.data_dir)
    try:
        return app.exec()
    finally:
        wake.stop()
        bar.stop()
        server.close()
        if tray is not None:
            tray.hide()
        journal.close()
        lock.release()


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


def _fatal(message: str) -> int:
    log.error("%s", message)
    print(f"bandeau: {message}", file=sys.stderr)
    app = QApplication.instance()
    if isinstance(app, QApplication) and app.platformName() not in ("offscreen", "minimal"):
        QMessageBox.critical(None, "Bandeau", message)
    return EXIT_FAILED
