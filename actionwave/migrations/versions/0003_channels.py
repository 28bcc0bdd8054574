"""channels: organizer-supplied target addresses and SendGrid webhook events

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "target_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("bioguide_id", sa.String(length=10), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE",
                                name=op.f("fk_target_addresses_campaign_id_campaigns")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_target_addresses")),
        sa.UniqueConstraint("campaign_id", "bioguide_id", "email",
                            name=op.f("uq_target_addresses_campaign_id")),
    )
    op.create_index("ix_target_addresses_bioguide", "target_addresses", ["bioguide_id"])
    op.create_table(
        "mail_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sg_event_id", sa.String(length=100), nullable=False),
        sa.Column("event", sa.String(length=30), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_events")),
        sa.UniqueConstraint("sg_event_id", name=op.f("uq_mail_events_sg_event_id")),
    )
    op.create_index("ix_mail_events_event", "mail_events", ["event"])
    op.create_index("ix_mail_events_key", "mail_events", ["key"])


def downgrade() -> None:
    op.drop_table("mail_events")
    op.drop_table("target_addresses")
