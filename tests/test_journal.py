"""The journal file: durability settings, append-only rules, migrations, damage, locks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.domain.events import Event, Key, Kind, SyncState
from app.journal import Journal, JournalError, schema


def make_event(
    journal: Journal,
    kind: Kind = Kind.STATUS,
    key: Key | None = Key.PAUSE,
    at: int = 1_000,
    note: str | None = None,
) -> Event:
    return Event(
        device_id=journal.device_id,
        agent="marie",
        kind=kind,
        key=key,
        activity="Général",
        occurred_at_ms=at,
        tz_name="Europe/Paris",
        utc_offset_s=3600,
        monotonic_ms=at,
        note=note,
    )


def test_durability_settings(journal: Journal) -> None:
    assert journal.pragma("journal_mode") == "wal"
    assert journal.pragma("synchronous") == 2  # FULL
    assert journal.pragma("user_version") == schema.SCHEMA_VERSION
    assert journal.integrity_check() == ["ok"]


def test_append_gives_sequence_numbers_and_reads_back(journal: Journal) -> None:
    first, second = journal.append(
        make_event(journal, at=1), make_event(journal, key=Key.OFF, at=2, note="débrief")
    )
    assert (first.seq, second.seq) == (1, 2)
    (third,) = journal.append(make_event(journal, at=3))
    assert third.seq == 3
    entries = journal.entries()
    assert [e.event.seq for e in entries] == [1, 2, 3]
    assert entries[1].event == second
    assert entries[1].sync_state is SyncState.PENDING
    assert journal.entries(after_seq=2)[0].event.uuid == third.uuid
    assert [e.seq for e in journal.events(since_ms=2)] == [2, 3]
    assert journal.last_event() == third


def test_device_id_is_created_once(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    first = Journal(path)
    device = first.device_id
    first.close()
    again = Journal(path)
    assert again.device_id == device
    again.close()
    assert Journal(tmp_path / "other.sqlite3").device_id != device


def test_events_are_append_only(journal: Journal, tmp_path: Path) -> None:
    (event,) = journal.append(make_event(journal))
    con = sqlite3.connect(journal.path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("UPDATE events SET key = 'production' WHERE seq = ?", (event.seq,))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("UPDATE events SET occurred_at = 0 WHERE seq = ?", (event.seq,))
    with pytest.raises(sqlite3.IntegrityError, match="never deleted"):
        con.execute("DELETE FROM events WHERE seq = ?", (event.seq,))
    con.close()
    # Only the sync state moves; an acknowledged event may go (retention, later).
    assert journal.mark_acked([event.uuid]) == 1
    con = sqlite3.connect(journal.path)
    con.execute("DELETE FROM events WHERE seq = ?", (event.seq,))
    con.commit()
    con.close()


def test_database_checks_refuse_bad_rows(journal: Journal) -> None:
    with pytest.raises(JournalError, match="CHECK constraint"):
        journal.append(
            Event(
                device_id=journal.device_id,
                agent="marie",
                kind=Kind.STATUS,
                key=Key.PAUSE,
                occurred_at_ms=0,
                tz_name="UTC",
                utc_offset_s=0,
                monotonic_ms=0,
                uuid="not-a-uuid",
            )
        )
    assert journal.entries() == []


def test_a_failed_batch_writes_nothing(journal: Journal) -> None:
    good = make_event(journal)
    with pytest.raises(JournalError):
        journal.append(good, good)  # the same uuid twice: the whole write is refused
    assert journal.entries() == []


def test_ack_and_quarantine(journal: Journal) -> None:
    a, b, c = journal.append(
        make_event(journal, at=1), make_event(journal, at=2), make_event(journal, at=3)
    )
    journal.mark_acked([a.uuid, c.uuid])
    journal.quarantine(b.uuid, "activity unknown on the server")
    counts = journal.counts()
    assert counts == {
        SyncState.LOCAL: 0,
        SyncState.PENDING: 0,
        SyncState.ACKED: 2,
        SyncState.QUARANTINED: 1,
    }
    entry = journal.entries()[1]
    assert entry.sync_state is SyncState.QUARANTINED
    assert entry.sync_error == "activity unknown on the server"
    assert journal.mark_acked([]) == 0


def test_events_from_before_sign_in_are_local_until_claimed(journal: Journal) -> None:
    from dataclasses import replace

    local = [replace(make_event(journal, at=t), agent="pc-user") for t in (10, 20)]
    journal.append(*local, sync_state=SyncState.LOCAL)
    (mine,) = journal.append(make_event(journal, at=30))
    assert journal.local_backlog() == (2, 10, 2)
    assert journal.counts()[SyncState.LOCAL] == 2
    assert [e.event.seq for e in journal.pending(agent="marie", limit=10)] == [mine.seq]
    assert journal.counts(agent="marie")[SyncState.PENDING] == 1

    assert journal.claim_local("marie") == 2
    assert journal.local_backlog() == (0, None, 0)
    # A local event recorded after the choice (signed out again) is not part of it.
    journal.append(replace(make_event(journal, at=40), agent="pc-user"), sync_state=SyncState.LOCAL)
    sent = journal.pending(agent="marie", limit=10)
    assert [e.event.occurred_at_ms for e in sent] == [10, 20, 30]
    assert {e.claimed_by for e in sent} == {"marie", None}
    assert journal.pending(agent="marie", limit=2)[-1].event.occurred_at_ms == 20
    assert journal.counts(agent="marie")[SyncState.PENDING] == 3
    # Another person's claim takes only what is still local; marie's stay hers.
    assert journal.claim_local("paul") == 1
    assert [e.event.occurred_at_ms for e in journal.pending(agent="paul", limit=10)] == [40]
    assert journal.counts(agent="marie")[SyncState.PENDING] == 3
    with pytest.raises(ValueError, match="pending or local"):
        journal.append(make_event(journal), sync_state=SyncState.ACKED)


def test_a_v2_journal_gets_local_events_and_its_claim_moves_onto_its_events(
    tmp_path: Path,
) -> None:
    """v2 kept events recorded before sign-in as pending, and one claim in the state
    table: v3 keeps the claimed ones pending as the claimer's, and the bar's start marks the
    others local."""
    path = tmp_path / "v2.sqlite3"
    con = sqlite3.connect(path)
    for number in range(2):
        migration = schema.MIGRATIONS[number]
        assert isinstance(migration, list)
        for statement in migration:
            con.execute(statement)
    con.execute("PRAGMA user_version=2")
    con.execute("INSERT INTO meta VALUES ('device_id', 'dev-v2')")
    for seq, agent in ((1, "pc-user"), (2, "pc-user"), (3, "marie"), (4, "pc-user")):
        con.execute(
            "INSERT INTO events (seq, uuid, device_id, agent, activity, kind, key, occurred_at,"
            " tz_name, utc_offset_s, monotonic_ms, recorded_at) VALUES "
            f"({seq}, '00000000-0000-4000-8000-00000000000{seq}', 'dev-v2', '{agent}', 'A',"
            f" 'status', 'pause', {seq}, 'Europe/Paris', 3600, {seq}, {seq})"
        )
    con.execute(
        "INSERT INTO state VALUES ('local_claim', "
        """'{"login": "marie", "agent": "pc-user", "up_to_seq": 2}', 1)"""
    )
    con.commit()
    con.close()
    journal = Journal(path)
    assert journal.pragma("user_version") == schema.SCHEMA_VERSION
    assert journal.get_state("local_claim") is None
    assert [e.event.seq for e in journal.pending(agent="marie", limit=10)] == [1, 2, 3]
    assert journal.keep_local("pc-user") == 1  # seq 4: nobody claimed it
    assert journal.local_backlog() == (1, 4, 4)
    (new,) = journal.append(make_event(journal))
    assert new.seq == 5  # the seq counter survived the rebuild
    journal.close()
    con = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("UPDATE events SET agent = 'x' WHERE seq = 1")
    with pytest.raises(sqlite3.IntegrityError, match="never deleted"):
        con.execute("DELETE FROM events WHERE seq = 4")
    con.close()


def test_every_failure_comes_out_as_a_journal_error(tmp_path: Path) -> None:
    """Not only opening and append: reads and the other writes too (callers catch only
    JournalError)."""
    journal = Journal(tmp_path / "journal.sqlite3")
    (event,) = journal.append(make_event(journal))
    con = sqlite3.connect(tmp_path / "journal.sqlite3")
    con.execute("DROP TRIGGER events_keep_unsynced")
    con.execute("DROP TABLE state")
    con.execute("ALTER TABLE events RENAME TO gone")
    con.commit()
    con.close()
    calls = [
        journal.entries,
        lambda: journal.pending(agent="marie", limit=5),
        lambda: journal.counts(agent="marie"),
        journal.local_backlog,
        journal.last_event,
        journal.last_shift_events,
        lambda: journal.events_in_force_since(0, agent="marie"),
        lambda: journal.get_state("x"),
        lambda: journal.set_state("x", "y"),
        lambda: journal.mark_acked([event.uuid]),
        lambda: journal.quarantine(event.uuid, "no"),
        lambda: journal.claim_local("marie"),
        lambda: journal.queue_correction({"uuid": "u1"}),
        journal.queued_corrections,
        lambda: journal.settle_correction("u1"),
        journal.refused_corrections,
        lambda: journal.forget_refused("u1"),
        lambda: journal.append(make_event(journal)),
        lambda: journal.pragma("no such; thing"),
    ]
    for call in calls:
        with pytest.raises(JournalError):
            call()
    journal.close()


def test_reads_do_not_wait_for_the_write_lock(tmp_path: Path) -> None:
    """A write transaction held by another connection (the sync thread, another process)
    does not make a read wait: reads take no write lock."""
    journal = Journal(tmp_path / "journal.sqlite3", busy_timeout_ms=5000)
    (event,) = journal.append(make_event(journal))
    other = sqlite3.connect(tmp_path / "journal.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE events SET sync_state = 'acked' WHERE seq = ?", (event.seq,))
    try:
        # Each of these would wait the 5 s busy timeout, then fail, under BEGIN IMMEDIATE.
        assert [e.event.uuid for e in journal.entries()] == [event.uuid]
        assert journal.counts()[SyncState.PENDING] == 1  # the last commit, not the other's
        assert journal.get_state("x") is None
        with pytest.raises(JournalError, match="locked"):
            Journal(tmp_path / "journal.sqlite3", busy_timeout_ms=50).set_state("x", "y")
    finally:
        other.execute("ROLLBACK")
        other.close()
    journal.close()


def test_state_values(journal: Journal) -> None:
    assert journal.get_state("bar_position") is None
    journal.set_state("bar_position", "10,20")
    journal.set_state("bar_position", "30,40")
    assert journal.get_state("bar_position") == "30,40"


def test_migrates_forward_from_the_first_version(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite3"
    con = sqlite3.connect(path)
    first = schema.MIGRATIONS[0]
    assert isinstance(first, list)
    for statement in first:
        con.execute(statement)
    con.execute("PRAGMA user_version=1")
    con.execute("INSERT INTO meta VALUES ('device_id', 'dev-v1')")
    con.execute(
        "INSERT INTO events (uuid, device_id, agent, activity, kind, key, occurred_at, tz_name,"
        " utc_offset_s, monotonic_ms, recorded_at) VALUES "
        "('00000000-0000-4000-8000-000000000001', 'dev-v1', 'marie', 'A', 'status', 'pause',"
        " 5, 'Europe/Paris', 3600, 5, 5)"
    )
    con.commit()
    con.close()
    journal = Journal(path)
    assert journal.pragma("user_version") == schema.SCHEMA_VERSION
    assert journal.device_id == "dev-v1"
    (entry,) = journal.entries()
    assert entry.event.key is Key.PAUSE and entry.event.seq == 1
    journal.set_state("x", "y")  # the v2 table exists
    (new,) = journal.append(make_event(journal))
    assert new.seq == 2
    journal.close()


def test_refuses_a_journal_from_a_newer_bandeau(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version={schema.SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(JournalError, match="newer than this Bandeau"):
        Journal(path)
    assert path.exists()


def _corrupt(path: Path) -> None:
    """Overwrite the middle of the file: pages of the events table and its index."""
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(page, len(data), page):
        data[offset + 8 : offset + 200] = b"\xa5" * 192
    path.write_bytes(bytes(data))


def test_damaged_journal_is_moved_aside_and_a_new_one_started(tmp_path: Path) -> None:
    live = tmp_path / "live.sqlite3"
    journal = Journal(live)
    journal.append(*[make_event(journal, at=i, note="x" * 150) for i in range(200)])
    con = sqlite3.connect(live)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    journal.append(*[make_event(journal, at=1000 + i) for i in range(5)])  # still in the WAL
    old_device = journal.device_id
    # The image a crash leaves: the main file and its WAL, copied while the journal is open.
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(live.read_bytes())
    wal = Path(f"{live}-wal").read_bytes()
    assert wal
    Path(f"{path}-wal").write_bytes(wal)
    journal.close()
    _corrupt(path)
    reopened = Journal(path)
    recovery = reopened.recovery
    assert recovery is not None
    assert recovery.moved_to.exists()  # kept, never deleted
    assert Path(f"{recovery.moved_to}-wal").read_bytes() == wal
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").read_bytes() != wal
    assert reopened.device_id != old_device  # a new journal is a new device
    assert reopened.integrity_check() == ["ok"]
    # What could still be read was salvaged, with its own uuids and device.
    salvaged = reopened.entries()
    assert len(salvaged) == recovery.salvaged
    assert all(e.event.device_id == old_device for e in salvaged)
    (new,) = reopened.append(make_event(reopened, at=10_000))
    assert new.seq is not None and all(new.seq > e.event.seq for e in salvaged if e.event.seq)
    reopened.close()


def test_salvage_recovers_readable_events(tmp_path: Path) -> None:
    """Damage outside the events table: every event is salvaged."""
    path = tmp_path / "journal.sqlite3"
    journal = Journal(path)
    written = journal.append(*[make_event(journal, at=i) for i in range(20)])
    journal.close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    # Damage the index only: quick_check sees it, the table itself reads fine.
    root = con.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'events_occurred'"
    ).fetchone()[0]
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    data = bytearray(path.read_bytes())
    start = (root - 1) * page_size
    data[start : start + 1] = b"\x00"  # not a valid b-tree page type
    path.write_bytes(bytes(data))
    reopened = Journal(path)
    assert reopened.recovery is not None
    assert reopened.recovery.salvaged == 20
    assert [e.event.uuid for e in reopened.entries()] == [e.uuid for e in written]
    assert all(e.sync_state is SyncState.PENDING for e in reopened.entries())
    reopened.close()


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(b"this is not sqlite at all" * 100)
    journal = Journal(path)
    assert journal.recovery is not None
    assert "not a database" in journal.recovery.reason
    assert journal.recovery.salvaged == 0
    assert journal.recovery.moved_to.read_bytes().startswith(b"this is not sqlite")
    journal.append(make_event(journal))
    assert len(journal.entries()) == 1
    journal.close()


def test_a_locked_journal_fails_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    journal = Journal(path, busy_timeout_ms=50)
    journal.append(make_event(journal, at=1))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(JournalError, match="locked"):
            journal.append(make_event(journal, at=2))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert [e.event.occurred_at_ms for e in journal.entries()] == [1]
    journal.close()


def test_readonly_reader(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    with pytest.raises(JournalError, match="no journal"):
        Journal(path, readonly=True)
    writer = Journal(path)
    writer.append(make_event(writer))
    reader = Journal(path, readonly=True)
    assert reader.device_id == writer.device_id
    assert len(reader.entries()) == 1
    reader.close()
    writer.close()


def test_garbage_for_a_reader(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(b"garbage" * 1000)
    with pytest.raises(JournalError, match="cannot read"):
        Journal(path, readonly=True)
    assert path.read_bytes().startswith(b"garbage")  # a reader never moves anything


def test_unwritable_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("I am a file, not a folder")
    with pytest.raises(JournalError, match="cannot create the folder"):
        Journal(blocker / "sub" / "journal.sqlite3")


def test_corrections_kept_offline_until_settled(journal: Journal) -> None:
    first = {"uuid": "u1", "agent": "marie", "from_ms": 1, "to_ms": 2, "reason": "pause oubliée"}
    second = {**first, "uuid": "u2"}
    journal.queue_correction(first)
    journal.queue_correction(second)
    journal.queue_correction(first)  # the same again: still one
    assert [c["uuid"] for c in journal.queued_corrections()] == ["u1", "u2"]
    journal.settle_correction("u1")
    journal.settle_correction("u2", refused="older than 7 days")
    assert journal.queued_corrections() == []
    assert journal.refused_corrections() == [{**second, "refused": "older than 7 days"}]
    journal.forget_refused("u2")
    assert journal.refused_corrections() == []
    # A damaged value is skipped (and logged), never fatal; the others are read.
    journal.set_state("correction:bad", "{not json")
    journal.queue_correction(second)
    assert [c["uuid"] for c in journal.queued_corrections()] == ["u2"]
