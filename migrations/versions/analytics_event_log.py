"""analytics: the process event log

Revision ID: analytics_event_log
Revises: reliability_leases_incidents
Create Date: 2026-12-02 14:00:00

Existing instances get their events from ``saygac analytics-backfill``.
"""

import sqlalchemy as sa
from alembic import op

revision = "analytics_event_log"
down_revision = "reliability_leases_incidents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "process_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("work_item_id", sa.Integer(), nullable=True),
        sa.Column("reference", sa.String(length=32), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_event")),
    )
    with op.batch_alter_table("process_event", schema=None) as batch_op:
        batch_op.create_index("ix_process_event_instance", ["instance_id", "id"], unique=False)
        batch_op.create_index("ix_process_event_kind_at", ["kind", "at"], unique=False)
        batch_op.create_index("ix_process_event_unit_at", ["unit_id", "at"], unique=False)
        batch_op.create_index("ix_process_event_work_item", ["work_item_id"], unique=False)


def downgrade() -> None:
    op.drop_table("process_event")
