"""vendors and the order ledger

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "vendors",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320)),
        sa.Column("website", sa.String(500)),
        sa.Column("phone", sa.String(50)),
        sa.Column("github_url", sa.String(500)),
        sa.Column("roles", JSON_DOCUMENT, nullable=False),
        sa.Column("api_key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "orders",
        sa.Column("jti", sa.String(64), primary_key=True),
        # No foreign key: the ledger outlives a deleted vendor.
        sa.Column("vendor_id", sa.String(100), nullable=False),
        sa.Column("order_ref", sa.String(100)),
        sa.Column("diner", JSON_DOCUMENT, nullable=False),
        sa.Column("order", JSON_DOCUMENT, nullable=False),
        sa.Column("item_count", sa.Integer, nullable=False),
        sa.Column("total_price", sa.Numeric(18, 6), nullable=False),
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_reason", sa.Text),
    )
    op.create_index("ix_orders_issued_at", "orders", ["issued_at"])
    op.create_index("ix_orders_vendor_issued", "orders", ["vendor_id", "issued_at"])


def downgrade() -> None:
    op.drop_table("orders")
    op.drop_table("vendors")
