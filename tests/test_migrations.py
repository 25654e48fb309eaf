"""Migrations: empty → head → base on the test database engine, and models match head."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from civic import create_app
from civic.extensions import db
from tests.conftest import _TMP, database_url, make_config


@pytest.fixture
def scratch_url():
    """A database of its own (a new SQLite file, or a new PostgreSQL database)."""
    url = make_url(database_url())
    if url.get_backend_name() == "postgresql":
        name = f"civic_mig_{uuid.uuid4().hex[:8]}"
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        yield f"sqlite:///{_TMP}/migrations-{uuid.uuid4().hex[:8]}.db"


def test_upgrade_to_head_then_downgrade_to_base(scratch_url):
    app = create_app(make_config(SQLALCHEMY_DATABASE_URI=scratch_url))
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"user", "role_grant", "quartier", "audit_entry", "alembic_version"} <= tables
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], f"models and migrations differ: flask db migrate needed: {diff}"
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
