"""studio: scenarios stored with each process version, analysts' drafts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("process_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scenarios", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("process_version", schema=None) as batch_op:
        batch_op.alter_column("scenarios", server_default=None)
    op.create_table(
        "process_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(length=64), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("scenarios", sa.JSON(), nullable=False),
        sa.Column("based_on_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["based_on_id"],
            ["process_version.id"],
            name=op.f("fk_process_draft_based_on_id_process_version"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["account.id"], name=op.f("fk_process_draft_updated_by_id_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_draft")),
        sa.UniqueConstraint("process_id", name=op.f("uq_process_draft_process_id")),
    )


def downgrade() -> None:
    op.drop_table("process_draft")
    with op.batch_alter_table("process_version", schema=None) as batch_op:
        batch_op.drop_column("scenarios")
