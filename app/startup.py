"""Open the journal and pick up the shift in the background, once the bar is on screen.

Importing SQLAlchemy costs about as much as starting Qt: done before the window, the agent
would wait for a bar that is not there. The bar paints first; this thread then imports and
opens the journal while the bar stays responsive; the bar takes clicks once the Recorder is
ready. No Qt here.
"""

from __future__ import annotations

import getpass
import logging
import threading
from typing import TYPE_CHECKING

from app.config import Places, Settings
from app.domain.clock import Clock, SystemClock

if TYPE_CHECKING:
    from app.journal import Journal
    from app.recording import Recorder

log = logging.getLogger(__name__)


class JournalOpener(threading.Thread):
    """Opens the journal and starts (or resumes) the shift; ends by itself.

    Attributes (read once the thread has finished):
        recorder: the Recorder, or None if the journal could not be opened.
        error: why it could not, in words.
    """

    def __init__(self, places: Places, settings: Settings, clock: Clock | None = None) -> None:
        super().__init__(name="journal-opener", daemon=True)
        self.places = places
        self.settings = settings
        self.clock = clock
        self.recorder: Recorder | None = None
        self.journal: Journal | None = None
        self.error: str | None = None

    def run(self) -> None:
        from app.journal import Journal, JournalError  # noqa: PLC0415 - the slow import, here
        from app.recording import Recorder  # noqa: PLC0415

        settings = self.settings
        try:
            self.journal = Journal(
                self.places.journal_file,
                busy_timeout_ms=settings.number("journal.busy_timeout_ms"),
            )
            recorder = Recorder(
                self.journal,
                self.clock or SystemClock(),
                agent=settings.text("agent.name") or getpass.getuser(),
                activities=settings.texts("activity.list"),
                default_activity=settings.text("activity.default"),
                resume_minutes=settings.number("shift.resume_minutes"),
            )
            recorder.start()
            self.recorder = recorder
        except JournalError as exc:
            self.error = str(exc)
        except Exception as exc:  # anything else must still reach the agent, not vanish
            log.exception("opening the journal failed")
            self.error = f"unexpected error: {exc}"
        if self.error is not None and self.journal is not None:
            self.journal.close()
            self.journal = None
