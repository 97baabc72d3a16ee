"""Start the bar (local only, a new data dir) and print, once it records, which heavy
modules it has loaded, as one JSON list; then quit."""

from __future__ import annotations

import json
import os
import sys

os.environ["QT_QPA_PLATFORM"] = "offscreen"

from app.cli import main
from app.ui.bar import Bar

HEAVY = ("sqlalchemy", "httpx", "keyring", "fastapi", "pydantic", "orjson", "uvicorn")
attach = Bar.attach


def attached(self: Bar, desk: object) -> None:
    attach(self, desk)  # type: ignore[arg-type]
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    def report() -> None:
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)
        print(json.dumps(loaded), flush=True)
        self.stop()
        app = QApplication.instance()
        if app is not None:
            app.quit()

    QTimer.singleShot(100, report)


Bar.attach = attached  # type: ignore[method-assign]

sys.exit(main(["--data-dir", sys.argv[1]]))
