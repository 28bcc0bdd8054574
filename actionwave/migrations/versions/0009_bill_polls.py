"""bill watcher: each campaign's last poll (``bill_polls``), and ``reacted_at`` on transitions

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bill_polls",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("error_kind", sa.String(length=20), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("actions_seen", sa.Integer(), nullable=True),
        sa.Column("new_actions", sa.Integer(), nullable=False),
        sa.Column("new_transitions", sa.Integer(), nullable=False),
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failures_in_row", sa.Integer(), nullable=False),
        sa.Column("polls", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name=op.f("fk_bill_polls_campaign_id_campaigns"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_bill_polls")),
    )
    with op.batch_alter_table("bill_stage_transitions") as batch_op:
        batch_op.add_column(sa.Column("reacted_at", sa.DateTime(timezone=True), nullable=True))
    # Transitions recorded before this started their waves in the same transaction.
    op.execute("UPDATE bill_stage_transitions SET reacted_at = detected_at")


def downgrade() -> None:
    with op.batch_alter_table("bill_stage_transitions") as batch_op:
        batch_op.drop_column("reacted_at")
    op.drop_table("bill_polls")
