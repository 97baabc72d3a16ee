"""The interface's language: French first, English second, through Qt's translation system.

Source strings in the code are English; `resources/translations/bandeau_fr.qm` turns them into
French. English is the code's own text, so it needs no catalogue.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QLocale, QTranslator

from app.resources import resource

log = logging.getLogger(__name__)

LANGUAGES = ("fr", "en")
_current = ["en"]  # the language applied last (English until a catalogue is installed)


def current_language() -> str:
    """The interface's language now: what an export's headers should speak."""
    return _current[0]


def choose_language(setting: str, system_locale: QLocale | None = None) -> str:
    """ "fr" or "en": the setting if explicit, else the system's if it is English, else French."""
    if setting in LANGUAGES:
        return setting
    locale = system_locale if system_locale is not None else QLocale.system()
    return "en" if locale.language() == QLocale.Language.English else "fr"


class Translations:
    """Installs the catalogue for one language and switches it at run time."""

    def __init__(self) -> None:
        self._translator: QTranslator | None = None
        self.language = "en"

    def apply(self, language: str) -> bool:
        """Switch the application to `language`; widgets get a LanguageChange event."""
        app = QCoreApplication.instance()
        if app is None:
            raise RuntimeError("create the QApplication first")
        if self._translator is not None:
            app.removeTranslator(self._translator)
            self._translator = None
        self.language = _current[0] = language
        if language == "en":
            return True
        translator = QTranslator(app)
        path = resource("translations", f"bandeau_{language}.qm")
        if not translator.load(str(path)):
            log.error("cannot load the %s translation from %s", language, path)
            self.language = _current[0] = "en"
            return False
        app.installTranslator(translator)
        self._translator = translator
        return True
