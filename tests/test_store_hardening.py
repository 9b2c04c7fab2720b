"""Hardening of the case store (issue 15: 2, 7, 9, 10, 12, and a store on a network file system).

Each test is named after what went wrong before its fix: a second name for the
store (a symlink, a hard link) that slipped past the draft lock, a store readable
by other users, one deeply nested line that stopped a whole re-score, a damaged
byte that crashed ``cases`` and ``audit verify``, a mistyped ``--store`` that made
a new, empty store whose empty audit trail "verified", and a store on NFS/SMB.
The CLI runs in-process through ``screening.cli.run`` (it returns the exit code).

SQLite only: every test here is about the file (its names, links, modes, damaged pages,
the file system it is on). The PostgreSQL store has none of these; its own checks
(an empty or foreign database, a newer schema, a server that goes away) are in
``test_store_backends.py``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import DEMO, python_env

from screening import AssessmentLocked, StoreError, assess, load_instrument_file
from screening.batch._records import MAX_DEPTH, nesting_ok
from screening.batch._rescorer import rescore
from screening.cli import run
from screening.content.loader import load_instrument
from screening.store import _lock as _store_lock
from screening.store._damage import find_damage, safe_reason
from screening.store._lock import lock_dir, mount_of
from screening.store._store import Store
from screening.store.audit import verify

CANARY = b"CANARY-FRITEXT-7f3a"


@pytest.fixture
def demo():
    return load_instrument_file(DEMO)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def new_store(path: Path, demo, refs: tuple[str, ...] = ("anna",), *, complete: bool = False) -> list[str]:
    """A store with one draft per reference (``q1`` answered); returns the assessment ids."""
    ids = []
    with Store.open(path, create=True) as st:
        for ref in refs:
            info = st.create_assessment(demo, case_ref=ref, instrument_path=DEMO)
            st.record_answer(info.id, "q1", "yes")
            if complete:
                st.complete(info.id, result=assess(demo, {"q1": "yes"}))
            ids.append(info.id)
    return ids


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ---------------------------------------------------------------- 15.2: one store, one name, one lock


def test_a_symlink_to_the_store_takes_the_same_draft_lock(tmp_path, demo):
    db = tmp_path / "cases.db"
    (aid,) = new_store(db, demo)
    link = tmp_path / "genväg.db"
    link.symlink_to(db)
    with Store.open(db) as a, Store.open(link) as b:
        assert b.path == a.path == db.resolve()
        a.lock(aid)
        a.record_answer(aid, "q2", "yes")  # A's "Ja"
        with pytest.raises(AssessmentLocked, match="open elsewhere"):
            b.lock(aid)
        with pytest.raises(AssessmentLocked):
            b.record_answer(aid, "q2", "no")  # B's "Nej" is refused, not silently overwritten later
        assert not lock_dir(link).exists()
    with Store.open(db) as st:
        assert st.answers(aid) == {"q1": "yes", "q2": "yes"}


def test_a_symlinked_directory_takes_the_same_draft_lock(tmp_path, demo):
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (aid,) = new_store(real / "cases.db", demo)
    (tmp_path / "alias").symlink_to(real, target_is_directory=True)
    with Store.open(real / "cases.db") as a, Store.open(tmp_path / "alias" / "cases.db") as b:
        a.lock(aid)
        with pytest.raises(AssessmentLocked):
            b.lock(aid)


def test_a_second_interview_through_a_symlink_is_refused(tmp_path, demo, capsys):
    db = tmp_path / "cases.db"
    (aid,) = new_store(db, demo, ("dan",))
    link = tmp_path / "link.db"
    link.symlink_to(db)
    with Store.open(db) as first:
        first.lock(aid)
        code, _, err = cli(capsys, "interview", "--resume", "dan", "--store", str(link))
    assert code == 1
    assert "assessment is open elsewhere" in err
    assert "Traceback" not in err


def test_a_hard_link_to_the_store_is_refused_under_either_name(tmp_path, demo, capsys):
    db = tmp_path / "cases.db"
    new_store(db, demo)
    other = tmp_path / "backup.db"
    os.link(db, other)
    for name in (db, other):
        with pytest.raises(StoreError, match="2 names \\(hard links\\)"):
            Store.open(name)
    code, _, err = cli(capsys, "cases", "--store", str(other))
    assert code == 1 and "hard links" in err
    other.unlink()
    with Store.open(db) as st:
        assert [a.case_ref for a in st.list_assessments()] == ["anna"]


def test_a_hard_link_made_while_the_store_is_open_stops_its_writes(tmp_path, demo):
    db = tmp_path / "cases.db"
    (aid,) = new_store(db, demo)
    with Store.open(db) as st:
        os.link(db, tmp_path / "second-name.db")
        with pytest.raises(StoreError, match="hard links"):
            st.lock(aid)
        with pytest.raises(StoreError, match="hard links"):
            st.record_answer(aid, "q2", "no")


def test_a_store_replaced_under_a_running_process_is_not_locked_by_its_old_name(tmp_path, demo):
    db = tmp_path / "cases.db"
    (aid,) = new_store(db, demo)
    new_store(tmp_path / "other.db", demo, ("bert",))
    with Store.open(db) as st:
        os.replace(tmp_path / "other.db", db)
        with pytest.raises(StoreError, match="moved, replaced or deleted"):
            st.lock(aid)


# ---------------------------------------------------------------- 15.7: owner-only, or refused


def test_a_store_readable_by_others_is_refused_with_the_fix(tmp_path, demo, capsys):
    db = tmp_path / "cases.db"
    new_store(db, demo)
    db.chmod(0o644)
    with pytest.raises(StoreError, match=r"cases.db \(mode 0644\).*chmod 600") as caught:
        Store.open(db)
    assert str(db) in str(caught.value)
    assert mode(db) == 0o644  # reported, not silently changed
    assert not Path(f"{db}-wal").exists()  # and SQLite never made a 0644 -wal beside it
    code, _, err = cli(capsys, "audit", "verify", "--store", str(db))
    assert code == 1 and "chmod 600" in err
    db.chmod(0o600)
    with Store.open(db) as st:
        assert verify(st).ok


@pytest.mark.parametrize("bits", [0o640, 0o620, 0o604, 0o606])
def test_any_group_or_other_permission_is_refused(tmp_path, demo, bits):
    db = tmp_path / "cases.db"
    new_store(db, demo)
    db.chmod(bits)
    with pytest.raises(StoreError, match=f"mode {bits:04o}"):
        Store.open(db)


@pytest.mark.parametrize("sidecar", ["-wal", "-shm"])
def test_a_wal_or_shm_readable_by_others_is_refused(tmp_path, demo, sidecar):
    db = tmp_path / "cases.db"
    (aid,) = new_store(db, demo)
    with Store.open(db) as holder:  # keeps -wal and -shm in place, as a running interview does
        holder.record_answer(aid, "q2", "no")
        side = Path(f"{db}{sidecar}")
        assert mode(side) == 0o600
        side.chmod(0o644)
        with pytest.raises(StoreError, match=f"cases.db{sidecar} \\(mode 0644\\)") as caught:
            Store.open(db)
        assert f"chmod 600 {side}" in str(caught.value)


def test_a_leftover_wal_without_its_store_is_not_adopted(tmp_path):
    db = tmp_path / "cases.db"
    Path(f"{db}-wal").write_bytes(b"")
    with pytest.raises(StoreError, match="left from a store"):
        Store.open(db, create=True)
    assert not db.exists()


# ---------------------------------------------------------------- 15.12: only an interview creates a store


def test_the_library_opens_an_existing_store_and_creates_only_when_asked(tmp_path):
    db = tmp_path / "typo" / "cases.db"
    with pytest.raises(StoreError, match=r"no case store at .*nothing was created"):
        Store.open(db)
    assert not db.parent.exists()
    with Store.open(db, create=True) as st:
        assert st.checkpoint().count == 0
    assert mode(db) == 0o600
    Store.open(db).close()


def test_the_default_store_is_not_created_by_opening_it(tmp_path, monkeypatch):
    monkeypatch.setenv("SCREENING_STORE", str(tmp_path / "default.db"))
    with pytest.raises(StoreError, match="no case store"):
        Store.open()
    assert not (tmp_path / "default.db").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["cases"],
        ["cases", "delete", "anna", "--yes"],
        ["cases", "show", "anna"],
        ["audit", "verify"],
        ["audit", "show", "--case", "anna"],
        ["report", "--case", "anna"],
        ["rescore"],
        ["interview", "--resume", "anna"],
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_a_mistyped_store_is_refused_not_created(tmp_path, capsys, args):
    typo = tmp_path / "cses.db"
    code, out, err = cli(capsys, *args, "--store", str(typo))
    assert code == 1, (out, err)
    assert "no case store" in err or "no store" in err
    assert "kedjan är obruten" not in out
    assert not typo.exists()
    assert not lock_dir(typo).exists()


def test_a_mistyped_store_through_the_environment_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SCREENING_STORE", str(tmp_path / "missing.db"))
    code, out, err = cli(capsys, "audit", "verify")
    assert code == 1
    assert "0 poster" not in out
    assert "no case store" in err


def test_a_new_interview_still_creates_its_store(tmp_path):
    db = tmp_path / "new" / "cases.db"
    done = subprocess.run(
        [sys.executable, "-m", "screening", "interview", str(DEMO), "--store", str(db), "--case", "ny"],
        input="", capture_output=True, text=True, env=python_env(), timeout=60, check=False,
    )
    assert "no case store" not in done.stderr
    assert db.exists() and mode(db) == 0o600
    with Store.open(db) as st:
        assert [a.case_ref for a in st.list_assessments()] == ["ny"]


# ---------------------------------------------------------------- 15.10: damage is named, never shown


def corrupt(db: Path, table: str, column: str, where: str, raw: bytes | str = b"A\xffB") -> None:
    """Put bytes that are not UTF-8 (or any text) into a column, as a flipped bit on disk would.

    Triggers and CHECK constraints are bypassed: a damaged page never went through them.
    """
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA ignore_check_constraints = ON")
        triggers = conn.execute("SELECT name, sql FROM sqlite_schema WHERE type = 'trigger'").fetchall()
        for name, _ in triggers:
            conn.execute(f'DROP TRIGGER "{name}"')
        changed = conn.execute(f"UPDATE {table} SET {column} = CAST(? AS TEXT) WHERE {where}", (raw,)).rowcount
        for _, sql in triggers:
            conn.execute(sql)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    assert changed == 1


def test_safe_reason_drops_the_bytes_sqlite_quotes():
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (x TEXT)")
    conn.execute("INSERT INTO t VALUES (CAST(? AS TEXT))", (CANARY + b"\xff",))
    with pytest.raises(sqlite3.OperationalError) as caught:
        conn.execute("SELECT x FROM t").fetchall()
    assert "CANARY" in str(caught.value)  # what the stdlib says
    assert safe_reason(caught.value) == "column x holds bytes that are not text: the store is damaged"


def test_cases_names_the_damaged_row_and_never_its_content(tmp_path, demo, capsys):
    db = tmp_path / "cases.db"
    ids = new_store(db, demo, ("anna", "bert"))
    corrupt(db, "assessments", "case_ref", f"id = '{ids[1]}'", CANARY + b"\xff")
    code, out, err = cli(capsys, "cases", "--store", str(db))
    assert code == 1
    assert f"table assessments, assessment {ids[1]}, column case_ref" in err
    assert "is damaged" in err and "Restore it from a backup" in err
    assert "CANARY" not in out + err
    assert "Traceback" not in err


def test_audit_verify_reports_how_far_the_trail_verifies_before_the_damage(tmp_path, demo, capsys):
    db = tmp_path / "cases.db"
    new_store(db, demo, ("anna",))  # records: 1 create, 2 answer
    corrupt(db, "audit", "actor", "seq = 2", CANARY + b"\xff")
    code, out, err = cli(capsys, "audit", "verify", "--store", str(db))
    assert code == 1, (out, err)
    assert "table audit, record 2, column actor" in err
    assert "1 records verified before that" in err
    assert "CANARY" not in out + err
    code, out, err = cli(capsys, "audit", "show", "--case", "anna", "--store", str(db))
    assert code == 1, err
    assert "table audit, record 2, column actor" in err
    assert "CANARY" not in out + err


def test_audit_verify_survives_a_damaged_store_id(tmp_path, demo, capsys):
    db = tmp_path / "cases.db"
    new_store(db, demo)
    corrupt(db, "store_meta", "value", "name = 'store_id'")
    code, _, err = cli(capsys, "audit", "verify", "--store", str(db))
    assert code == 1
    assert "table store_meta, row 1, column value" in err
    assert "0 records verified" in err


def test_a_damaged_answer_names_its_assessment_and_revision(tmp_path, demo):
    db = tmp_path / "cases.db"
    (aid,) = new_store(db, demo)
    corrupt(db, "answers", "item_id", "item_id = 'q1'")
    with sqlite3.connect(db) as conn:
        assert list(find_damage(conn)) == [f"table answers, assessment {aid}, revision 1, column item_id"]
    with Store.open(db) as st, pytest.raises(StoreError, match=f"assessment {aid}, revision 1, column item_id"):
        st.answers(aid)


def test_a_status_no_program_wrote_is_named_as_damage(tmp_path, demo, capsys):
    db = tmp_path / "cases.db"
    (aid,) = new_store(db, demo)
    corrupt(db, "revisions", "status", f"assessment_id = '{aid}'", "dXaft")  # one flipped bit of 'draft'
    code, _, err = cli(capsys, "cases", "--store", str(db))
    assert code == 1, err
    assert f"table revisions, assessment {aid}, revision 1, column status" in err
    assert "incident" not in err


def test_a_damaged_schema_is_reported_as_damage(tmp_path, demo, capsys):
    db = tmp_path / "cases.db"
    new_store(db, demo)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA writable_schema = ON")  # a flipped bit in a trigger's definition
    (sql,) = conn.execute("SELECT sql FROM sqlite_schema WHERE name = 'audit_append_only_update'").fetchone()
    damaged = sql.encode().replace(b"UPDATE ON", b"UPDATE \xffN")
    conn.execute("UPDATE sqlite_schema SET sql = CAST(? AS TEXT) WHERE name = 'audit_append_only_update'", (damaged,))
    conn.close()
    with pytest.raises(StoreError, match="is damaged \\(its schema"):
        Store.open(db)
    code, _, err = cli(capsys, "audit", "verify", "--store", str(db))
    assert code == 1, err
    assert "is damaged" in err and "incident" not in err


def test_a_malformed_page_is_reported_as_damage(tmp_path, demo, capsys):
    db = tmp_path / "cases.db"
    new_store(db, demo, tuple(f"c{n}" for n in range(40)))
    with sqlite3.connect(db) as conn:
        root = conn.execute("SELECT rootpage FROM sqlite_schema WHERE name = 'assessments'").fetchone()[0]
        page = conn.execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(db.read_bytes())
    start = (root - 1) * page
    data[start:start + page] = b"\xff" * page  # the table's root page: garbage
    db.write_bytes(bytes(data))
    code, out, err = cli(capsys, "cases", "--store", str(db))
    assert code == 1, (out, err)
    assert "is damaged" in err or "malformed" in err
    assert "Traceback" not in err and "incident" not in err


# ---------------------------------------------------------------- 15.9: one bad line, not a stopped batch


def good_line(ident: str) -> str:
    version = load_instrument("freda-farlighet").instrument.version
    return json.dumps({"id": ident, "case": f"c-{ident}", "instrument": {"id": "freda-farlighet", "version": version},
                       "answers": {}})


def test_nesting_ok_walks_without_recursing():
    deep: object = 1
    for _ in range(200_000):
        deep = [deep]
    assert not nesting_ok({"answers": {"x": deep}})
    assert nesting_ok({"a": [[{"b": 1}]]})
    shallow: object = 1
    for _ in range(MAX_DEPTH):
        shallow = {"x": shallow}
    assert nesting_ok(shallow) and not nesting_ok({"y": shallow})


def test_one_deeply_nested_line_is_listed_and_the_batch_goes_on(tmp_path, capsys):
    record = json.loads(good_line("deep"))
    record["answers"] = {"x": json.loads("[" * 500 + "]" * 500)}  # parses, but deeper than a record may be
    lines = [
        good_line("a1"),
        "[" * 200_000 + "]" * 200_000,  # deeper than the JSON parser goes
        json.dumps(record),
        '{"id": "x", "answers": ' + '{"a":' * 100_000 + "1" + "}" * 100_000 + "}",
        good_line("a2"),
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = cli(capsys, "rescore", "--input", str(source), "--instrument", "freda-farlighet",
                         "--rules", "none", "--format", "json")
    assert code == 1, err  # some records failed: listed, not a crash
    assert "incident" not in err
    diff = json.loads(out)
    assert diff["counts"]["unchanged"] == 2
    failed = {f["id"]: f["reason"] for f in diff["failed"]}
    assert failed == {
        "line 2": "lists and objects nested too deeply",
        "line 3": f"a record nests lists and objects at most {MAX_DEPTH} levels deep",
        "line 4": "lists and objects nested too deeply",
    }


def test_the_library_lists_a_deeply_nested_mapping_as_a_bad_record():
    record = json.loads(good_line("deep"))
    record["answers"] = {"x": json.loads("[" * 900 + "]" * 900)}
    (item,) = rescore([record], load_instrument("freda-farlighet"))
    assert (item.stage, item.record_id) == ("record", "deep")


# ---------------------------------------------------------------- a store on NFS/SMB


MOUNTINFO = r"""22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
25 22 0:22 / /proc rw,nosuid shared:5 - proc proc rw
40 22 0:35 / /home rw,relatime shared:20 - ext4 /dev/sda2 rw
41 40 0:36 / /home/kim/nas rw,relatime shared:21 master:3 - nfs4 fs:/export/kim rw,vers=4.2
42 40 0:37 / /home/kim/nas-local rw,relatime - ext4 /dev/sdb1 rw
43 22 0:38 / /mnt/team\040share rw,relatime - cifs //srv/team rw
44 22 0:39 / /mnt/ssh rw,nosuid - fuse.sshfs kim@host:/ rw
45 22 0:40 / /mnt/stack rw - ext4 /dev/sdc1 rw
46 45 0:41 / /mnt/stack rw - smb3 //srv/over rw
this line is not mountinfo
"""


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/home/kim/cases.db", ("/home", "ext4")),
        ("/home/kim/nas/cases.db", ("/home/kim/nas", "nfs4")),
        ("/home/kim/nas", ("/home/kim/nas", "nfs4")),  # the mount point itself
        ("/home/kim/nas-local/cases.db", ("/home/kim/nas-local", "ext4")),  # a prefix of the name is not a parent
        ("/mnt/team share/x.db", ("/mnt/team share", "cifs")),  # \040 is a space
        ("/mnt/ssh/deep/er/x.db", ("/mnt/ssh", "fuse.sshfs")),
        ("/mnt/stack/x.db", ("/mnt/stack", "smb3")),  # mounted on top of the ext4 one
        ("/var/lib/x.db", ("/", "ext4")),
    ],
)
def test_mount_of_finds_the_mount_holding_a_path(path, expected):
    assert mount_of(path, MOUNTINFO) == expected


def test_mount_of_without_mountinfo_knows_nothing():
    assert mount_of("/home/x.db", "") is None


@pytest.mark.parametrize("fstype", ["nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "fuse.rclone", "afs"])
def test_network_file_systems_are_known(fstype):
    assert _store_lock.is_network_fs(fstype)


@pytest.mark.parametrize("fstype", ["ext4", "xfs", "btrfs", "tmpfs", "zfs", "apfs", "overlay", "fuseblk", "fuse.encfs"])
def test_local_file_systems_are_not_network(fstype):
    assert not _store_lock.is_network_fs(fstype)


def test_this_machine_reports_a_local_file_system_for_the_test_directory(tmp_path):
    found = _store_lock.filesystem_type(tmp_path)
    assert found is None or not _store_lock.is_network_fs(found)


def test_a_store_on_a_network_file_system_is_refused_unless_accepted(tmp_path, demo, monkeypatch, capsys):
    db = tmp_path / "cases.db"
    new_store(db, demo)
    seen: list[Path] = []

    def on_nfs(directory: Path) -> str:
        seen.append(directory)
        return "nfs4"

    monkeypatch.setattr(_store_lock, "filesystem_type", on_nfs)
    with pytest.raises(StoreError, match=r"network file system \(nfs4\).*SCREENING_ALLOW_NETWORK_STORE=1"):
        Store.open(db)
    assert seen == [db.resolve().parent]
    fresh = tmp_path / "elsewhere" / "new.db"
    with pytest.raises(StoreError, match="network file system"):
        Store.open(fresh, create=True)
    assert not fresh.parent.exists()  # refused before anything was created
    code, _, err = cli(capsys, "cases", "--store", str(db))
    assert code == 1 and "SCREENING_ALLOW_NETWORK_STORE" in err
    monkeypatch.setenv("SCREENING_ALLOW_NETWORK_STORE", "1")
    with Store.open(db) as st:
        assert [a.case_ref for a in st.list_assessments()] == ["anna"]
