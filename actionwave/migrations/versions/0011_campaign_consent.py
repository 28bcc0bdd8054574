"""consent per campaign (``campaign_consents``) instead of one flag per supporter; deliveries
carry their campaign; states derived from the ZIP where it lies in one state

Existing data: a supporter with ``consent`` set gets a consent row, source ``migrated``, for each
campaign they acted on (the flag did not say which campaign it was given to). Its ``given_at`` is
their first action on that campaign (the flag did not record when either) and its text the form's
label of that time, in the supporter's language: the label has not changed since the first
release. Deliveries get the campaign of their action, wave or reminder.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
LABEL_EN = "Keep me updated on this bill (you can unsubscribe at any time)."
LABEL_ZH = "請通知我這項法案的最新進展（可隨時取消訂閱）。"


def upgrade() -> None:
    op.create_table(
        "campaign_consents",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("supporter_id", BIG_ID, nullable=False),
        sa.Column("action_id", sa.Uuid(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_via", sa.String(length=20), nullable=True),
        sa.CheckConstraint("source IN ('form', 'api', 'import', 'migrated')",
                           name=op.f("ck_campaign_consents_source_valid")),
        sa.CheckConstraint("locale IN ('en', 'zh-Hant')",
                           name=op.f("ck_campaign_consents_locale_valid")),
        sa.ForeignKeyConstraint(["action_id"], ["actions.id"],
                                name=op.f("fk_campaign_consents_action_id_actions"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name=op.f("fk_campaign_consents_campaign_id_campaigns"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["supporter_id"], ["supporters.id"],
                                name=op.f("fk_campaign_consents_supporter_id_supporters"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_consents")),
        sa.UniqueConstraint("campaign_id", "supporter_id",
                            name=op.f("uq_campaign_consents_campaign_id")),
    )
    op.create_index(op.f("ix_campaign_consents_supporter_id"), "campaign_consents",
                    ["supporter_id"], unique=False)
    op.execute(sa.text(
        "INSERT INTO campaign_consents (campaign_id, supporter_id, source, text, locale, given_at)"
        " SELECT a.campaign_id, a.supporter_id, 'migrated',"
        " CASE WHEN s.locale = 'zh-Hant' THEN :zh ELSE :en END, s.locale, MIN(a.created_at)"
        " FROM actions a JOIN supporters s ON s.id = a.supporter_id WHERE s.consent"
        " GROUP BY a.campaign_id, a.supporter_id, s.locale"
    ).bindparams(en=LABEL_EN, zh=LABEL_ZH))
    # Native on both stores (SQLite >= 3.35): a batch copy of ``supporters`` would drop the
    # parent table of every action, and SQLite's foreign keys would cascade that.
    op.execute("ALTER TABLE supporters DROP COLUMN consent")
    _derive_states()
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.add_column(sa.Column("campaign_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f("fk_deliveries_campaign_id_campaigns"), "campaigns",
                                    ["campaign_id"], ["id"], ondelete="CASCADE")
        batch_op.create_index("ix_deliveries_campaign_state", ["campaign_id", "state"],
                              unique=False)
    op.execute(
        "UPDATE deliveries SET campaign_id = COALESCE("
        " (SELECT campaign_id FROM actions WHERE actions.id = deliveries.action_id),"
        " (SELECT campaign_id FROM waves WHERE waves.id = deliveries.wave_id),"
        " (SELECT campaign_id FROM reminders"
        "  WHERE 'reminder:' || reminders.id = deliveries.idempotency_key))"
    )


def _derive_states() -> None:
    """A supporter without a state gets their ZIP's, where the current snapshot puts the ZIP in
    one state only (as ``actionwave.intake.resolution`` now does for every new action)."""
    op.execute(
        "UPDATE supporters SET state = (SELECT MIN(z.state) FROM zip_districts z"
        "  WHERE z.zcta = supporters.zip AND z.snapshot_id ="
        "  (SELECT snapshot_id FROM legislator_snapshot_current WHERE id = 1))"
        " WHERE state IS NULL AND (SELECT COUNT(DISTINCT z.state) FROM zip_districts z"
        "  WHERE z.zcta = supporters.zip AND z.snapshot_id ="
        "  (SELECT snapshot_id FROM legislator_snapshot_current WHERE id = 1)) = 1"
    )


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.drop_index("ix_deliveries_campaign_state")
        batch_op.drop_constraint(op.f("fk_deliveries_campaign_id_campaigns"), type_="foreignkey")
        batch_op.drop_column("campaign_id")
    op.execute("ALTER TABLE supporters ADD COLUMN consent BOOLEAN NOT NULL DEFAULT false")
    op.execute(
        "UPDATE supporters SET consent = true WHERE id IN (SELECT supporter_id"
        " FROM campaign_consents WHERE withdrawn_at IS NULL)"
    )
    op.drop_index(op.f("ix_campaign_consents_supporter_id"), table_name="campaign_consents")
    op.drop_table("campaign_consents")
