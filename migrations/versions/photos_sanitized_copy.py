"""photos: the sanitised copy of an uploaded photo

Revision ID: photos_sanitized_copy
Revises: 0004
Create Date: 2026-12-02 13:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "photos_sanitized_copy"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stored_file", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sanitized_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_stored_file_sanitized_id_stored_file"),
            "stored_file",
            ["sanitized_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("stored_file", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_stored_file_sanitized_id_stored_file"), type_="foreignkey"
        )
        batch_op.drop_column("sanitized_id")
