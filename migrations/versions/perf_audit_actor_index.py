"""perf: index audit events by actor, action and time (the subscriber-code lookup throttle)

Revision ID: perf_audit_actor_index
Revises: analytics_rollup
Create Date: 2026-12-02 14:25:00
"""

from alembic import op

revision = "perf_audit_actor_index"
down_revision = "analytics_rollup"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_audit_event_actor_action_at", "audit_event", ["actor_id", "action", "at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_audit_event_actor_action_at", table_name="audit_event")
