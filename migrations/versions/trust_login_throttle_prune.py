"""trust: index login-throttle rows by window start, so rows whose window and lock are over are pruned cheaply

Revision ID: trust_login_throttle_prune
Revises: api_tokens_idempotency
Create Date: 2026-12-02 14:50:00
"""

from alembic import op

revision = "trust_login_throttle_prune"
down_revision = "api_tokens_idempotency"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_login_throttle_window_start"), "login_throttle", ["window_start"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_login_throttle_window_start"), table_name="login_throttle")
