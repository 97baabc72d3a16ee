"""Problems worded for a person, in the interface's language: each code that the client
(app.problems) or the store gives becomes a sentence through Qt's translation system.

A code not known here is said with the store's own English after a translated lead-in:
nothing is ever hidden, and a newer server's codes still reach the person.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from app.domain.durations import format_duration


def _fill(text: str, *values: object) -> str:
    for n, value in enumerate(values, 1):
        text = text.replace(f"%{n}", str(value))
    return text


# Why the store could not be reached (app.account.NETWORK_REASONS's keys), and why the
# journal could not be written (JournalError.reason): marked for lupdate, translated when said.
_NETWORK_WORDS: dict[str, object] = {
    "timeout": QT_TRANSLATE_NOOP("Wording", "no answer in time."),
    "tls": QT_TRANSLATE_NOOP(
        "Wording", "the secure connection failed. Is the address http:// rather than https://?"
    ),
    "name": QT_TRANSLATE_NOOP("Wording", "no computer has that name."),
    "connect": QT_TRANSLATE_NOOP("Wording", "nothing answers at that address."),
    "other": QT_TRANSLATE_NOOP("Wording", "the connection failed."),
}
_JOURNAL_WORDS: dict[str, object] = {
    "full": QT_TRANSLATE_NOOP("Wording", "the disk is full"),
    "readonly": QT_TRANSLATE_NOOP(
        "Wording", "the journal file cannot be written (read-only or no permission)"
    ),
    "locked": QT_TRANSLATE_NOOP("Wording", "another program holds the journal"),
    "damaged": QT_TRANSLATE_NOOP("Wording", "the journal file is damaged"),
    "newer": QT_TRANSLATE_NOOP(
        "Wording",
        "the journal was written by a newer version of Bandeau: install the latest version "
        "(nothing was changed in the journal)",
    ),
}


def network_reason(reason: str) -> str:
    """Why the store could not be reached, in words."""
    words = _NETWORK_WORDS.get(reason, _NETWORK_WORDS["other"])
    return QCoreApplication.translate("Wording", str(words))


def journal_reason(error: BaseException) -> str:
    """Why the journal could not be written or read, in words."""
    words = _JOURNAL_WORDS.get(str(getattr(error, "reason", "other")))
    if words is None:
        return _fill(QCoreApplication.translate("Wording", "the journal failed: %1"), str(error))
    return QCoreApplication.translate("Wording", str(words))


# Each problem's wording (marked for lupdate, translated when said) and the params that fill
# it in, in order. "reason_words", "wait" and "english" are worked out by `problem`.
_PROBLEM_WORDS: dict[str, tuple[object, tuple[str, ...]]] = {  # (QT_TRANSLATE_NOOP: object)
    "autostart": (
        QT_TRANSLATE_NOOP("Wording", "Start at login could not be changed: %1"),
        ("english",),
    ),
    "dock": (
        QT_TRANSLATE_NOOP("Wording", "The bar could not keep its strip of the screen: %1"),
        ("english",),
    ),
    "bad_address": (
        QT_TRANSLATE_NOOP(
            "Wording", "“%1” is not a server address (for example https://bandeau.example.fr)."
        ),
        ("address",),
    ),
    "unreachable": (
        QT_TRANSLATE_NOOP("Wording", "Cannot reach %1: %2"),
        ("address", "reason_words"),
    ),
    "busy": (
        QT_TRANSLATE_NOOP("Wording", "%1 is busy (error %2): try again in a moment."),
        ("address", "status"),
    ),
    "wrong_credentials": (QT_TRANSLATE_NOOP("Wording", "Wrong login or password."), ()),
    "locked": (
        QT_TRANSLATE_NOOP("Wording", "Too many failed attempts: try again in %1."),
        ("wait",),
    ),
    "refused": (QT_TRANSLATE_NOOP("Wording", "The server refused (error %1)."), ("status",)),
    "not_understood": (
        QT_TRANSLATE_NOOP("Wording", "The answer of %1 is not understood: is it a Bandeau server?"),
        ("address",),
    ),
    "no_activity": (
        QT_TRANSLATE_NOOP(
            "Wording",
            "%1 has no activity on the server yet: ask an admin to add the plateau’s activities.",
        ),
        ("login",),
    ),
    "cannot_write": (QT_TRANSLATE_NOOP("Wording", "Cannot write %1: %2."), ("path", "reason")),
    "token_invalid": (QT_TRANSLATE_NOOP("Wording", "Signed out: sign in again."), ()),
    "token_needed": (QT_TRANSLATE_NOOP("Wording", "Signed out: sign in again."), ()),
    "correction_too_old": (
        QT_TRANSLATE_NOOP(
            "Wording", "An agent corrects the last %1 days; ask your lead for older ones."
        ),
        ("days",),
    ),
    "not_own_time": (QT_TRANSLATE_NOOP("Wording", "An agent corrects only their own time."), ()),
    "not_your_plateau": (
        QT_TRANSLATE_NOOP("Wording", "A lead corrects the agents of their plateaux only."),
        (),
    ),
    "in_the_future": (
        QT_TRANSLATE_NOOP("Wording", "A correction is about the past: its end is still to come."),
        (),
    ),
    "unknown_person": (
        QT_TRANSLATE_NOOP("Wording", "No one is called “%1” on the server."),
        ("login",),
    ),
    "forbidden": (QT_TRANSLATE_NOOP("Wording", "Not allowed: %1"), ("english",)),
    "wrong_password": (
        QT_TRANSLATE_NOOP("Wording", "That is not your current password."),
        (),
    ),
    "weak_password": (
        QT_TRANSLATE_NOOP("Wording", "A password needs at least %1 characters."),
        ("min",),
    ),
    "password_change_needed": (
        QT_TRANSLATE_NOOP("Wording", "Choose your own password first (menu: Change my password…)."),
        (),
    ),
    "wrong_device": (
        QT_TRANSLATE_NOOP(
            "Wording", "This sign-in belongs to another computer: sign in again here."
        ),
        (),
    ),
    "uuid_taken": (
        QT_TRANSLATE_NOOP("Wording", "This correction’s id is already another’s."),
        (),
    ),
    "purged": (
        QT_TRANSLATE_NOOP(
            "Wording", "That day is older than the store keeps: it can no longer be changed."
        ),
        (),
    ),
    "person_disabled": (
        QT_TRANSLATE_NOOP("Wording", "This person is disabled on the server."),
        (),
    ),
    "store_unavailable": (
        QT_TRANSLATE_NOOP("Wording", "The store is unavailable for a moment: try again shortly."),
        (),
    ),
}
_UNKNOWN_PROBLEM = QT_TRANSLATE_NOOP("Wording", "The server refused: %1")


def problem(code: str, params: dict[str, Any], english: str = "") -> str:
    """One problem as a sentence for a person."""
    p: dict[str, Any] = {"days": 7, **params}
    p["english"] = english or str(params.get("error", code))
    p["reason_words"] = network_reason(str(params.get("reason", "")))
    seconds = int(params.get("seconds", params.get("retry_after_s", 300)) or 300)
    p["wait"] = format_duration(seconds * 1000)
    template, names = _PROBLEM_WORDS.get(code, (_UNKNOWN_PROBLEM, ("english",)))
    return _fill(
        QCoreApplication.translate("Wording", str(template)), *(p.get(n, "") for n in names)
    )


def of(error: BaseException) -> str:
    """Any exception a background call ended with, worded: a Problem by its code, anything
    else by its English (a bug: it says what it is)."""
    code = getattr(error, "code", None)
    params = getattr(error, "params", None)
    if isinstance(code, str) and isinstance(params, dict):
        return problem(code, params, str(params.get("error", "")) or str(error))
    return str(error) or type(error).__name__


# Each settings problem's wording (marked for lupdate, translated when said) and the params
# that fill it in, in order; "expected" is worded by _expected.
_SETTING_WORDS: dict[str, tuple[object, tuple[str, ...]]] = {  # (QT_TRANSLATE_NOOP: object)
    "unknown_setting": (
        QT_TRANSLATE_NOOP("Wording", "%1: unknown setting “%2” (ignored)."),
        ("origin", "name"),
    ),
    "invalid_value": (
        QT_TRANSLATE_NOOP(
            "Wording", "%1: %2 = %3 is not valid (%4 expected); the default %5 is used."
        ),
        ("origin", "name", "value", "expected", "default"),
    ),
    "bad_override": (
        QT_TRANSLATE_NOOP("Wording", "--set %1: name=value expected (ignored)."),
        ("item",),
    ),
    "unreadable": (
        QT_TRANSLATE_NOOP("Wording", "%1 cannot be read (%2); the defaults are used."),
        ("path", "reason"),
    ),
    "not_toml": (
        QT_TRANSLATE_NOOP(
            "Wording", "%1 is not a valid settings file (%2); the defaults are used."
        ),
        ("path", "reason"),
    ),
    "not_a_section": (
        QT_TRANSLATE_NOOP("Wording", "%1: “%2” should be a [section] of settings (ignored)."),
        ("path", "section"),
    ),
}


def setting_problem(problem: str) -> str:
    """A bad setting (app.config.SettingProblem), worded; a plain line as it is."""
    words = _SETTING_WORDS.get(str(getattr(problem, "code", "")))
    if words is None:
        return str(problem)
    template, names = words
    p: dict[str, Any] = {**getattr(problem, "params", {})}
    p["expected"] = _expected(p)
    return _fill(QCoreApplication.translate("Wording", str(template)), *(p[n] for n in names))


def _expected(p: dict[str, Any]) -> str:
    if p.get("choices"):
        return QCoreApplication.translate("Wording", "one of %1").replace(
            "%1", ", ".join(p["choices"])
        )
    if p.get("kind") == "bool":
        return QCoreApplication.translate("Wording", "true or false")
    if p.get("kind") == "int":
        return _fill(
            QCoreApplication.translate("Wording", "a whole number from %1 to %2"),
            p.get("minimum"),
            p.get("maximum"),
        )
    if p.get("kind") == "list":
        return QCoreApplication.translate("Wording", 'a list of texts, like ["A", "B"]')
    return QCoreApplication.translate("Wording", "a text in quotes")
