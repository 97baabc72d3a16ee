"""Render the bar in its main states to PNG files (for the README and for looking at it).

Run: .venv/bin/python -m tests.screenshots [OUTPUT_DIR]   (default: resources/screenshots)
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from app.config import Settings
from app.domain.clock import FakeClock
from app.domain.events import Key
from app.journal import Journal
from app.recording import Recorder
from app.ui.bar import Bar
from app.ui.i18n import Translations
from app.ui.signin import SignInDialog
from app.ui.theme import stylesheet

MORNING_MS = 1_795_766_400_000  # 2026-11-27 09:00 Europe/Paris


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("resources/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([])
    app.setStyleSheet(stylesheet())
    translations = Translations()
    with tempfile.TemporaryDirectory() as tmp:
        for language in ("fr", "en"):
            translations.apply(language)
            clock = FakeClock(MORNING_MS, "Europe/Paris")
            journal = Journal(Path(tmp) / f"{language}.sqlite3")
            recorder = Recorder(
                journal, clock, agent="marie", activities=["Assurance Auto", "Banque Pro"]
            )
            recorder.start()
            bar = Bar(recorder, Settings())
            bar.show()
            app.processEvents()
            bar.grab().save(str(out / f"bar-unclassified-{language}.png"))
            clock.advance(4 * 60_000)
            bar.press(Key.PRODUCTION)
            clock.advance(2 * 3_600_000 + 13 * 60_000)
            bar.press(Key.OFF, "formation")
            clock.advance(35 * 60_000)
            bar.press(Key.PAUSE)
            clock.advance(7 * 60_000 + 42_000)
            bar.tick()
            app.processEvents()
            bar.grab().save(str(out / f"bar-pause-{language}.png"))
            dialog = SignInDialog(server="https://bandeau.example.fr", local_events=3)
            dialog.show()
            app.processEvents()
            dialog.grab().save(str(out / f"signin-{language}.png"))
            dialog.ask_keep_in_memory("no safe keyring backend (keyring.backends.fail)")
            app.processEvents()
            dialog.grab().save(str(out / f"signin-no-keyring-{language}.png"))
            dialog.close()
            bar.stop()
            journal.close()
    print(f"screenshots written to {out}")


if __name__ == "__main__":
    main()
