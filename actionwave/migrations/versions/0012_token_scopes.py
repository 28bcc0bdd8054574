"""API token scopes and expiry; the audit log of account and token events; the addresses each
account signed in from (sign-in from them survives a lockout of the account); erased supporters'
idempotency keys (a plain SHA-256 of slug|email|day, which a guess could match) replaced by
``erased:<action id>``

Existing tokens keep exactly the power they had: each gets the scopes of its role (viewer: read;
organizer: read write; admin: read write admin) and no expiry.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("scopes", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE api_tokens SET scopes = CASE role WHEN 'viewer' THEN 'read' "
               "WHEN 'organizer' THEN 'read write' ELSE 'read write admin' END")
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("scopes", existing_type=sa.String(length=40), nullable=False)
    op.create_table(
        "audit_log",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_table(
        "known_addresses",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("ip_hash", sa.String(length=64), nullable=False),
        sa.Column("last_ok_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_known_addresses_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", "ip_hash", name=op.f("pk_known_addresses")),
    )


    op.execute("UPDATE actions SET idempotency_key = 'erased:' || CAST(id AS VARCHAR(36)) "
               "WHERE supporter_id IN (SELECT id FROM supporters "
               "WHERE suppressed_reason = 'erased')")


def downgrade() -> None:
    op.drop_table("known_addresses")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
        batch.drop_column("scopes")
