"""Problems worded for a person, in the interface's language: each code that the client
(app.problems) or the store gives becomes a sentence through Qt's translation system.

A code not known here is said with the store's own English after a translated lead-in:
nothing is ever hidden, and a newer server's codes still reach the person.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication

from app.domain.durations import format_duration


def _fill(text: str, *values: object) -> str:
    for n, value in enumerate(values, 1):
        text = text.replace(f"%{n}", str(value))
    return text


def network_reason(reason: str) -> str:
    """Why the store could not be reached (app.account.NETWORK_REASONS's keys)."""
    if reason == "timeout":
        return QCoreApplication.translate("Wording", "no answer in time.")
    if reason == "tls":
        return QCoreApplication.translate(
            "Wording", "the secure connection failed. Is the address http:// rather than https://?"
        )
    if reason == "name":
        return QCoreApplication.translate("Wording", "no computer has that name.")
    if reason == "connect":
        return QCoreApplication.translate("Wording", "nothing answers at that address.")
    return QCoreApplication.translate("Wording", "the connection failed.")


def journal_reason(error: BaseException) -> str:
    """Why the journal could not be written or read (JournalError.reason), in words."""
    reason = getattr(error, "reason", "other")
    if reason == "full":
        return QCoreApplication.translate("Wording", "the disk is full")
    if reason == "readonly":
        return QCoreApplication.translate(
            "Wording", "the journal file cannot be written (read-only or no permission)"
        )
    if reason == "locked":
        return QCoreApplication.translate("Wording", "another program holds the journal")
    if reason == "damaged":
        return QCoreApplication.translate("Wording", "the journal file is damaged")
    return _fill(QCoreApplication.translate("Wording", "the journal failed: %1"), str(error))


def problem(code: str, params: dict[str, Any], english: str = "") -> str:
    """One problem as a sentence for a person."""
    p = params
    if code == "bad_address":
        return _fill(
            QCoreApplication.translate(
                "Wording", "“%1” is not a server address (for example https://bandeau.example.fr)."
            ),
            p.get("address", ""),
        )
    if code == "unreachable":
        return _fill(
            QCoreApplication.translate("Wording", "Cannot reach %1: %2"),
            p.get("address", ""),
            network_reason(str(p.get("reason", ""))),
        )
    if code == "busy":
        return _fill(
            QCoreApplication.translate("Wording", "%1 is busy (error %2): try again in a moment."),
            p.get("address", ""),
            p.get("status", ""),
        )
    if code == "wrong_credentials":
        return QCoreApplication.translate("Wording", "Wrong login or password.")
    if code == "locked":
        seconds = int(p.get("seconds", p.get("retry_after_s", 300)) or 300)
        return _fill(
            QCoreApplication.translate("Wording", "Too many failed attempts: try again in %1."),
            format_duration(seconds * 1000),
        )
    if code == "refused":
        return _fill(
            QCoreApplication.translate("Wording", "The server refused (error %1)."),
            p.get("status", ""),
        )
    if code == "not_understood":
        return _fill(
            QCoreApplication.translate(
                "Wording", "The answer of %1 is not understood: is it a Bandeau server?"
            ),
            p.get("address", ""),
        )
    if code == "no_activity":
        return _fill(
            QCoreApplication.translate(
                "Wording",
                "%1 has no activity on the server yet: ask an admin to add the plateau’s "
                "activities.",
            ),
            p.get("login", ""),
        )
    if code == "cannot_write":
        return _fill(
            QCoreApplication.translate("Wording", "Cannot write %1: %2."),
            p.get("path", ""),
            p.get("reason", ""),
        )
    if code in ("token_invalid", "token_needed"):
        return QCoreApplication.translate("Wording", "Signed out: sign in again.")
    if code == "correction_too_old":
        return _fill(
            QCoreApplication.translate(
                "Wording", "An agent corrects the last %1 days; ask your lead for older ones."
            ),
            p.get("days", 7),
        )
    if code == "not_own_time":
        return QCoreApplication.translate("Wording", "An agent corrects only their own time.")
    if code == "not_your_plateau":
        return QCoreApplication.translate(
            "Wording", "A lead corrects the agents of their plateaux only."
        )
    if code == "in_the_future":
        return QCoreApplication.translate(
            "Wording", "A correction is about the past: its end is still to come."
        )
    if code == "unknown_person":
        return _fill(
            QCoreApplication.translate("Wording", "No one is called “%1” on the server."),
            p.get("login", ""),
        )
    if code == "forbidden":
        return _fill(
            QCoreApplication.translate("Wording", "Not allowed: %1"), english or p.get("error", "")
        )
    if code == "store_unavailable":
        return QCoreApplication.translate(
            "Wording", "The store is unavailable for a moment: try again shortly."
        )
    return _fill(
        QCoreApplication.translate("Wording", "The server refused: %1"),
        english or p.get("error", code),
    )


def of(error: BaseException) -> str:
    """Any exception a background call ended with, worded: a Problem by its code, anything
    else by its English (a bug: it says what it is)."""
    code = getattr(error, "code", None)
    params = getattr(error, "params", None)
    if isinstance(code, str) and isinstance(params, dict):
        return problem(code, params, str(params.get("error", "")) or str(error))
    return str(error) or type(error).__name__


def setting_problem(problem: str) -> str:
    """A bad setting (app.config.SettingProblem), worded; a plain line as it is."""
    code = getattr(problem, "code", None)
    p: dict[str, Any] = getattr(problem, "params", {})
    if code == "unknown_setting":
        return _fill(
            QCoreApplication.translate("Wording", "%1: unknown setting “%2” (ignored)."),
            p["origin"],
            p["name"],
        )
    if code == "invalid_value":
        return _fill(
            QCoreApplication.translate(
                "Wording", "%1: %2 = %3 is not valid (%4 expected); the default %5 is used."
            ),
            p["origin"],
            p["name"],
            p["value"],
            _expected(p),
            p["default"],
        )
    if code == "bad_override":
        return _fill(
            QCoreApplication.translate("Wording", "--set %1: name=value expected (ignored)."),
            p["item"],
        )
    if code == "unreadable":
        return _fill(
            QCoreApplication.translate("Wording", "%1 cannot be read (%2); the defaults are used."),
            p["path"],
            p["reason"],
        )
    if code == "not_toml":
        return _fill(
            QCoreApplication.translate(
                "Wording", "%1 is not a valid settings file (%2); the defaults are used."
            ),
            p["path"],
            p["reason"],
        )
    if code == "not_a_section":
        return _fill(
            QCoreApplication.translate(
                "Wording", "%1: “%2” should be a [section] of settings (ignored)."
            ),
            p["path"],
            p["section"],
        )
    return str(problem)


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
