"""conciergerie reminders: when a request at risk was last reminded

Revision ID: f3b8d1e6a9c2
Revises: e7f1a9c3b2d4
Create Date: 2026-12-02 02:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3b8d1e6a9c2'
down_revision = 'e7f1a9c3b2d4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('job_request', schema=None) as batch_op:
        batch_op.drop_column('reminded_at')
