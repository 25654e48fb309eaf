"""Backups: a populated database round-trips table by table; corrupt archives are refused."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import select

from civic import backup
from civic.accounts.models import User
from civic.demo import seed_demo
from civic.extensions import db
from tests.conftest import make_user


def _snapshot() -> dict[str, list]:
    out = {}
    for table in db.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        out[table.name] = [tuple(r) for r in db.session.execute(select(table).order_by(*order))]
    return out


@pytest.fixture
def populated(app, tmp_path):
    app.instance_path_backup = app.instance_path
    app.instance_path = str(tmp_path / "instance")
    with app.test_request_context():
        seed_demo()
        make_user("ines@example.org", display_name="Inès «test» 😀")
        db.session.commit()
        up = backup.uploads_dir() / "proposals" / "1"
        up.mkdir(parents=True)
        (up / "photo.jpg").write_bytes(b"\xff\xd8\xff binary \x00 content")
        yield
    app.instance_path = app.instance_path_backup


def test_round_trip_restores_every_table_and_file(app, populated, tmp_path, runner):
    with app.test_request_context():
        before = _snapshot()
        archive = tmp_path / "civic.tar.gz"
        manifest = backup.create_backup(archive)
        assert manifest["tables"]["user"] == len(before["user"]) >= 7
        # Change everything: delete, edit, add, and lose the upload.
        ines = db.session.execute(select(User).where(User.email == "ines@example.org")).scalar_one()
        ines.display_name = "changed"
        make_user("intruder@example.org")
        db.session.commit()
        photo = backup.uploads_dir() / "proposals" / "1" / "photo.jpg"
        photo.unlink()
        called = []
        backup.POST_RESTORE_HOOKS.append(lambda: called.append(True))
        try:
            backup.restore_backup(archive)
        finally:
            backup.POST_RESTORE_HOOKS.pop()
        db.session.expire_all()
        assert _snapshot() == before
        assert photo.read_bytes() == b"\xff\xd8\xff binary \x00 content"
        assert called == [True]
        # New rows get fresh ids after a restore (sequences follow on PostgreSQL).
        assert make_user("after@example.org").id > max(r[0] for r in before["user"])


def test_corrupt_archive_is_refused_and_nothing_changes(app, populated, tmp_path):
    with app.test_request_context():
        archive = tmp_path / "civic.tar.gz"
        backup.create_backup(archive)
        # Rewrite one member with different content but keep the manifest.
        with tarfile.open(archive, "r:gz") as tar:
            members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
        members["db/user.jsonl"] = members["db/user.jsonl"].replace(b"Alex Admin", b"Mallory")
        bad = tmp_path / "bad.tar.gz"
        with tarfile.open(bad, "w:gz") as tar:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        before = _snapshot()
        with pytest.raises(backup.BackupError, match="checksum failed"):
            backup.restore_backup(bad)
        junk = tmp_path / "junk.tar.gz"
        junk.write_bytes(gzip.compress(b"not a tar"))
        with pytest.raises(backup.BackupError):
            backup.restore_backup(junk)
        assert _snapshot() == before


def test_cli_refuses_a_bad_archive_without_a_traceback(runner, tmp_path, app, populated):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"garbage")
    result = runner.invoke(args=["backup", "restore", "--yes", str(junk)])
    assert result.exit_code != 0 and "Traceback" not in result.output
    good = tmp_path / "ok.tar.gz"
    result = runner.invoke(args=["backup", "create", str(good)])
    assert result.exit_code == 0, result.output
    assert Path(good).exists()
