"""office channels: organizers' CWC office codes and contact forms for offices, over the data's

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "office_channels",
        sa.Column("bioguide_id", sa.String(length=10), nullable=False),
        sa.Column("cwc_office", sa.String(length=10), nullable=True),
        sa.Column("contact_form", sa.String(length=300), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bioguide_id", name=op.f("pk_office_channels")),
    )


def downgrade() -> None:
    op.drop_table("office_channels")
