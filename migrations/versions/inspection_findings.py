"""inspection findings: a meter replaced on site (new serial, its first reading)

Revision ID: inspection_findings
Revises: analytics_event_log
Create Date: 2026-12-02 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "inspection_findings"
down_revision = "analytics_event_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("application_meter", schema=None) as batch_op:
        batch_op.add_column(sa.Column("replaced_serial", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("replaced_initial", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("application_meter", schema=None) as batch_op:
        batch_op.drop_column("replaced_initial")
        batch_op.drop_column("replaced_serial")
