"""Signing in and out from the bar's own menu, against a real server (pytest-qt, offscreen)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import keyring
import keyring.backends.fail
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot
from sqlalchemy import update

from app.account import load_account, load_profile, profile_key_styles
from app.config import Settings, load_settings, set_in_file, write_defaults_if_missing
from app.credentials import load_token
from app.domain.clock import FakeClock
from app.domain.events import Key, SyncState
from app.journal import Journal
from app.recording import Recorder
from app.server import models as m
from app.server.db import make_engine
from app.server.directory import set_plateau
from app.ui.app import welcome
from app.ui.bar import Bar
from app.ui.bridge import make_desk
from app.ui.dayview import CorrectionDialog, DayDialog
from app.ui.i18n import Translations
from app.ui.signin import PasswordDialog, SignInDialog, WelcomeDialog
from tests.servers import PASSWORD, Served

pytestmark = [pytest.mark.gui, pytest.mark.slow]
WAIT_MS = 20_000


def local_settings() -> Settings:
    """This PC's local name is poste-12."""
    settings = Settings()
    settings.values["agent.name"] = "poste-12"
    return settings


@pytest.fixture
def bar(qtbot: QtBot, journal: Journal, clock: FakeClock) -> Iterator[Bar]:
    # Not signed in yet: events go under the computer's local name.
    recorder = Recorder(journal, clock, agent="poste-12", activities=["Général"], signed_in=False)
    recorder.start()
    widget = Bar(make_desk(recorder, local_settings()), local_settings())
    qtbot.addWidget(widget, before_close_func=lambda w: w.stop())
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.stop()


def open_sign_in(bar: Bar) -> SignInDialog:
    bar._update_actions()
    assert bar.account_action.text() == "Sign in…"
    return open_sign_in_any(bar)


def open_sign_in_any(bar: Bar) -> SignInDialog:
    """The sign-in dialog from the bar's menu, whatever the language."""
    bar._update_actions()
    bar.account_action.trigger()
    dialogs = [d for d in bar.findChildren(SignInDialog) if d.isVisible()]
    assert len(dialogs) == 1
    return dialogs[0]


def fill(dialog: SignInDialog, server: str, password: str = PASSWORD) -> None:
    dialog.server.setText(server)
    dialog.login.setText("marie")
    dialog.password.setText(password)


def token_of(bar: Bar) -> str:
    session = bar.desk.session
    assert session is not None
    return session[1]


def token_works(server: str, token: str) -> bool:
    reply = httpx.get(f"{server}/v1/me", headers={"Authorization": f"Bearer {token}"})
    return reply.status_code == 200


def test_sign_in_from_the_bar_then_sign_out(
    qtbot: QtBot, bar: Bar, journal: Journal, server_on_test_clock: Served, seeded_url: str
) -> None:
    engine = make_engine(seeded_url)
    with engine.begin() as conn:
        set_plateau(conn, "Nord", labels={"off": "Formation"}, colours={"pause": "#ffd54f"})
    engine.dispose()
    bar.press(Key.PRODUCTION)  # recorded locally, as poste-12
    dialog = open_sign_in(bar)
    assert dialog.send_local.isVisible()  # 2 events recorded before sign-in: offered
    fill(dialog, server_on_test_clock.base_url)
    dialog.send_local.setChecked(True)
    with qtbot.waitSignal(bar.account_changed, timeout=WAIT_MS):
        dialog.ok.click()
        assert not dialog.password.isEnabled()  # busy while the server answers
    assert not dialog.isVisible()
    assert bar.desk.syncing and bar.recorder.agent == "marie"
    assert bar.recorder.activities == ["Assurance Auto", "Banque Pro"]  # the server's
    token = load_token(server_on_test_clock.base_url, "marie")
    assert token and token_works(server_on_test_clock.base_url, token)
    assert load_account(journal) is not None
    # The keys take the plateau's labels and colours (kept in the journal for offline starts).
    assert bar.keys[Key.OFF].text() == "Formation"
    assert bar.keys[Key.PAUSE].colour == "#ffd54f"
    assert profile_key_styles(load_profile(journal), "Assurance Auto")["off"].label == "Formation"
    # Everything reaches the store, the events from before sign-in included.
    qtbot.waitUntil(lambda: bar.sync_label.accessibleName() == "✓ Synced", timeout=WAIT_MS)
    assert journal.counts()[SyncState.PENDING] == 0

    bar._update_actions()
    assert bar.account_action.text() == "Sign out (marie)"
    bar.account_action.trigger()
    box = next(b for b in bar.findChildren(QMessageBox) if b.isVisible())
    with qtbot.waitSignal(bar.account_changed, timeout=WAIT_MS):
        box.button(QMessageBox.StandardButton.Yes).click()
    bar.desk.join_calls()  # the revocation runs off the UI thread: wait for it here
    assert not bar.desk.syncing and bar.recorder.agent == "poste-12"
    assert bar.sync_label.text() == "● Local only"
    assert load_token(server_on_test_clock.base_url, "marie") is None
    assert not token_works(server_on_test_clock.base_url, token)
    assert load_account(journal) is None
    assert bar.keys[Key.OFF].text() == "Off production"


