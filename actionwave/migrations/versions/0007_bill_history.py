"""bill stage transitions: ``history`` marks stages reached before a campaign's first poll

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bill_stage_transitions") as batch_op:
        batch_op.add_column(sa.Column("history", sa.Boolean(), server_default=sa.false(),
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("bill_stage_transitions") as batch_op:
        batch_op.drop_column("history")
