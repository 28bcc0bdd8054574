"""legislators: snapshot tables for members of Congress and the ZIP-district crosswalk

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "legislator_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legislator_snapshots")),
    )
    op.create_table(
        "legislator_snapshot_current",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"], ["legislator_snapshots.id"],
            name=op.f("fk_legislator_snapshot_current_snapshot_id_legislator_snapshots"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legislator_snapshot_current")),
    )
    op.create_table(
        "legislators",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("bioguide_id", sa.String(length=10), nullable=False),
        sa.Column("chamber", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("district", sa.Integer(), nullable=True),
        sa.Column("senate_class", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("party", sa.String(length=40), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("url", sa.String(length=300), nullable=True),
        sa.Column("contact_form", sa.String(length=300), nullable=True),
        sa.Column("twitter", sa.String(length=100), nullable=True),
        sa.Column("cwc_office", sa.String(length=10), nullable=False),
        sa.Column("info", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"], ["legislator_snapshots.id"],
            name=op.f("fk_legislators_snapshot_id_legislator_snapshots"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "bioguide_id", name=op.f("pk_legislators")),
    )
    op.create_index("ix_legislators_snapshot_state", "legislators", ["snapshot_id", "state"])
    op.create_table(
        "zip_districts",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("zcta", sa.String(length=5), nullable=False),
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("district", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"], ["legislator_snapshots.id"],
            name=op.f("fk_zip_districts_snapshot_id_legislator_snapshots"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "snapshot_id", "zcta", "state", "district", name=op.f("pk_zip_districts")
        ),
    )


def downgrade() -> None:
    op.drop_table("zip_districts")
    op.drop_index("ix_legislators_snapshot_state", table_name="legislators")
    op.drop_table("legislators")
    op.drop_table("legislator_snapshot_current")
    op.drop_table("legislator_snapshots")
