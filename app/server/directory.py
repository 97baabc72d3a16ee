"""The directory: plateaux, their keys and activities, people and their plateaux.

Plain functions on a SQLAlchemy connection (the caller owns the transaction); every input is
checked here, and a refusal is a DirectoryError that says what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from app.domain.events import is_colour
from app.server import models as m
from app.server.clock import system_now_ms

LOGIN_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MAX_NAME = 100
MAX_PERSON_NAME = 200


class DirectoryError(ValueError):
    """A directory change that was refused, with the reason."""


@dataclass(frozen=True, slots=True)
class NewPerson:
    login: str
    name: str
    role: str
    plateaux: tuple[str, ...]


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    if key is None:
        raise DirectoryError("the database returned no id")
    return int(key[0])


def _clean_name(value: str, what: str, limit: int) -> str:
    value = value.strip()
    if not value:
        raise DirectoryError(f"{what} name is empty")
    if len(value) > limit:
        raise DirectoryError(f"{what} name is longer than {limit} characters")
    _printable(value, f"{what} name")
    return value


# C0 controls and DEL: a NUL (U+0000) is refused by PostgreSQL's text (a failed insert, not
# a line number); a line break or a tab breaks every list and CSV the name is shown in.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _printable(value: str, what: str) -> None:
    if _CONTROL.search(value):
        raise DirectoryError(f"{what} {value!r} holds a control character")


def add_plateau(
    conn: Connection, *, name: str, pause_threshold_s: int = m.DEFAULT_PAUSE_THRESHOLD_S
) -> int:
    name = _clean_name(name, "plateau", MAX_NAME)
    if not 60 <= pause_threshold_s <= 4 * 3600:
        raise DirectoryError("the pause threshold must be between 60 s and 4 h")
    if conn.execute(select(m.plateaux.c.id).where(m.plateaux.c.name == name)).first():
        raise DirectoryError(f"plateau {name!r} already exists")
    new_id = _new_id(
        conn.execute(
            insert(m.plateaux).values(
                name=name, pause_threshold_s=pause_threshold_s, created_at=system_now_ms()
            )
        )
    )
    conn.execute(
        insert(m.plateau_keys),
        [
            {"plateau_id": new_id, "key": key, "label": label, "colour": colour}
            for key, (label, colour) in m.DEFAULT_KEY_STYLES.items()
        ],
    )
    return new_id


MAX_KEY_LABEL = 24  # it must fit on a key of the bar


def set_plateau(
    conn: Connection,
    name: str,
    *,
    pause_threshold_s: int | None = None,
    labels: dict[str, str] | None = None,
    colours: dict[str, str] | None = None,
) -> None:
    """Change a plateau's pause threshold and its keys' labels and colours (the keys
    themselves are fixed). All or nothing: a bad value changes nothing."""
    pid = plateau_id(conn, name)
    if pause_threshold_s is not None and not 60 <= pause_threshold_s <= 4 * 3600:
        raise DirectoryError("the pause threshold must be between 60 s and 4 h")
    changes: dict[str, dict[str, str]] = {}
    for field, given in (("label", labels or {}), ("colour", colours or {})):
        for key, raw in given.items():
            if key not in m.KEYS:
                raise DirectoryError(f"{field}: no key {key!r} (keys: {', '.join(m.KEYS)})")
            value = raw.strip()
            if field == "label" and not 0 < len(value) <= MAX_KEY_LABEL:
                raise DirectoryError(f"label of {key}: 1 to {MAX_KEY_LABEL} characters")
            if field == "colour" and not is_colour(value):
                raise DirectoryError(f"colour of {key}: {value!r} is not like #1e8e3e")
            changes.setdefault(key, {})[field] = value.lower() if field == "colour" else value
    if pause_threshold_s is not None:
        conn.execute(
            update(m.plateaux)
            .where(m.plateaux.c.id == pid)
            .values(pause_threshold_s=pause_threshold_s)
        )
    for key, values in changes.items():
        conn.execute(
            update(m.plateau_keys)
            .where(m.plateau_keys.c.plateau_id == pid, m.plateau_keys.c.key == key)
            .values(**values)
        )


def plateau_id(conn: Connection, name: str) -> int:
    found = conn.execute(select(m.plateaux.c.id).where(m.plateaux.c.name == name)).scalar()
    if found is None:
        raise DirectoryError(f"no plateau named {name!r}")
    return int(found)


def list_plateaux(conn: Connection) -> list[dict[str, Any]]:
    counts = (
        select(m.memberships.c.plateau_id, func.count().label("people"))
        .group_by(m.memberships.c.plateau_id)
        .subquery()
    )
    rows = (
        conn.execute(
            select(
                m.plateaux.c.name,
                m.plateaux.c.pause_threshold_s,
                func.coalesce(counts.c.people, 0).label("people"),
            )
            .outerjoin(counts, counts.c.plateau_id == m.plateaux.c.id)
            .order_by(m.plateaux.c.name)
        )
        .mappings()
        .all()
    )
    keys: dict[str, list[tuple[int, str]]] = {}
    for plateau, key, label, colour in conn.execute(
        select(
            m.plateaux.c.name, m.plateau_keys.c.key, m.plateau_keys.c.label, m.plateau_keys.c.colour
        ).join(m.plateaux, m.plateaux.c.id == m.plateau_keys.c.plateau_id)
    ):
        keys.setdefault(plateau, []).append((m.KEYS.index(key), f"{key}={label} {colour}"))
    return [
        dict(r) | {"keys": ", ".join(text for _n, text in sorted(keys.get(r["name"], [])))}
        for r in rows
    ]


def add_activity(conn: Connection, *, name: str, plateau: str) -> int:
    name = _clean_name(name, "activity", MAX_NAME)
    pid = plateau_id(conn, plateau)
    exists = conn.execute(
        select(m.activities.c.id).where(
            m.activities.c.plateau_id == pid, m.activities.c.name == name
        )
    ).first()
    if exists:
        raise DirectoryError(f"activity {name!r} already exists on plateau {plateau!r}")
    return _new_id(
        conn.execute(insert(m.activities).values(plateau_id=pid, name=name, active=True))
    )


def list_activities(conn: Connection, *, plateau: str | None = None) -> list[dict[str, Any]]:
    query = (
        select(m.plateaux.c.name.label("plateau"), m.activities.c.name, m.activities.c.active)
        .join(m.plateaux, m.plateaux.c.id == m.activities.c.plateau_id)
        .order_by(m.plateaux.c.name, m.activities.c.name)
    )
    if plateau is not None:
        query = query.where(m.activities.c.plateau_id == plateau_id(conn, plateau))
    return [dict(r) for r in conn.execute(query).mappings().all()]


def check_person(person: NewPerson) -> NewPerson:
    login = person.login.strip().lower()
    if not LOGIN_RE.match(login):
        raise DirectoryError(
            f"login {person.login!r} is not valid: 1 to 64 of a-z 0-9 . _ -, starting with a "
            "letter or digit"
        )
    if person.role not in m.ROLES:
        raise DirectoryError(f"role {person.role!r} is not one of {', '.join(m.ROLES)}")
    plateaux = tuple(p.strip() for p in person.plateaux if p.strip())
    for plateau in plateaux:
        _printable(plateau, "plateau name")
    if person.role != "admin" and not plateaux:
        raise DirectoryError(f"{login}: an agent or a lead belongs to at least one plateau")
    name = _clean_name(person.name, "person", MAX_PERSON_NAME)
    return NewPerson(login, name, person.role, plateaux)


def add_person(
    conn: Connection,
    person: NewPerson,
    *,
    password_hash: str | None,
    must_change_password: bool = False,
) -> int:
    """Add a person; `must_change_password`: the password is a one-time one the admin
    hands over, to be changed at the first sign-in."""
    person = check_person(person)
    if conn.execute(select(m.people.c.id).where(m.people.c.login == person.login)).first():
        raise DirectoryError(f"login {person.login!r} already exists")
    plateau_ids = [plateau_id(conn, p) for p in person.plateaux]
    pid = _new_id(
        conn.execute(
            insert(m.people).values(
                login=person.login,
                name=person.name,
                role=person.role,
                password_hash=password_hash,
                disabled=False,
                failed_logins=0,
                locked_until=None,
                created_at=system_now_ms(),
                must_change_password=must_change_password,
            )
        )
    )
    if plateau_ids:
        conn.execute(
            insert(m.memberships), [{"person_id": pid, "plateau_id": p} for p in plateau_ids]
        )
    return pid


def import_problems(conn: Connection, numbered: Sequence[tuple[int, NewPerson]]) -> list[str]:
    """What the store refuses of people about to be imported (logins that exist, plateaux
    that do not), every one with its line number."""
    known = set(conn.execute(select(m.plateaux.c.name)).scalars())
    taken = set(conn.execute(select(m.people.c.login)).scalars())
    problems = []
    for number, person in numbered:
        if person.login in taken:
            problems.append(f"line {number}: login {person.login!r} already exists")
        problems.extend(
            f"line {number}: no plateau named {plateau!r}"
            for plateau in person.plateaux
            if plateau not in known
        )
    return problems


def add_people(
    conn: Connection,
    people: Sequence[NewPerson],
    password_hashes: Sequence[str | None],
    *,
    must_change_password: bool = False,
) -> None:
    """All or nothing: everyone is checked first, every problem reported at once."""
    checked = [(n + 1, check_person(p)) for n, p in enumerate(people)]
    problems = import_problems(conn, checked)
    if problems:
        raise DirectoryError("\n".join(problems))
    for (_n, person), password_hash in zip(checked, password_hashes, strict=True):
        add_person(
            conn, person, password_hash=password_hash, must_change_password=must_change_password
        )


def person_id(conn: Connection, login: str) -> int:
    found = conn.execute(
        select(m.people.c.id).where(m.people.c.login == login.strip().lower())
    ).scalar()
    if found is None:
        raise DirectoryError(f"no user with login {login!r}")
    return int(found)


def set_password(
    conn: Connection, *, login: str, password_hash: str, must_change_password: bool = False
) -> None:
    pid = person_id(conn, login)
    conn.execute(
        update(m.people)
        .where(m.people.c.id == pid)
        .values(
            password_hash=password_hash,
            failed_logins=0,
            locked_until=None,
            must_change_password=must_change_password,
        )
    )
    # A new password unlocks the login everywhere.
    conn.execute(delete(m.signin_failures).where(m.signin_failures.c.login == login.lower()))


def disable_person(conn: Connection, *, login: str) -> int:
    """Disable a user and revoke their tokens at once; return how many tokens were revoked."""
    pid = person_id(conn, login)
    conn.execute(update(m.people).where(m.people.c.id == pid).values(disabled=True))
    return _revoke_all(conn, pid)


def _revoke_all(conn: Connection, pid: int) -> int:
    result = conn.execute(
        update(m.tokens)
        .where(m.tokens.c.person_id == pid, m.tokens.c.revoked_at.is_(None))
        .values(revoked_at=system_now_ms())
    )
    return int(result.rowcount)


ERASED_REASON = "(erased)"


def erase_person(conn: Connection, *, login: str) -> str:
    """The right to erasure: the person's name, login, password, tokens, devices and the
    words written about their time (notes, correction reasons) go; their counted time stays
    in the plateaux' and activities' totals under a pseudonym, which is returned. Cannot be
    undone."""
    pid = person_id(conn, login)
    pseudonym = f"erased-{pid}"
    old_login = conn.execute(select(m.people.c.login).where(m.people.c.id == pid)).scalar()
    conn.execute(
        update(m.people)
        .where(m.people.c.id == pid)
        .values(
            login=pseudonym,
            name=f"Erased person {pid}",
            password_hash=None,
            disabled=True,
            must_change_password=False,
        )
    )
    conn.execute(delete(m.tokens).where(m.tokens.c.person_id == pid))
    conn.execute(delete(m.presence).where(m.presence.c.person_id == pid))
    conn.execute(delete(m.signin_failures).where(m.signin_failures.c.login == old_login))
    conn.execute(update(m.events).where(m.events.c.person_id == pid).values(note=None))
    conn.execute(
        update(m.corrections).where(m.corrections.c.person_id == pid).values(reason=ERASED_REASON)
    )
    return pseudonym


def enable_person(conn: Connection, *, login: str) -> None:
    """Let a disabled person sign in again (their old tokens stay revoked)."""
    pid = person_id(conn, login)
    conn.execute(update(m.people).where(m.people.c.id == pid).values(disabled=False))


def set_person(
    conn: Connection,
    *,
    login: str,
    name: str | None = None,
    role: str | None = None,
    plateaux: Sequence[str] | None = None,
) -> int:
    """Change a person's name, role or plateaux (the plateaux given replace theirs). A
    change of role or plateaux revokes their tokens: what they may see changes at once, on
    every bar and panel (they sign in again). Returns how many tokens were revoked."""
    pid = person_id(conn, login)
    row = conn.execute(select(m.people).where(m.people.c.id == pid)).mappings().one()
    current = tuple(
        str(p)
        for p in conn.execute(
            select(m.plateaux.c.name)
            .join(m.memberships, m.memberships.c.plateau_id == m.plateaux.c.id)
            .where(m.memberships.c.person_id == pid)
        ).scalars()
    )
    wanted = check_person(
        NewPerson(
            row["login"],
            row["name"] if name is None else name,
            row["role"] if role is None else role,
            current if plateaux is None else tuple(plateaux),
        )
    )
    ids = [plateau_id(conn, p) for p in wanted.plateaux]
    conn.execute(
        update(m.people).where(m.people.c.id == pid).values(name=wanted.name, role=wanted.role)
    )
    if wanted.role == row["role"] and set(wanted.plateaux) == set(current):
        return 0
    conn.execute(delete(m.memberships).where(m.memberships.c.person_id == pid))
    if ids:
        conn.execute(insert(m.memberships), [{"person_id": pid, "plateau_id": p} for p in ids])
    return _revoke_all(conn, pid)


def rename_plateau(conn: Connection, *, name: str, new_name: str) -> None:
    pid = plateau_id(conn, name)
    new_name = _clean_name(new_name, "plateau", MAX_NAME)
    if (
        new_name != name
        and conn.execute(select(m.plateaux.c.id).where(m.plateaux.c.name == new_name)).first()
    ):
        raise DirectoryError(f"plateau {new_name!r} already exists")
    conn.execute(update(m.plateaux).where(m.plateaux.c.id == pid).values(name=new_name))


def _activity_id(conn: Connection, plateau: str, name: str) -> int:
    pid = plateau_id(conn, plateau)
    found = conn.execute(
        select(m.activities.c.id).where(
            m.activities.c.plateau_id == pid, m.activities.c.name == name
        )
    ).scalar()
    if found is None:
        raise DirectoryError(f"no activity {name!r} on plateau {plateau!r}")
    return int(found)


def rename_activity(conn: Connection, *, plateau: str, name: str, new_name: str) -> None:
    """A new name for an activity: old reports show it under the new name (one activity)."""
    aid = _activity_id(conn, plateau, name)
    new_name = _clean_name(new_name, "activity", MAX_NAME)
    pid = plateau_id(conn, plateau)
    clash = conn.execute(
        select(m.activities.c.id).where(
            m.activities.c.plateau_id == pid,
            m.activities.c.name == new_name,
            m.activities.c.id != aid,
        )
    ).first()
    if clash:
        raise DirectoryError(f"activity {new_name!r} already exists on plateau {plateau!r}")
    conn.execute(update(m.activities).where(m.activities.c.id == aid).values(name=new_name))


def set_activity_active(conn: Connection, *, plateau: str, name: str, active: bool) -> None:
    """Retire an activity (no longer offered on the bars; still in every report, and the
    events of a bar that was offline still come in under it) or bring it back."""
    aid = _activity_id(conn, plateau, name)
    conn.execute(update(m.activities).where(m.activities.c.id == aid).values(active=active))


def list_people(conn: Connection) -> list[dict[str, Any]]:
    rows = (
        conn.execute(
            select(
                m.people.c.id,
                m.people.c.login,
                m.people.c.name,
                m.people.c.role,
                m.people.c.disabled,
            ).order_by(m.people.c.login)
        )
        .mappings()
        .all()
    )
    plateaux_of: dict[int, list[str]] = {}
    for pid, name in conn.execute(
        select(m.memberships.c.person_id, m.plateaux.c.name)
        .join(m.plateaux, m.plateaux.c.id == m.memberships.c.plateau_id)
        .order_by(m.plateaux.c.name)
    ).all():
        plateaux_of.setdefault(int(pid), []).append(str(name))
    return [
        {
            "login": r["login"],
            "name": r["name"],
            "role": r["role"],
            "disabled": bool(r["disabled"]),
            "plateaux": plateaux_of.get(int(r["id"]), []),
        }
        for r in rows
    ]


def parse_people_csv(lines: Iterable[str]) -> tuple[list[tuple[int, NewPerson]], list[str]]:
    """People from CSV (login;name;role;plateaux, plateaux separated by |; ',' also accepted),
    each with its line number, and the problems of the lines that are not people (every
    one, with its line number). Only a file with no header is refused at once."""
    import csv  # noqa: PLC0415 - only the import command needs it

    text = list(lines)
    if not text:
        raise DirectoryError("the file is empty")
    delimiter = ";" if text[0].count(";") >= text[0].count(",") else ","
    reader = csv.reader(text, delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader)]
    expected = ["login", "name", "role", "plateaux"]
    if header[:4] != expected:
        raise DirectoryError(f"line 1: the header must be {delimiter.join(expected)}")
    people, problems, seen = [], [], set()
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < 4:
            problems.append(f"line {number}: expected 4 fields, found {len(row)}")
            continue
        try:
            person = check_person(
                NewPerson(row[0], row[1], row[2].strip().lower(), tuple(row[3].split("|")))
            )
        except DirectoryError as exc:
            problems.append(f"line {number}: {exc}")
            continue
        if person.login in seen:
            problems.append(f"line {number}: login {person.login!r} appears twice")
        seen.add(person.login)
        people.append((number, person))
    return people, problems


def describe_plateaux(conn: Connection, plateau_ids: Iterable[int] | None) -> list[dict[str, Any]]:
    """Plateaux (all, or these) as the bars and panels read them: name, pause threshold, the
    keys' labels and colours, the active activities."""
    query = select(m.plateaux).order_by(m.plateaux.c.name)
    if plateau_ids is not None:
        query = query.where(m.plateaux.c.id.in_(list(plateau_ids)))
    plateaux = list(conn.execute(query).mappings())
    ids = [p["id"] for p in plateaux]
    keys = list(
        conn.execute(select(m.plateau_keys).where(m.plateau_keys.c.plateau_id.in_(ids))).mappings()
    )
    acts = list(
        conn.execute(
            select(m.activities)
            .where(m.activities.c.plateau_id.in_(ids), m.activities.c.active.is_(True))
            .order_by(m.activities.c.name)
        ).mappings()
    )
    return [
        {
            "name": p["name"],
            "pause_threshold_s": p["pause_threshold_s"],
            "keys": {
                k["key"]: {"label": k["label"], "colour": k["colour"]}
                for k in keys
                if k["plateau_id"] == p["id"]
            },
            "activities": [a["name"] for a in acts if a["plateau_id"] == p["id"]],
        }
        for p in plateaux
    ]
