"""The interface's language: French first, English second, through Qt's translation system.

Source strings in the code are English; `resources/translations/bandeau_fr.qm` turns them into
French. English is the code's own text, so it needs no catalogue.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

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


def qt_translations_dir() -> str:
    """Where Qt keeps its own catalogues (qtbase_fr.qm: the file dialog, Cancel, Close…)."""
    return QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)


class Translations:
    """Installs the catalogues for one language (Bandeau's and Qt's own, so that the file
    dialog and the standard buttons speak it too) and switches them at run time."""

    def __init__(self) -> None:
        self._translators: list[QTranslator] = []
        self.language = "en"

    def apply(self, language: str) -> bool:
        """Switch the application to `language`; widgets get a LanguageChange event."""
        app = QCoreApplication.instance()
        if app is None:
            raise RuntimeError("create the QApplication first")
        for old in self._translators:
            app.removeTranslator(old)
        self._translators = []
        self.language = _current[0] = language
        if language == "en":
            return True
        ours = QTranslator(app)
        path = resource("translations", f"bandeau_{language}.qm")
        if not ours.load(str(path)):
            log.error("cannot load the %s translation from %s", language, path)
            self.language = _current[0] = "en"
            return False
        qt = QTranslator(app)
        if qt.load(f"qtbase_{language}", qt_translations_dir()):
            app.installTranslator(qt)
            self._translators.append(qt)
        else:  # Bandeau's own words still change; Qt's buttons stay English
            log.warning("Qt's %s catalogue is missing from %s", language, qt_translations_dir())
        app.installTranslator(ours)
        self._translators.append(ours)
        return True
