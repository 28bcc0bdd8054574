"""running counts of every area in one table: ``delivery_counters`` becomes ``counters``

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.rename_table("delivery_counters", "counters")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE counters RENAME CONSTRAINT pk_delivery_counters TO pk_counters")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE counters RENAME CONSTRAINT pk_counters TO pk_delivery_counters")
    op.rename_table("counters", "delivery_counters")
