"""Run the bar with a file-size limit (RLIMIT_FSIZE) and press keys until a write fails.

Prints one JSON object: the uuids recorded, and what the bar showed when the write failed.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"

from PySide6.QtWidgets import QApplication

from app.config import Settings
from app.domain.clock import SystemClock
from app.domain.events import Key
from app.journal import Journal
from app.recording import Recorder
from app.ui.bar import Bar
from app.ui.bridge import make_desk
from app.ui.i18n import Translations

MAX_CLICKS = 10_000


def main() -> int:
    data_dir, headroom = Path(sys.argv[1]), int(sys.argv[2])
    activity = sys.argv[3] if len(sys.argv) > 3 else "A"  # the store's, when one follows
    # Past the limit, write() fails with EFBIG instead of the process being killed.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    app = QApplication([])
    Translations().apply("fr")
    journal = Journal(data_dir / "journal.sqlite3")
    recorder = Recorder(journal, SystemClock("Europe/Paris"), agent="marie", activities=[activity])
    recorder.start()
    bar = Bar(make_desk(recorder, Settings()), Settings())
    sizes = [p.stat().st_size for p in data_dir.iterdir() if p.is_file()]
    limit = max(sizes) + headroom
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    recorded: list[str] = []
    keys = [Key.PRODUCTION, Key.PAUSE, Key.OFF]
    failure = None
    for i in range(MAX_CLICKS):
        before = recorder.state.key
        outcome = bar.press(keys[i % 3], note=f"clic {i} " + "x" * 180)
        if outcome is None:
            failure = {
                "before": before.value if before else None,
                "after": recorder.state.key.value if recorder.state.key else None,
                "active": [k.value for k, b in bar.keys.items() if b.active],
                "problem": bar.problem,
                "detail": bar.problem_label.toolTip(),
            }
            break
        recorded.extend(e.uuid for e in outcome.events)
    bar.stop()
    journal.close()
    del app
    print(json.dumps({"recorded": recorded, "failure": failure, "limit": limit}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
