"""waves and bill watcher: stage transitions, wave fan-out bookkeeping, reminder outcomes

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "bill_stage_transitions",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=40), nullable=False),
        sa.Column("chamber", sa.String(length=10), nullable=False),
        sa.Column("action_date", sa.Date(), nullable=False),
        sa.Column("action_text", sa.Text(), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("post_lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("post_id", sa.String(length=40), nullable=True),
        sa.Column("post_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"],
            name=op.f("fk_bill_stage_transitions_campaign_id_campaigns"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bill_stage_transitions")),
        sa.UniqueConstraint(
            "campaign_id", "stage", "chamber", name=op.f("uq_bill_stage_transitions_campaign_id")
        ),
    )
    with op.batch_alter_table("waves") as batch_op:
        batch_op.add_column(sa.Column("fanout_cursor", BIG_ID, server_default="0", nullable=False))
        batch_op.add_column(sa.Column("fanned_out_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("transition_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("reminders") as batch_op:
        batch_op.add_column(sa.Column("outcome", sa.String(length=20), nullable=True))
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.create_index("ix_deliveries_wave_state", ["wave_id", "state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.drop_index("ix_deliveries_wave_state")
    with op.batch_alter_table("reminders") as batch_op:
        batch_op.drop_column("outcome")
    with op.batch_alter_table("waves") as batch_op:
        batch_op.drop_column("transition_id")
        batch_op.drop_column("paused_at")
        batch_op.drop_column("fanned_out_at")
        batch_op.drop_column("fanout_cursor")
    op.drop_table("bill_stage_transitions")
