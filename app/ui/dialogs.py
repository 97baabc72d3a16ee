"""The bar's small dialogs: a note with a click, settings (my day: app.ui.dayview)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.config import set_in_file
from app.domain.events import NOTE_MAX_CHARS


class NoteDialog(QDialog):
    """Type a short note to go with a key (never required).

    Signals:
        note_given(str): the agent confirmed; the key is to be pressed with this note.
    """

    note_given = Signal(str)

    def __init__(self, key_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Note"))
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, True)
        layout = QVBoxLayout(self)
        self.prompt = QLabel(
            self.tr("Note for “%1” (optional, %2 characters at most):")
            .replace("%1", key_label)
            .replace("%2", str(NOTE_MAX_CHARS))
        )
        self.prompt.setWordWrap(True)
        # Said where the note is typed: who reads it (the agent's autonomy, and no surprise).
        self.visibility = QLabel(
            self.tr("Your team lead sees this note, with the time it goes with.")
        )
        self.visibility.setObjectName("NoteVisibility")
        self.visibility.setWordWrap(True)
        self.edit = QLineEdit()
        self.edit.setMaxLength(NOTE_MAX_CHARS)
        self.edit.setAccessibleName(self.tr("Note"))
        self.counter = QLabel()
        self.counter.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.edit.textChanged.connect(self._count)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(self.prompt)
        layout.addWidget(self.edit)
        layout.addWidget(self.visibility)
        layout.addWidget(self.counter)
        layout.addWidget(buttons)
        self._count()

    def _count(self) -> None:
        self.counter.setText(f"{len(self.edit.text())}/{NOTE_MAX_CHARS}")

    def accept(self) -> None:
        self.note_given.emit(self.edit.text())
        super().accept()


class SettingsDialog(QDialog):
    """The settings an agent changes from the bar; saved in bandeau.toml.

    Signals:
        saved(dict): the names and values written.
    """

    saved = Signal(dict)

    def __init__(
        self, config_file: Path, values: dict[str, object], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.config_file = config_file
        self.setWindowTitle(self.tr("Settings"))
        form = QFormLayout(self)
        self.language = QComboBox()
        self.language.addItem(self.tr("Automatic (system)"), "auto")
        self.language.addItem("Français", "fr")
        self.language.addItem("English", "en")
        self.language.setCurrentIndex(max(self.language.findData(values["ui.language"]), 0))
        self.on_top = QCheckBox(self.tr("Keep the bar above other windows"))
        self.on_top.setChecked(bool(values["ui.always_on_top"]))
        self.show_totals = QCheckBox(self.tr("Show today's total under each key"))
        self.show_totals.setChecked(bool(values["ui.show_totals"]))
        self.dock = QComboBox()
        self.dock.addItem(self.tr("No (floating bar)"), "off")
        self.dock.addItem(self.tr("At the top of the screen"), "top")
        self.dock.addItem(self.tr("At the bottom of the screen"), "bottom")
        self.dock.setCurrentIndex(max(self.dock.findData(values.get("bar.dock", "off")), 0))
        self.dock.setToolTip(
            self.tr("Docked, the bar keeps its strip of the screen: maximised windows stop at it.")
        )
        self.at_login = QCheckBox(self.tr("Start Bandeau when I log in"))
        self.at_login.setChecked(bool(values.get("startup.at_login", False)))
        self.error = QLabel()
        self.error.setStyleSheet("color: #c5221f")
        self.error.setWordWrap(True)
        self.error.hide()
        where = QLabel(self.tr("Saved in %1").replace("%1", str(config_file)))
        where.setWordWrap(True)
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(self.tr("Language"), self.language)
        form.addRow(self.on_top)
        form.addRow(self.show_totals)
        form.addRow(self.tr("Dock the bar"), self.dock)
        form.addRow(self.at_login)
        form.addRow(where)
        form.addRow(self.error)
        form.addRow(buttons)

    def values(self) -> dict[str, object]:
        return {
            "ui.language": self.language.currentData(),
            "ui.always_on_top": self.on_top.isChecked(),
            "ui.show_totals": self.show_totals.isChecked(),
            "bar.dock": self.dock.currentData(),
            "startup.at_login": self.at_login.isChecked(),
        }

    def accept(self) -> None:
        values = self.values()
        try:
            for name, value in values.items():
                set_in_file(self.config_file, name, value)
        except OSError as exc:
            self.error.setText(self.tr("Could not save the settings: %1").replace("%1", str(exc)))
            self.error.show()
            return
        self.saved.emit(values)
        super().accept()
