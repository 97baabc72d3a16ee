"""Who is asking, and whose data they may see: the one place the role rules are written.

- an agent sees themselves (and their plateaux' coverage, as counts: see `app.server.live`);
- a lead sees the people of their plateaux, and themselves;
- an admin sees everyone.

Reach is decided before any name is looked up: an unknown login or plateau is refused the
same way as a colleague's or another plateau's, so that no one learns who or what exists
beyond what they may see. Only an admin learns that a name is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Connection

from app.server import models as m


@dataclass(frozen=True, slots=True)
class Person:
    """Who a token belongs to (its person as the store knows them now)."""

    id: int
    login: str
    name: str
    role: str
    plateau_ids: tuple[int, ...]
    # A one-time password the admin handed over: until it is changed, the person may only
    # change it, see who they are and sign out (`deps.PASSWORD_CHANGE_CALLS`).
    must_change_password: bool = False


@dataclass(frozen=True, slots=True)
class Reach:
    """Whose data one person may read. None: no limit on that axis."""

    person_ids: frozenset[int] | None
    plateau_ids: frozenset[int] | None


class OutOfReach(Exception):
    """Someone or something the person may not see (or that does not exist: the same)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class Unknown(Exception):
    """A name an admin asked about that the store does not know."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def reach_of(person: Person) -> Reach:
    if person.role == "admin":
        return Reach(None, None)
    if person.role == "lead":
        return Reach(None, frozenset(person.plateau_ids))
    return Reach(frozenset({person.id}), None)


_OUT_OF_REACH = {
    "agent": "an agent sees only their own data",
    "lead": "a lead sees the agents of their plateaux only",
}


def person_in_reach(conn: Connection, asker: Person, login: str, field: str = "agent") -> int:
    """The id of `login`, if `asker` may see them; OutOfReach (the same for a login that
    does not exist) or, for an admin, Unknown."""
    login = login.strip().lower()
    if login == asker.login:
        return asker.id
    if asker.role == "agent":
        raise OutOfReach(_OUT_OF_REACH["agent"], field)
    found = conn.execute(select(m.people.c.id).where(m.people.c.login == login)).scalar()
    if asker.role == "admin":
        if found is None:
            raise Unknown(f"no user with login {login!r}", field)
        return int(found)
    if found is not None:
        theirs = set(
            conn.execute(
                select(m.memberships.c.plateau_id).where(m.memberships.c.person_id == found)
            ).scalars()
        )
        if theirs & set(asker.plateau_ids):
            return int(found)
    raise OutOfReach(_OUT_OF_REACH["lead"], field)


def plateau_in_reach(conn: Connection, asker: Person, name: str, field: str = "plateau") -> int:
    """The id of the plateau `name`, if `asker` may see it whole (a lead's own, any for an
    admin; never for an agent)."""
    if asker.role == "agent":
        raise OutOfReach("an agent sees only their own data, not a plateau's", field)
    found = conn.execute(select(m.plateaux.c.id).where(m.plateaux.c.name == name)).scalar()
    if asker.role == "admin":
        if found is None:
            raise Unknown(f"no plateau named {name!r}", field)
        return int(found)
    if found is None or int(found) not in asker.plateau_ids:
        raise OutOfReach("a lead sees their own plateaux only", field)
    return int(found)