def test_a_wrong_password_is_said_in_the_dialog_and_enter_tries_again(
    qtbot: QtBot, bar: Bar, server_on_test_clock: Served
) -> None:
    dialog = open_sign_in(bar)
    fill(dialog, server_on_test_clock.base_url, password="not it")
    dialog.ok.click()
    qtbot.waitUntil(dialog.password.isEnabled, timeout=WAIT_MS)
    assert dialog.message.text() == "Wrong login or password."
    assert dialog.isVisible() and dialog.password.text() == ""
    assert not bar.desk.syncing
    assert load_token(server_on_test_clock.base_url, "marie") is None
    # Enter on an empty password waits (it neither cancels nor sends)...
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.password.isEnabled()
    # ...and, once the password is typed again, Enter tries again.
    qtbot.keyClicks(dialog.password, PASSWORD)
    with qtbot.waitSignal(bar.account_changed, timeout=WAIT_MS):
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    assert not dialog.isVisible() and bar.desk.syncing


@pytest.mark.parametrize("language", ["fr", "en"])
def test_an_address_without_its_scheme_is_tried_as_https_and_said(
    qtbot: QtBot, bar: Bar, server_on_test_clock: Served, language: str
) -> None:
    """`127.0.0.1:8750` means https://127.0.0.1:8750; a plain-http store then fails the
    secure connection, and the dialog says which address it tried, in the bar's language,
    instead of staying on "Signing in…" for ever."""
    from PySide6.QtWidgets import QApplication

    from app.ui.i18n import Translations

    translations = Translations()
    translations.apply(language)
    try:
        dialog = open_sign_in_any(bar)
        bare = server_on_test_clock.base_url.removeprefix("http://")
        fill(dialog, bare)
        dialog.ok.click()
        qtbot.waitUntil(dialog.password.isEnabled, timeout=WAIT_MS)
        said = dialog.message.text()
        assert f"https://{bare}" in said
        if language == "fr":
            assert said.startswith("Impossible de joindre") and "http://" in said, said
        else:
            assert said.startswith("Cannot reach") and "http://" in said, said
        # Nonsense is refused at once, and said too.
        fill(dialog, "not an address")
        dialog.ok.click()
        qtbot.waitUntil(dialog.password.isEnabled, timeout=WAIT_MS)
        assert "not an address" in dialog.message.text()
        assert not bar.desk.syncing
    finally:
        translations.apply("en")
        QApplication.processEvents()


