"""Backups: a consistent, checksummed archive of the database and uploaded files.

Format (a .tar.gz): ``manifest.json`` (format, creation time, migration revision, row counts,
and the SHA-256 of every other member), ``db/<table>.jsonl`` (one JSON object per row) and
``files/…`` (everything under instance/uploads). A restore checks every checksum before it
touches anything, needs the database at the same migration revision, replaces all rows in one
transaction, then runs the post-restore hooks (e.g. the bienveilleurs retention purge, so an
old archive never brings back personal data that was due to be erased).
"""

from __future__ import annotations

import base64
import enum
import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import Date, DateTime, LargeBinary, Numeric, func, inspect, select, text

from civic.extensions import db
from civic.timeutil import utcnow

FORMAT = "civic-backup/1"
POST_RESTORE_HOOKS: list[Callable[[], Any]] = []


class BackupError(Exception):
    """The archive cannot be written or restored; the message says why."""


def uploads_dir() -> Path:
    """Where uploaded files live."""
    return Path(current_app.instance_path) / "uploads"


def _revision(conn: Any) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None  # a database made by create_all (tests)
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _encode(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.name  # SQLAlchemy's Enum type stores members by name
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (bytes, memoryview)):
        return {"$b64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, Decimal):
        return str(value)
    return value


def _decode(column: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(column.type, Date):
        return date.fromisoformat(value)
    if isinstance(column.type, LargeBinary) or (isinstance(value, dict) and "$b64" in value):
        return base64.b64decode(value["$b64"])
    enum_class = getattr(column.type, "enum_class", None)
    if enum_class is not None and isinstance(value, str):
        return enum_class[value]
    if isinstance(column.type, Numeric) and isinstance(value, str):
        return Decimal(value)
    return value


def _add(tar: tarfile.TarFile, name: str, data: bytes, sums: dict[str, str]) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(utcnow().timestamp())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))
    sums[name] = hashlib.sha256(data).hexdigest()


def create_backup(path: Path) -> dict[str, Any]:
    """Write the archive; all tables are read in one transaction (a consistent snapshot)."""
    sums: dict[str, str] = {}
    counts: dict[str, int] = {}
    engine = db.engine
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    tmp = path.with_name(path.name + ".part")
    with engine.connect().execution_options(**options) as conn, conn.begin(), \
            tarfile.open(tmp, "w:gz") as tar:
        revision = _revision(conn)
        for table in db.metadata.sorted_tables:
            order = [c for c in table.primary_key.columns] or list(table.columns)
            rows = conn.execute(select(table).order_by(*order)).mappings()
            lines = [json.dumps({k: _encode(v) for k, v in row.items()}, ensure_ascii=False)
                     for row in rows]
            counts[table.name] = len(lines)
            _add(tar, f"db/{table.name}.jsonl", ("\n".join(lines) + "\n").encode(), sums)
        root = uploads_dir()
        if root.exists():
            for file in sorted(p for p in root.rglob("*") if p.is_file()):
                _add(tar, "files/" + file.relative_to(root).as_posix(), file.read_bytes(), sums)
        manifest = {"format": FORMAT, "created_at": utcnow().isoformat() + "Z",
                    "revision": revision, "dialect": engine.dialect.name,
                    "tables": counts, "sha256": sums}
        _add(tar, "manifest.json", json.dumps(manifest, indent=1).encode(), {})
    tmp.replace(path)
    return manifest


def _read_verified(path: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    try:
        with tarfile.open(path, "r:gz") as tar:
            members: dict[str, bytes] = {}
            for m in tar.getmembers():
                if not m.isfile() or m.name.startswith("/") or ".." in Path(m.name).parts:
                    raise BackupError(f"unexpected member in the archive: {m.name!r}")
                fh = tar.extractfile(m)
                members[m.name] = fh.read() if fh else b""
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"not a readable backup archive: {exc}") from exc
    try:
        manifest = json.loads(members.pop("manifest.json"))
    except (KeyError, ValueError) as exc:
        raise BackupError("the archive has no valid manifest.json") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    expected = manifest.get("sha256", {})
    if set(expected) != set(members):
        raise BackupError("checksum failed: the archive's members differ from its manifest")
    for name, data in members.items():
        if hashlib.sha256(data).hexdigest() != expected[name]:
            raise BackupError(f"checksum failed for {name}: the archive is corrupt")
    return manifest, members


def restore_backup(path: Path) -> dict[str, Any]:
    """Replace the database content and uploads with the archive's, after verifying it."""
    manifest, members = _read_verified(path)
    db.session.close()  # release this app's own locks before replacing the rows
    engine = db.engine
    with engine.connect() as conn:
        current = _revision(conn)
    if manifest.get("revision") != current:
        raise BackupError(
            f"the archive is at migration {manifest.get('revision')!r} but the database is at "
            f"{current!r}: run `flask db upgrade` (or downgrade) to the archive's revision first"
        )
    tables = db.metadata.sorted_tables
    known = {t.name for t in tables}
    unknown = set(manifest["tables"]) - known
    if unknown:
        raise BackupError(f"the archive has tables this version does not know: {sorted(unknown)}")
    with engine.begin() as conn:
        for table in reversed(tables):
            conn.execute(table.delete())
        for table in tables:
            raw = members.get(f"db/{table.name}.jsonl", b"").decode()
            rows = [json.loads(line) for line in raw.splitlines() if line.strip()]
            cols = {c.name: c for c in table.columns}
            if rows:
                conn.execute(table.insert(), [
                    {k: _decode(cols[k], v) for k, v in row.items() if k in cols} for row in rows
                ])
            if engine.dialect.name == "postgresql" and "id" in cols and rows:
                # Explicit ids were inserted: move the sequence past them.
                conn.execute(select(func.setval(
                    func.pg_get_serial_sequence(f'"{table.name}"', "id"),
                    select(func.max(table.c.id)).scalar_subquery())))
    root = uploads_dir()
    if root.exists():
        for file in sorted(root.rglob("*"), reverse=True):
            file.unlink() if file.is_file() else file.rmdir()
    for name, data in members.items():
        if name.startswith("files/"):
            target = root / name[len("files/"):]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    for hook in POST_RESTORE_HOOKS:
        hook()
    db.session.commit()
    return manifest
