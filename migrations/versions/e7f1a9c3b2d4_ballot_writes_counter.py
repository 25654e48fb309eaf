"""ballot writes counter (SQLite tamper check)

Each envelope's ballot rows are counted as they are written, by SQLite triggers, so that
the results page's check of the published list catches an UPDATE in place at the next view
(PostgreSQL's xmin already does; there the table stays empty).

Revision ID: e7f1a9c3b2d4
Revises: c5bfb2d7e3f8
Create Date: 2026-12-02 02:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7f1a9c3b2d4'
down_revision = 'c5bfb2d7e3f8'
branch_labels = None
depends_on = None

_OLD = ("INSERT INTO ballot_writes (envelope_id, writes) VALUES (OLD.envelope_id, 1) "
        "ON CONFLICT (envelope_id) DO UPDATE SET writes = writes + 1;")
_NEW = ("INSERT INTO ballot_writes (envelope_id, writes) VALUES (NEW.envelope_id, 1) "
        "ON CONFLICT (envelope_id) DO UPDATE SET writes = writes + 1;")
TRIGGERS = {
    "ballot_written_insert": "AFTER INSERT ON ballot BEGIN " + _NEW + " END",
    "ballot_written_delete": "AFTER DELETE ON ballot BEGIN " + _OLD + " END",
    "ballot_written_update": "AFTER UPDATE ON ballot BEGIN " + _OLD + " " + _NEW + " END",
}


def upgrade():
    op.create_table('ballot_writes',
    sa.Column('envelope_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('writes', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('envelope_id', name=op.f('pk_ballot_writes'))
    )
    if op.get_bind().dialect.name == "sqlite":
        # The ballots already there count as written once.
        op.execute("INSERT INTO ballot_writes (envelope_id, writes) "
                   "SELECT envelope_id, count(*) FROM ballot GROUP BY envelope_id")
        for name, body in TRIGGERS.items():
            op.execute("CREATE TRIGGER " + name + " " + body)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for name in TRIGGERS:
            op.execute("DROP TRIGGER IF EXISTS " + name)
    op.drop_table('ballot_writes')
