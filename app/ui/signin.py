"""Signing in from the bar: the dialog, and its conversation with the desk.

The network and the keyring can each take seconds (a locked keyring can block forever): the
desk runs them on a thread of its own and answers on the UI thread; the dialog stays
responsive and says what is happening.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.journal import JournalError
from app.ui import wording

if TYPE_CHECKING:
    from app.desk.desk import Desk, SignInAttempt


class SignInDialog(QDialog):
    """Server address, login, password; then, if this computer has no keyring, whether to
    keep the sign-in for this session only.

    Signals:
        submitted(str, str, str, bool): server, login, password, send the events recorded
            before sign-in.
        keep_in_memory(bool): the answer to `ask_keep_in_memory`.
    """

    submitted = Signal(str, str, str, bool)
    keep_in_memory = Signal(bool)

    def __init__(
        self,
        *,
        server: str = "",
        login: str = "",
        local_events: int = 0,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, True)
        self.setMinimumWidth(380)
        self._asking = False
        self._local_events = local_events
        self.server = QLineEdit(server)
        self.server.setPlaceholderText("https://bandeau.example.fr")
        self.login = QLineEdit(login)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.send_local = QCheckBox()
        self.send_local_hint = QLabel()
        self.send_local_hint.setObjectName("Hint")
        self.send_local_hint.setWordWrap(True)
        self.send_local_hint.setVisible(local_events > 0)
        self.send_local.setVisible(local_events > 0)
        self.message = QLabel()
        self.message.setObjectName("SignInMessage")
        self.message.setWordWrap(True)
        self.message.hide()

        self.form = QFormLayout()
        self.server_label, self.login_label, self.password_label = QLabel(), QLabel(), QLabel()
        self.form.addRow(self.server_label, self.server)
        self.form.addRow(self.login_label, self.login)
        self.form.addRow(self.password_label, self.password)
        self.buttons = QDialogButtonBox()
        self.ok = QPushButton()
        self.ok.setDefault(True)
        self.buttons.addButton(self.ok, QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        # Enter means "sign in" (or "try again"), never "cancel": Cancel is no default button,
        # even while Sign in is disabled (QDialog would otherwise hand Enter to it).
        self.cancel.setAutoDefault(False)
        self.ok.clicked.connect(self._on_ok)
        self.cancel.clicked.connect(self._on_cancel)
        self.body = QVBoxLayout(self)
        self.body.addLayout(self.form)
        self.body.addWidget(self.send_local)
        self.body.addWidget(self.send_local_hint)
        self.body.addWidget(self.message)
        self.body.addWidget(self.buttons)
        for edit in (self.server, self.login, self.password):
            edit.textChanged.connect(self._update_ok)
        self._retranslate()
        self._update_ok()
        first_empty = next((e for e in (self.server, self.login) if not e.text()), None)
        (first_empty or self.password).setFocus()

    def _retranslate(self) -> None:
        self.setWindowTitle(self.tr("Sign in"))
        self.server.setAccessibleName(self.tr("Server address"))
        self.login.setAccessibleName(self.tr("Login"))
        self.password.setAccessibleName(self.tr("Password"))
        self.send_local.setText(self.tr("Also send my %n earlier event(s)", "", self._local_events))
        self.send_local_hint.setText(
            self.tr(
                "Recorded on this computer before you signed in. Unticked, they stay on this "
                "computer only."
            )
        )
        self.server_label.setText(self.tr("Server"))
        self.login_label.setText(self.tr("Login"))
        self.password_label.setText(self.tr("Password"))
        if not self._asking:
            self.ok.setText(self.tr("Sign in"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _update_ok(self) -> None:
        filled = all(e.text().strip() for e in (self.server, self.login)) and self.password.text()
        self.ok.setEnabled(bool(filled) or self._asking)
        self.ok.setDefault(True)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.modifiers() & (
            ~Qt.KeyboardModifier.KeypadModifier
        ):
            if self.ok.isEnabled():
                self.ok.click()
            event.accept()  # an incomplete form waits: Enter never closes the dialog
            return
        super().keyPressEvent(event)

    def _on_ok(self) -> None:
        if self._asking:
            self._asking = False
            self.keep_in_memory.emit(True)
            return
        self.set_busy(True)
        self.submitted.emit(
            self.server.text().strip(),
            self.login.text().strip(),
            self.password.text(),
            self.send_local.isVisible() and self.send_local.isChecked(),
        )

    def _on_cancel(self) -> None:
        if self._asking:
            self._asking = False
            self.keep_in_memory.emit(False)
        self.reject()

    def set_busy(self, busy: bool) -> None:
        for widget in (self.server, self.login, self.password, self.send_local, self.ok):
            widget.setEnabled(not busy)
        if busy:
            self._say(self.tr("Signing in…"), error=False)
        else:
            self._update_ok()

    def show_error(self, text: str) -> None:
        self.set_busy(False)
        self.password.clear()
        self.password.setFocus()
        self._say(text, error=True)

    def ask_keep_in_memory(self, reason: str) -> None:
        """No keyring: the token can be kept for this session only (never on disk)."""
        self._asking = True
        for widget in (self.server, self.login, self.password, self.send_local):
            widget.setEnabled(False)
        self.ok.setText(self.tr("Keep for this session"))
        self.ok.setEnabled(True)
        self._say(
            self.tr(
                "This computer has no keyring to keep your sign-in safely (%1). Bandeau can "
                "keep it in memory until the bar closes; you will then sign in again. It is "
                "never written to disk."
            ).replace("%1", reason),
            error=False,
        )

    def _say(self, text: str, *, error: bool) -> None:
        self.message.setText(text)
        self.message.setProperty("error", error)
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        self.message.show()
        self.adjustSize()


class WelcomeDialog(SignInDialog):
    """The first run: the bar's language and start at login, then the sign-in (the store's
    address pre-filled when IT set it), or "Later" to record on this computer for now.

    Signals:
        language_chosen(str): "auto", "fr" or "en", as soon as it is picked (the dialog and
            the bar switch at once).
        chosen(dict): the settings chosen, when the agent signs in or leaves for later.
    """

    language_chosen = Signal(str)
    chosen = Signal(dict)

    def __init__(
        self,
        *,
        server: str = "",
        language: str = "auto",
        at_login: bool = False,
        local_events: int = 0,
        parent: QWidget | None = None,
    ) -> None:
        # Made before the base class lays out its part and translates: its translation
        # covers these too.
        self.language = QComboBox()
        for value in ("auto", "fr", "en"):
            self.language.addItem("", value)
        self.language.setItemText(1, "Français")
        self.language.setItemText(2, "English")
        self.language.setCurrentIndex(max(self.language.findData(language), 0))
        self.language_label = QLabel()
        self.at_login = QCheckBox()
        self.at_login.setChecked(at_login)
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.later = QPushButton()
        super().__init__(server=server, local_events=local_events, parent=parent)
        self.language.currentIndexChanged.connect(
            lambda _i: self.language_chosen.emit(self.language.currentData())
        )
        self.form.insertRow(0, self.language_label, self.language)
        self.form.insertRow(1, self.at_login)
        self.body.insertWidget(0, self.intro)
        # "Later" in place of Cancel: the bar records on this computer until they sign in.
        self.cancel.hide()
        self.later.setAutoDefault(False)
        self.buttons.addButton(self.later, QDialogButtonBox.ButtonRole.RejectRole)
        self.later.clicked.connect(self._on_cancel)

    def _retranslate(self) -> None:
        super()._retranslate()
        self.setWindowTitle(self.tr("Welcome to Bandeau"))
        # Again in this class's context: PySide's tr() looks here first, and takes a plural
        # it has no translation for, "%n" filled in, for one.
        self.send_local.setText(self.tr("Also send my %n earlier event(s)", "", self._local_events))
        self.intro.setText(
            self.tr(
                "Three keys — Production, Pause, Off production — and your time counts itself. "
                "Sign in with the login your team lead gave you, or start now and sign in "
                "later from the bar's menu."
            )
        )
        self.language_label.setText(self.tr("Language"))
        self.language.setItemText(0, self.tr("Automatic (system)"))
        self.at_login.setText(self.tr("Start Bandeau when I log in"))
        self.later.setText(self.tr("Later"))

    def settings_chosen(self) -> dict[str, object]:
        return {
            "ui.language": self.language.currentData(),
            "startup.at_login": self.at_login.isChecked(),
        }

    def done(self, result: int) -> None:
        # Signed in or left for later: the choices are kept either way.
        self.chosen.emit(self.settings_chosen())
        super().done(result)


MIN_PASSWORD_CHARS = 8  # the store's rule (app.server.security): said before it refuses


class PasswordDialog(QDialog):
    """The signed-in person changes their password: the current one, the new one twice.
    `first_time`: the password was a one-time one from the admin (the current one is the
    one just typed to sign in, and need not be typed again).

    Signals:
        submitted(str, str): the current password, the new one.
    """

    submitted = Signal(str, str)

    def __init__(
        self, *, first_time: bool = False, current: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Change my password"))
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, True)
        self.setMinimumWidth(380)
        self.intro = QLabel(
            self.tr(
                "Your admin gave you this password for your first sign-in: choose your own to "
                "start recording with the store."
            )
            if first_time
            else self.tr("Choose a new password for your sign-in.")
        )
        self.intro.setWordWrap(True)
        self.current = QLineEdit(current)
        self.current.setAccessibleName(self.tr("Current password"))
        self.new = QLineEdit()
        self.new.setAccessibleName(self.tr("New password"))
        self.again = QLineEdit()
        self.again.setAccessibleName(self.tr("New password again"))
        for edit in (self.current, self.new, self.again):
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.textChanged.connect(self._update_ok)
        self.rule = QLabel(
            self.tr("At least %1 characters.").replace("%1", str(MIN_PASSWORD_CHARS))
        )
        self.rule.setObjectName("Hint")
        self.message = QLabel()
        self.message.setObjectName("SignInMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        form = QFormLayout()
        form.addRow(self.tr("Current password"), self.current)
        form.addRow(self.tr("New password"), self.new)
        form.addRow(self.tr("New password again"), self.again)
        if first_time and current:
            form.setRowVisible(self.current, False)
        self.buttons = QDialogButtonBox()
        self.ok = QPushButton(self.tr("Change"))
        self.ok.setDefault(True)
        self.buttons.addButton(self.ok, QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel.setAutoDefault(False)
        self.ok.clicked.connect(self._on_ok)
        self.cancel.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(form)
        layout.addWidget(self.rule)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self._update_ok()
        (self.new if first_time and current else self.current).setFocus()

    def _update_ok(self) -> None:
        new = self.new.text()
        mismatch = bool(self.again.text()) and self.again.text() != new
        if mismatch:
            self._say(self.tr("The two new passwords differ."), error=True)
        elif self.message.property("error") and not self.message.property("from_store"):
            self.message.hide()
        self.ok.setEnabled(
            bool(self.current.text())
            and len(new) >= MIN_PASSWORD_CHARS
            and new == self.again.text()
        )

    def _on_ok(self) -> None:
        self.set_busy(True)
        self.submitted.emit(self.current.text(), self.new.text())

    def set_busy(self, busy: bool) -> None:
        for widget in (self.current, self.new, self.again, self.ok):
            widget.setEnabled(not busy)
        if busy:
            self._say(self.tr("Changing…"), error=False)
        else:
            self._update_ok()

    def show_error(self, text: str) -> None:
        self.set_busy(False)
        self._say(text, error=True, from_store=True)

    def _say(self, text: str, *, error: bool, from_store: bool = False) -> None:
        self.message.setText(text)
        self.message.setProperty("error", error)
        self.message.setProperty("from_store", from_store)
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        self.message.show()
        self.adjustSize()


class AccountControl(QObject):
    """Signing the bar in and out from its menu: the dialogs, the desk doing the rest (the
    network and the keyring on threads of its own, the journal on this one).

    Signals:
        changed(): the bar signed in or out.
    """

    changed = Signal()

    def __init__(self, desk: Desk, parent: QWidget, *, place: Callable[[QDialog], None]) -> None:
        """`place(dialog)` opens a dialog where the bar wants it (beside the bar)."""
        super().__init__(parent)
        self.desk = desk
        self._parent = parent
        self._place = place
        self._boxes: list[QMessageBox] = []
        self.password_dialog: PasswordDialog | None = None

    # -- signing in --------------------------------------------------------------------------

    def show_sign_in(self) -> SignInDialog:
        known = self.desk.known_account()
        dialog = SignInDialog(
            server=known.server if known else self.desk.settings.text("server.url"),
            login=known.login if known else "",
            local_events=self.desk.local_events() if self.desk.account is None else 0,
            parent=self._parent,
        )
        self._connect_sign_in(dialog)
        self._place(dialog)
        return dialog

    def show_welcome(
        self,
        *,
        on_language: Callable[[str], None],
        on_chosen: Callable[[dict[str, object]], None],
    ) -> WelcomeDialog:
        """The first run's dialog; `on_language(setting)` as soon as a language is picked,
        `on_chosen(settings)` when it closes (signed in or not)."""
        settings = self.desk.settings
        dialog = WelcomeDialog(
            server=settings.text("server.url"),
            language=settings.text("ui.language"),
            at_login=settings.flag("startup.at_login"),
            local_events=self.desk.local_events(),
            parent=self._parent,
        )
        dialog.language_chosen.connect(on_language)

        dialog.chosen.connect(on_chosen)
        self._connect_sign_in(dialog)
        self._place(dialog)
        return dialog

    def _connect_sign_in(self, dialog: SignInDialog) -> None:
        dialog.submitted.connect(
            lambda server, login, password, send: self.desk.sign_in(
                server,
                login,
                password,
                send_local=send,
                answer=lambda attempt, error: self._answered(dialog, attempt, error),
            )
        )

    def _answered(
        self, dialog: SignInDialog, attempt: SignInAttempt | None, error: BaseException | None
    ) -> None:
        if attempt is None:
            dialog.show_error(wording.of(error) if error is not None else "")
            return
        if not dialog.isVisible():  # cancelled while the server answered
            attempt.decline()
            return
        if attempt.keyring_problem is None:
            self._finish(dialog, attempt)
            return

        def answered(keep: bool) -> None:
            if keep:
                self._finish(dialog, attempt)
            else:
                attempt.decline()

        dialog.keep_in_memory.connect(answered)
        dialog.ask_keep_in_memory(attempt.keyring_problem)

    def _finish(self, dialog: SignInDialog, attempt: SignInAttempt) -> None:
        typed = dialog.password.text()
        failed = attempt.complete()
        if failed is not None:
            why = (
                wording.journal_reason(failed) if isinstance(failed, JournalError) else str(failed)
            )
            dialog.show_error(self.tr("Not signed in: %1").replace("%1", why))
            return
        dialog.accept()
        self.changed.emit()
        if self.desk.must_change_password():  # a one-time password: their own, at once
            self.password_dialog = self.show_change_password(first_time=True, current=typed)

    # -- the person's own password -----------------------------------------------------------

    def show_change_password(
        self, *, first_time: bool = False, current: str = ""
    ) -> PasswordDialog:
        dialog = PasswordDialog(first_time=first_time, current=current, parent=self._parent)

        def done(error: BaseException | None) -> None:
            if error is not None:
                dialog.show_error(wording.of(error))
                return
            dialog.accept()
            self.changed.emit()

        def submitted(current: str, new: str) -> None:
            if not self.desk.change_password(current, new, done):
                dialog.show_error(self.tr("Not signed in."))

        dialog.submitted.connect(submitted)
        self._place(dialog)
        return dialog

    # -- signing out -------------------------------------------------------------------------

    def ask_sign_out(self) -> QMessageBox:
        login = self.desk.recorder.agent
        waiting = self.desk.waiting_events()
        text = self.tr("Sign out of %1?").replace("%1", login)
        if waiting:
            text += "\n\n" + self.tr(
                "%n event(s) not sent yet stay on this computer; they are sent at your next "
                "sign-in.",
                "",
                waiting,
            )
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Bandeau",
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self._parent,
        )
        box.button(QMessageBox.StandardButton.Yes).setText(self.tr("Sign out"))
        box.button(QMessageBox.StandardButton.Yes).clicked.connect(self.sign_out)
        self._boxes = [b for b in self._boxes if b.isVisible()] + [box]
        box.open()
        return box

    def sign_out(self) -> None:
        """Back to local-only: the token is revoked and forgotten; unsent events stay in
        the journal and go at the next sign-in as the same person."""
        self.desk.sign_out()
        self.changed.emit()
