"""analytics: daily and monthly rollups of the event log

Revision ID: analytics_rollup
Revises: inspection_findings
Create Date: 2026-12-02 14:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "analytics_rollup"
down_revision = "inspection_findings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analytics_node_day",
        sa.Column("grain", sa.String(length=1), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("breached", sa.Integer(), nullable=False),
        sa.Column("wait_hist", sa.JSON(), nullable=False),
        sa.Column("work_hist", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint(
            "grain", "day", "version_id", "unit_id", "node", name=op.f("pk_analytics_node_day")
        ),
    )
    op.create_table(
        "analytics_case_day",
        sa.Column("grain", sa.String(length=1), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=32), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("cycle_hist", sa.JSON(), nullable=False),
        sa.Column("cycle_days", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint(
            "grain", "day", "version_id", "unit_id", "path", name=op.f("pk_analytics_case_day")
        ),
    )
    op.create_table(
        "analytics_rollup_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_rollup_state")),
    )


def downgrade() -> None:
    op.drop_table("analytics_rollup_state")
    op.drop_table("analytics_case_day")
    op.drop_table("analytics_node_day")