def test_no_keyring_keeps_the_sign_in_for_the_session_if_the_agent_agrees(
    qtbot: QtBot, bar: Bar, server_on_test_clock: Served
) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())  # the isolation fixture restores it
    dialog = open_sign_in(bar)
    fill(dialog, server_on_test_clock.base_url)
    dialog.ok.click()
    qtbot.waitUntil(lambda: dialog.ok.text() == "Keep for this session", timeout=WAIT_MS)
    assert "no keyring" in dialog.message.text()
    with qtbot.waitSignal(bar.account_changed, timeout=WAIT_MS):
        dialog.ok.click()
    assert bar.desk.syncing and token_of(bar) is not None
    token = token_of(bar)
    qtbot.waitUntil(lambda: bar.sync_label.accessibleName() == "✓ Synced", timeout=WAIT_MS)
    assert token_works(server_on_test_clock.base_url, token)


def test_no_keyring_and_the_agent_declines_revokes_the_token(
    qtbot: QtBot, bar: Bar, server_on_test_clock: Served
) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    dialog = open_sign_in(bar)
    fill(dialog, server_on_test_clock.base_url)
    dialog.ok.click()
    qtbot.waitUntil(lambda: dialog.ok.text() == "Keep for this session", timeout=WAIT_MS)
    dialog.cancel.click()
    bar.desk.join_calls()
    assert not dialog.isVisible() and not bar.desk.syncing

    def revoked() -> bool:  # the server logs a request just after answering it
        lines = [line for line in server_on_test_clock.stderr if '"/v1/signout"' in line]
        return bool(lines) and '"status": 200' in lines[-1]

    qtbot.waitUntil(revoked, timeout=WAIT_MS)  # the unkept token is revoked


def sign_in_as(qtbot: QtBot, bar: Bar, server: str, login: str) -> None:
    dialog = open_sign_in(bar)
    dialog.server.setText(server)
    dialog.login.setText(login)
    dialog.password.setText(PASSWORD)
    with qtbot.waitSignal(bar.account_changed, timeout=WAIT_MS):
        dialog.ok.click()


def test_the_bar_shows_how_many_colleagues_are_in_production(
    qtbot: QtBot, bar: Bar, server_on_test_clock: Served
) -> None:
    from tests.servers import wire_event

    sign_in_as(qtbot, bar, server_on_test_clock.base_url, "marie")
    assert bar.recorder.state.activity == "Assurance Auto"
    paul = httpx.post(
        f"{server_on_test_clock.base_url}/v1/signin", json={"login": "paul", "password": PASSWORD}
    ).json()["token"]
    device = "00000000-0000-4000-8000-0000000000bb"
    now = server_on_test_clock.now_ms()
    httpx.post(
        f"{server_on_test_clock.base_url}/v1/events",
        headers={"Authorization": f"Bearer {paul}"},
        json={
            "device_id": device,
            "sent_at_ms": now,
            "events": [
                wire_event(
                    1,
                    agent="paul",
                    device_id=device,
                    kind="shift_start",
                    key=None,
                    occurred_at_ms=now,
                ),
                wire_event(2, agent="paul", device_id=device, key="production", occurred_at_ms=now),
            ],
        },
    ).raise_for_status()
    # Marie (on shift, unclassified) and Paul (in production) on Assurance Auto: 1 of 2.
    qtbot.waitUntil(lambda: bar.coverage_label.text() == "1/2 in prod.", timeout=WAIT_MS)
    assert bar.coverage_label.isVisible()
    assert "1 of the 2 colleagues" in bar.coverage_label.toolTip()
    assert not bar.is_lead()
    bar.accounts.sign_out()
    assert not bar.coverage_label.isVisible()  # signed out: no coverage


def test_a_lead_opens_the_panel_from_the_bar(
    qtbot: QtBot, bar: Bar, server_on_test_clock: Served
) -> None:
    sign_in_as(qtbot, bar, server_on_test_clock.base_url, "lea")
    bar._update_actions()
    assert bar.is_lead() and bar.panel_action.isVisible()
    panel = bar.show_panel()
    assert panel is not None
    # "Live" comes with the connection; the snapshot (read on the stream's thread) just after.
    qtbot.waitUntil(
        lambda: (
            panel.live_state == "live" and sorted(panel.model.agents) == ["lea", "marie", "paul"]
        ),
        timeout=WAIT_MS,
    )
    panel.close()


