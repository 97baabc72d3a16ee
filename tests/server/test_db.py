"""The store's engine helpers: `DriverQuery` and `driver_rows`, the hot path's statements run
on the DB-API cursor (SQLite and a real PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, bindparam, select, text
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from app.server import auth
from app.server import models as m
from app.server.db import DriverQuery, driver_rows, make_engine
from app.server.ingest import _activities_query
from tests.pg import PgCluster
from tests.servers import PASSWORD, T0_MS, seed


def test_a_driver_query_answers_as_sqlalchemy_does(store_url: str) -> None:
    """The same rows, in the same order, as the Core query run by SQLAlchemy; parameters
    given by name, whatever the driver's placeholders."""
    seed(store_url)
    engine = make_engine(store_url)
    signed = auth.sign_in(engine, login="marie", password=PASSWORD, device_id=None, now_ms=T0_MS)
    query = (
        select(m.people.c.login, m.people.c.role, m.people.c.id)
        .where(m.people.c.id >= bindparam("low"), m.people.c.role != bindparam("not_role"))
        .order_by(m.people.c.login)
    )
    params = {"low": 1, "not_role": "admin"}
    with engine.connect() as conn:
        expected = [tuple(r) for r in conn.execute(query, params)]
    with engine.connect() as conn:
        assert [tuple(r) for r in DriverQuery(query).rows(conn, params)] == expected
        assert len(expected) >= 2  # the seed's people
        owner = auth.token_on(conn, signed.token, now_ms=T0_MS)
        assert owner is not None and owner.person.login == "marie"
        plateaux = owner.person.plateau_ids
        found = _activities_query(len(plateaux)).rows(
            conn, {f"p{i}": p for i, p in enumerate(plateaux)}
        )
        by_sqlalchemy = conn.execute(
            select(m.activities.c.name, m.activities.c.id, m.activities.c.plateau_id)
            .where(m.activities.c.plateau_id.in_(plateaux))
            .order_by(m.activities.c.plateau_id)
        ).all()
        assert sorted(map(tuple, found)) == sorted(map(tuple, by_sqlalchemy)) and found
    engine.dispose()


def test_a_driver_error_is_sqlalchemys_and_rolls_back_nothing_else(store_url: str) -> None:
    """A failing statement comes out as SQLAlchemy's error (the store-failure answer and
    the writer's retry see it as such); the transaction it was in is the caller's."""
    seed(store_url)
    engine = make_engine(store_url)
    with engine.connect() as conn:
        conn.begin()
        assert conn.in_transaction()
        with pytest.raises((ProgrammingError, OperationalError)) as caught:
            driver_rows(conn, "SELECT nothing FROM no_such_table", ())
        assert isinstance(caught.value, DBAPIError) and "no_such_table" in str(caught.value)
        conn.rollback()
        # Begun when none is, as Connection.execute does: a write is committed by commit().
        assert not conn.in_transaction()
        driver_rows(conn, "UPDATE people SET name = 'Marie B.' WHERE login = 'marie'", ())
        assert conn.in_transaction()
        conn.commit()
    with engine.connect() as conn:
        name = conn.execute(text("SELECT name FROM people WHERE login = 'marie'")).scalar()
    assert name == "Marie B."
    engine.dispose()


def test_a_write_lock_not_had_in_time_is_sqlalchemys_error(tmp_path: Path) -> None:
    """SQLite's BEGIN IMMEDIATE, begun by the engine's listener, timing out behind another
    writer: SQLAlchemy's OperationalError (the store's 503 store-failure answer), never the
    driver's own (which the API would answer with a 500)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    with engine.begin() as holder:
        holder.execute(text("CREATE TABLE t (x INTEGER)"))
    with engine.connect() as holder, engine.connect() as waiter:
        holder.begin()  # the write lock, held
        waiter.connection.dbapi_connection.execute("PRAGMA busy_timeout=50")  # type: ignore[union-attr]
        with pytest.raises(OperationalError, match="locked"):
            waiter.begin()
    engine.dispose()


def test_a_lost_postgresql_connection_is_invalidated_not_reused(pg_store: Engine) -> None:
    """A backend killed under the store (a PostgreSQL restart): the error says the
    connection was invalidated, and the pool hands out a live one next."""
    with pg_store.connect() as victim:
        pid = driver_rows(victim, "SELECT pg_backend_pid()", ())[0][0]
        victim.commit()
        with pg_store.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            other.commit()
        with pytest.raises(DBAPIError) as caught:
            driver_rows(victim, "SELECT 1", ())
        assert caught.value.connection_invalidated
        assert victim.invalidated
    with pg_store.connect() as fresh:
        assert driver_rows(fresh, "SELECT 1", ()) == [(1,)]


@pytest.fixture
def pg_store(pg_cluster: PgCluster) -> Iterator[Engine]:
    name = pg_cluster.create_database()
    engine = make_engine(pg_cluster.url(name))
    yield engine
    engine.dispose()
    pg_cluster.drop_database(name)
