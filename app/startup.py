"""Open the journal and pick up the shift in the background, once the bar is on screen.

The bar paints first; this thread then opens the journal (an integrity check, maybe a
migration, and the keyring, which can block) while the bar stays responsive; the bar takes
clicks once the Recorder is ready. No Qt here.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.config import Places, Settings
from app.domain.clock import Clock, SystemClock

if TYPE_CHECKING:
    from app.account import Account
    from app.journal import Journal
    from app.recording import Recorder

log = logging.getLogger(__name__)


class JournalOpener(threading.Thread):
    """Opens the journal and starts (or resumes) the shift; ends by itself.

    Attributes (read once the thread has finished):
        recorder: the Recorder, or None if the journal could not be opened.
        error: why it could not, in words.
    """

    def __init__(
        self,
        places: Places,
        settings: Settings,
        clock: Clock | None = None,
        *,
        warm: tuple[str, ...] = (),
        on_done: Callable[[], None] = lambda: None,
    ) -> None:
        """`warm`: modules to import on this thread once the journal is open (what the UI
        thread needs next, loaded while it paints); `on_done()` is called from this thread
        when it ends."""
        super().__init__(name="journal-opener", daemon=True)
        self._warm = warm
        self.on_done = on_done
        self.places = places
        self.settings = settings
        self.clock = clock
        self.recorder: Recorder | None = None
        self.journal: Journal | None = None
        self.error: str | None = None
        self.error_reason: str | None = None  # JournalError.reason, for the agent's words
        self.account: Account | None = None
        self.token: str | None = None
        self.token_problem: str | None = None
        self.profile: dict[str, Any] | None = None
        self.first_run = False  # no journal was there: this data folder's first start

    def run(self) -> None:
        try:
            self._open()
            for name in self._warm:
                importlib.import_module(name)
        except Exception:  # a module that cannot be imported is said where it is used
            log.exception("warming the bar's modules failed")
        finally:
            self.on_done()

    def _open(self) -> None:
        # The slow imports happen here, after the first paint.
        from app.account import (  # noqa: PLC0415
            load_account,
            load_profile,
            profile_activities,
        )
        from app.journal import Journal, JournalError  # noqa: PLC0415
        from app.recording import Recorder  # noqa: PLC0415

        settings = self.settings
        self.first_run = not self.places.journal_file.exists()
        try:
            self.journal = Journal(
                self.places.journal_file,
                busy_timeout_ms=settings.number("journal.busy_timeout_ms"),
            )
            self.account = load_account(self.journal)
            local_agent = settings.local_agent
            if self.account is None or self.account.login != local_agent:
                # Journals from before the `local` state kept these as pending. At every
                # start, not once: `bandeau signin` may have migrated the journal first, and
                # it is one indexed statement over the pending events (nothing to commit).
                self.journal.keep_local(local_agent)
            if self.account is not None:
                # keyring (13 MB) is loaded only for a bar that is signed in.
                from app.credentials import NoKeyring, load_token  # noqa: PLC0415

                # Read once, off the UI thread, with a timeout (a locked keyring can block).
                try:
                    self.token = load_token(self.account.server, self.account.login)
                except NoKeyring as exc:
                    self.token_problem = str(exc)
                if self.token is None and self.token_problem is None:
                    self.token_problem = "no token in the keyring"  # noqa: S105
            activities = settings.texts("activity.list")
            if self.account is not None:
                # The server's activities, as cached at the last sign-in (offline starts).
                self.profile = load_profile(self.journal)
                activities = profile_activities(self.profile) or activities
            recorder = Recorder(
                self.journal,
                self.clock or SystemClock(),
                # Once signed in, every event carries the signed-in agent.
                agent=self.account.login if self.account is not None else local_agent,
                activities=activities,
                default_activity=settings.text("activity.default"),
                resume_minutes=settings.number("shift.resume_minutes"),
                signed_in=self.account is not None,
            )
            recorder.start()
            self.recorder = recorder
        except JournalError as exc:
            self.error = str(exc)
            self.error_reason = exc.reason
        except Exception as exc:  # anything else must still reach the agent, not vanish
            log.exception("opening the journal failed")
            self.error = f"unexpected error: {exc}"
        if self.error is not None and self.journal is not None:
            self.journal.close()
            self.journal = None