def test_an_agent_exports_their_month(
    qtbot: QtBot,
    bar: Bar,
    server_on_test_clock: Served,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sign_in_as(qtbot, bar, server_on_test_clock.base_url, "marie")
    bar.press(Key.PAUSE)
    qtbot.waitUntil(lambda: bar.sync_label.accessibleName() == "✓ Synced", timeout=WAIT_MS)
    bar._update_actions()
    assert bar.month_action.isVisible()
    target = tmp_path / "mon-mois.csv"
    monkeypatch.setattr(
        "PySide6.QtWidgets.QFileDialog.getSaveFileName", lambda *_a, **_k: (str(target), "")
    )
    with qtbot.waitSignal(bar.month_exported, timeout=WAIT_MS):
        bar.month_action.trigger()
    lines = target.read_text(encoding="utf-8").lstrip("\ufeff").splitlines()
    assert lines[0].startswith("day;")
    assert len(lines) >= 2  # the day of the clicks, her own figures only


def bar_at(qtbot: QtBot, journal: Journal, clock: FakeClock) -> tuple[Bar, datetime]:
    """A bar on the test clock, and its time now: the store (on the same clock) judges "the
    past" and "the last 7 days" by its own."""
    now = datetime.fromtimestamp(clock.now_ms() / 1000, ZoneInfo("Europe/Paris"))
    recorder = Recorder(journal, clock, agent="poste-12", activities=["Général"], signed_in=False)
    recorder.start()
    bar = Bar(make_desk(recorder, local_settings()), local_settings())
    qtbot.addWidget(bar, before_close_func=lambda w: w.stop())
    bar.show()
    return bar, now


def correcting(day: DayDialog, now: datetime, key: str, reason: str) -> CorrectionDialog:
    """The day view's correction dialog, filled in: 20 to 10 minutes ago was `key`."""
    from PySide6.QtCore import QTime

    assert day.correct_button.isVisible()
    day.correct_button.click()
    fixing = day.correction
    assert fixing is not None
    fixing.what.setCurrentIndex(fixing.what.findData(key))
    start, end = now - timedelta(minutes=20), now - timedelta(minutes=10)
    fixing.start.setTime(QTime(start.hour, start.minute))
    fixing.end.setTime(QTime(end.hour, end.minute))
    fixing.reason.setText(reason)
    return fixing


def test_an_agent_corrects_their_time_from_my_day(
    qtbot: QtBot, journal: Journal, clock: FakeClock, server_on_test_clock: Served
) -> None:
    live_server = server_on_test_clock
    bar, now = bar_at(qtbot, journal, clock)
    sign_in_as(qtbot, bar, live_server.base_url, "marie")
    day = bar.show_day()
    fixing = correcting(day, now, "pause", "")
    fixing.buttons.accepted.emit()  # no reason: said in the dialog, nothing sent
    assert "why" in fixing.message.text() and fixing.isVisible()
    fixing.reason.setText("j'étais en pause")
    with qtbot.waitSignal(bar.corrected, timeout=WAIT_MS) as sent:
        fixing.buttons.accepted.emit()
    assert sent.args[0]["author"] == "marie" and sent.args[0]["reason"] == "j'étais en pause"
    assert sent.args[0]["uuid"] in bar.desk.ledger.fixes  # counted at once, listed in the day view
    assert day.fixes.isVisible() and "j'étais en pause" in day.fixes.text()
    trail = httpx.get(
        f"{live_server.base_url}/v1/corrections",
        headers={"Authorization": f"Bearer {token_of(bar)}"},
    ).json()["corrections"]
    assert [c["key"] for c in trail] == ["pause"]
    day.close()
    bar.stop()


def test_a_correction_made_while_the_store_is_away_is_kept_and_sent_later(
    qtbot: QtBot, journal: Journal, clock: FakeClock, seeded_url: str
) -> None:
    from tests.servers import start_server, stop_server

    served = start_server(seeded_url)
    port = served.base_url.rsplit(":", 1)[1]
    bar, now = bar_at(qtbot, journal, clock)
    again = None
    try:
        sign_in_as(qtbot, bar, served.base_url, "marie")
        stop_server(served)  # the store goes away
        day = bar.show_day()
        fixing = correcting(day, now, "pause", "pause oubliée")
        with qtbot.waitSignal(bar.corrected, timeout=WAIT_MS) as sent:
            fixing.buttons.accepted.emit()
        uuid = sent.args[0]["uuid"]
        assert [c["uuid"] for c in journal.queued_corrections()] == [uuid]
        assert uuid in bar.desk.ledger.fixes and "pause oubliée" in day.fixes.text()
        told = [d for d in bar._dialogs if isinstance(d, QMessageBox) and d.isVisible()]
        assert told and "kept on this computer" in told[-1].text()
        day.close()

        # One the store will refuse (older than the agent's 7 days), queued behind it.
        old = int((now - timedelta(days=10)).timestamp() * 1000)
        bar.desk.ledger.keep(
            {
                **{k: v for k, v in sent.args[0].items() if k in ("agent", "key", "off_shift")},
                "uuid": "00000000-0000-4000-8000-0000000000f1",
                "from_ms": old,
                "to_ms": old + 60_000,
                "reason": "trop tard",
            },
            bar.recorder.corrected_now(),
        )
        assert "00000000-0000-4000-8000-0000000000f1" in bar.desk.ledger.fixes

        again = start_server(seeded_url, "--port", port)  # the store is back
        bar.desk.kick()
        qtbot.waitUntil(lambda: journal.queued_corrections() == [], timeout=WAIT_MS)
        trail = httpx.get(
            f"{again.base_url}/v1/corrections",
            headers={"Authorization": f"Bearer {token_of(bar)}"},
        ).json()["corrections"]
        assert [(c["uuid"], c["author"]) for c in trail] == [(uuid, "marie")]
        # The refused one is uncounted and said, with the server's reason.
        qtbot.waitUntil(
            lambda: "00000000-0000-4000-8000-0000000000f1" not in bar.desk.ledger.fixes,
            timeout=WAIT_MS,
        )
        assert journal.refused_corrections() == []
        said = [d.text() for d in bar._dialogs if isinstance(d, QMessageBox) and d.isVisible()]
        assert any("refused" in text for text in said), said
        assert uuid in bar.desk.ledger.fixes
    finally:
        bar.stop()
        stop_server(served)
        if again is not None:
            stop_server(again)


def test_a_plateaus_new_key_label_reaches_a_signed_in_bar_and_panel(
    qtbot: QtBot, bar: Bar, journal: Journal, server_on_test_clock: Served, seeded_url: str
) -> None:
    sign_in_as(qtbot, bar, server_on_test_clock.base_url, "marie")
    assert bar.keys[Key.OFF].text() == "Off production"
    from app.ui.panel import Panel

    panel = Panel(bar.recorder.clock)
    qtbot.addWidget(panel, before_close_func=lambda w: w.stop())
    lea = httpx.post(
        f"{server_on_test_clock.base_url}/v1/signin", json={"login": "lea", "password": PASSWORD}
    ).json()["token"]
    panel.connect_stream(server_on_test_clock.base_url, lea)
    qtbot.waitUntil(lambda: panel.live_state == "live", timeout=WAIT_MS)
    engine = make_engine(seeded_url)
    with engine.begin() as conn:  # the admin renames the key while everyone is connected
        set_plateau(conn, "Nord", labels={"off": "Formation"}, colours={"off": "#8e24aa"})
    engine.dispose()
    qtbot.waitUntil(lambda: bar.keys[Key.OFF].text() == "Formation", timeout=WAIT_MS)
    assert bar.keys[Key.OFF].colour == "#8e24aa"
    assert profile_key_styles(load_profile(journal), "Assurance Auto")["off"].label == "Formation"
    qtbot.waitUntil(lambda: panel.key_labels("Nord")[Key.OFF] == "Formation", timeout=WAIT_MS)
    panel.close()


def test_a_sign_in_the_store_no_longer_takes_asks_to_sign_in_again(
    qtbot: QtBot, bar: Bar, journal: Journal, server_on_test_clock: Served
) -> None:
    """A 401 is "signed out: sign in again" on the bar — not "offline" for ever — and the
    events recorded meanwhile wait, pending, for that sign-in."""
    sign_in_as(qtbot, bar, server_on_test_clock.base_url, "marie")
    qtbot.waitUntil(lambda: bar.sync_label.accessibleName() == "✓ Synced", timeout=WAIT_MS)
    token = token_of(bar)
    revoked = httpx.post(
        f"{server_on_test_clock.base_url}/v1/signout",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert revoked.status_code == 200
    bar.press(Key.PAUSE)  # its sync is refused: the token is gone
    qtbot.waitUntil(lambda: bar.problem == "Sign in again", timeout=WAIT_MS)
    assert not bar.desk.syncing and bar.desk.account is not None
    assert "no longer accepts" in bar.problem_label.toolTip()
    bar._update_actions()
    assert bar.account_action.text() == "Sign in…"
    assert journal.counts(agent="marie")[SyncState.PENDING] == 1  # the pause waits
    dialog = open_sign_in(bar)
    assert dialog.login.text() == "marie"  # the account is remembered
    dialog.password.setText(PASSWORD)
    with qtbot.waitSignal(bar.account_changed, timeout=WAIT_MS):
        dialog.ok.click()
    qtbot.waitUntil(lambda: bar.sync_label.accessibleName() == "✓ Synced", timeout=WAIT_MS)
    assert bar.problem == "" and journal.counts(agent="marie")[SyncState.PENDING] == 0


def test_a_one_time_password_is_changed_at_the_first_sign_in(
    qtbot: QtBot, bar: Bar, journal: Journal, server_on_test_clock: Served, seeded_url: str
) -> None:
    """The admin handed Marie a one-time password: right after signing in, the bar asks for
    her own (the one she typed need not be typed again), and syncs once it is set."""
    engine = make_engine(seeded_url)
    with engine.begin() as conn:
        conn.execute(
            update(m.people).where(m.people.c.login == "marie").values(must_change_password=True)
        )
    engine.dispose()
    dialog = open_sign_in(bar)
    fill(dialog, server_on_test_clock.base_url)
    with qtbot.waitSignal(bar.account_changed, timeout=WAIT_MS):
        dialog.ok.click()
    asking = bar.accounts.password_dialog
    assert asking is not None and asking.isVisible()
    assert not asking.current.isVisible() and asking.current.text() == PASSWORD
    asking.grab().save(str(Path(journal.path).parent / "password-first.png"))
    asking.new.setText("mon propre mot")
    asking.again.setText("mon propre mo")
    assert not asking.ok.isEnabled() and "differ" in asking.message.text()
    asking.again.setText("mon propre mot")
    assert asking.ok.isEnabled()
    with qtbot.waitSignal(bar.account_changed, timeout=WAIT_MS):
        asking.ok.click()
    assert not asking.isVisible()
    assert not bar.desk.must_change_password()
    assert not load_profile(journal)["person"]["must_change_password"]  # type: ignore[index]
    bar.press(Key.PRODUCTION)
    qtbot.waitUntil(lambda: bar.sync_label.accessibleName() == "✓ Synced", timeout=WAIT_MS)
    new_one = {"login": "marie", "password": "mon propre mot"}
    assert httpx.post(f"{server_on_test_clock.base_url}/v1/signin", json=new_one).is_success


def test_a_password_is_changed_from_the_menu_and_a_wrong_current_one_is_said(
    qtbot: QtBot, bar: Bar, server_on_test_clock: Served
) -> None:
    sign_in_as(qtbot, bar, server_on_test_clock.base_url, "marie")
    bar._update_actions()
    assert bar.password_action.isVisible() and bar.password_action.text() == "Change my password…"
    bar.password_action.trigger()
    dialog = next(d for d in bar.findChildren(PasswordDialog) if d.isVisible())
    assert dialog.current.isVisible()
    dialog.current.setText("not my password")
    dialog.new.setText("a better password")
    dialog.again.setText("a better password")
    dialog.ok.click()
    qtbot.waitUntil(lambda: "not your current password" in dialog.message.text(), timeout=WAIT_MS)
    assert dialog.isVisible() and dialog.ok.isEnabled()
    dialog.current.setText(PASSWORD)
    with qtbot.waitSignal(bar.account_changed, timeout=WAIT_MS):
        dialog.ok.click()
    assert not dialog.isVisible()
    assert bar.desk.syncing  # this bar's token stays good
    assert token_works(server_on_test_clock.base_url, token_of(bar))


def test_an_agent_downloads_all_their_data_from_the_menu(
    qtbot: QtBot,
    bar: Bar,
    server_on_test_clock: Served,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sign_in_as(qtbot, bar, server_on_test_clock.base_url, "marie")
    bar.press(Key.PAUSE, note="médecin")
    qtbot.waitUntil(lambda: bar.sync_label.accessibleName() == "✓ Synced", timeout=WAIT_MS)
    bar._update_actions()
    assert bar.data_action.isVisible() and bar.data_action.text() == "Download all my data…"
    target = tmp_path / "mes-donnees.json"
    monkeypatch.setattr(
        "PySide6.QtWidgets.QFileDialog.getSaveFileName", lambda *_a, **_k: (str(target), "")
    )
    with qtbot.waitSignal(bar.my_data_saved, timeout=WAIT_MS):
        bar.data_action.trigger()
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["person"]["login"] == "marie"
    assert "médecin" in [e["note"] for e in data["events"]]
    assert target.stat().st_mode & 0o777 == 0o600  # her day and notes: hers alone
    for box in bar.findChildren(QMessageBox):
        box.close()


@pytest.fixture
def first_run(
    qtbot: QtBot, journal: Journal, clock: FakeClock, tmp_path: Path
) -> Iterator[tuple[Bar, Path, Translations]]:
    """A bar at its first start, its settings file as IT's install left it (empty here)."""
    config = tmp_path / "bandeau.toml"
    write_defaults_if_missing(config)
    translations = Translations()
    translations.apply("fr")
    settings = load_settings(config, environ={})
    recorder = Recorder(journal, clock, agent="poste-12", activities=["Général"], signed_in=False)
    recorder.start()
    widget = Bar(
        make_desk(recorder, settings), settings, config_file=config, translations=translations
    )
    qtbot.addWidget(widget, before_close_func=lambda w: w.stop())
    widget.show()
    qtbot.waitExposed(widget)
    yield widget, config, translations
    widget.stop()
    translations.apply("en")


def open_welcome(bar: Bar, config: Path) -> WelcomeDialog:
    welcome(bar, config)
    (dialog,) = [d for d in bar.findChildren(WelcomeDialog) if d.isVisible()]
    return dialog


def test_the_first_run_welcomes_in_the_chosen_language_and_signs_in(
    qtbot: QtBot, first_run: tuple[Bar, Path, Translations], server_on_test_clock: Served
) -> None:
    bar, config, _ = first_run
    set_in_file(config, "server.url", server_on_test_clock.base_url)  # as IT's install does
    bar.desk.settings.values["server.url"] = server_on_test_clock.base_url
    dialog = open_welcome(bar, config)
    assert dialog.windowTitle() == "Bienvenue dans Bandeau"
    assert dialog.later.text() == "Plus tard"
    # The shift's start, recorded before any sign-in, offered in the right words.
    assert dialog.send_local.text() == "Envoyer aussi mon événement d’avant"
    assert dialog.server.text() == server_on_test_clock.base_url  # pre-filled
    assert dialog.focusWidget() is dialog.login
    # English, at once: the dialog and the bar.
    dialog.language.setCurrentIndex(dialog.language.findData("en"))
    qtbot.waitUntil(lambda: dialog.windowTitle() == "Welcome to Bandeau", timeout=WAIT_MS)
    assert dialog.later.text() == "Later" and dialog.ok.text() == "Sign in"
    assert bar.keys[Key.OFF].text() == "Off production"
    dialog.at_login.setChecked(True)
    fill(dialog, server_on_test_clock.base_url, password="not it")
    dialog.ok.click()
    qtbot.waitUntil(dialog.password.isEnabled, timeout=WAIT_MS)
    assert dialog.message.text() == "Wrong login or password."
    dialog.password.setText(PASSWORD)
    with qtbot.waitSignal(bar.account_changed, timeout=WAIT_MS):
        dialog.ok.click()
    assert not dialog.isVisible() and bar.desk.syncing
    saved = load_settings(config, environ={})
    assert saved.text("ui.language") == "en" and saved.flag("startup.at_login") is True
    assert bar.settings.flag("startup.at_login") is True


def test_the_first_run_can_wait_and_says_an_unreachable_store(
    qtbot: QtBot, first_run: tuple[Bar, Path, Translations]
) -> None:
    bar, config, _ = first_run
    dialog = open_welcome(bar, config)
    assert dialog.server.text() == "" and dialog.focusWidget() is dialog.server  # nobody set it
    fill(dialog, "http://127.0.0.1:9")
    dialog.ok.click()
    qtbot.waitUntil(dialog.password.isEnabled, timeout=WAIT_MS)
    assert dialog.message.text().startswith("Impossible de joindre"), dialog.message.text()
    dialog.later.click()  # records on this computer for now; the choices are kept
    assert not dialog.isVisible() and not bar.desk.syncing
    assert bar.recorder.agent == "poste-12"
    saved = load_settings(config, environ={})
    assert saved.text("ui.language") == "auto" and saved.flag("startup.at_login") is False
    assert bar.press(Key.PAUSE) is not None  # the keys work


def test_the_first_run_says_a_locked_login(
    qtbot: QtBot, first_run: tuple[Bar, Path, Translations], server_on_test_clock: Served
) -> None:
    bar, config, _ = first_run
    dialog = open_welcome(bar, config)
    said = []
    for _ in range(6):
        fill(dialog, server_on_test_clock.base_url, password="not it")
        dialog.ok.click()
        qtbot.waitUntil(dialog.password.isEnabled, timeout=WAIT_MS)
        said.append(dialog.message.text())
    assert said[0] == "Identifiant ou mot de passe incorrect."
    assert said[-1].startswith("Trop d’essais manqués : réessayez dans"), said
    assert dialog.isVisible() and not bar.desk.syncing


def test_the_first_run_without_a_keyring_offers_the_session_only(
    qtbot: QtBot, first_run: tuple[Bar, Path, Translations], server_on_test_clock: Served
) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())  # the isolation fixture restores it
    bar, config, _ = first_run
    dialog = open_welcome(bar, config)
    fill(dialog, server_on_test_clock.base_url)
    dialog.ok.click()
    qtbot.waitUntil(lambda: dialog.ok.text() == "Garder pour cette session", timeout=WAIT_MS)
    assert "trousseau" in dialog.message.text()
    with qtbot.waitSignal(bar.account_changed, timeout=WAIT_MS):
        dialog.ok.click()
    assert not dialog.isVisible() and bar.desk.syncing
