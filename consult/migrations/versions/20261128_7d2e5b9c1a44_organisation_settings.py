"""organisation settings

The organisation's own name (Swedish and English), shown in every page's header and footer; one
row, made the first time an admin saves it (or the demo loads).

Revision ID: 7d2e5b9c1a44
Revises: c3e1f0a7b9d2
Create Date: 2026-11-28 15:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '7d2e5b9c1a44'
down_revision: Union[str, None] = 'c3e1f0a7b9d2'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('organisation_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.JSON(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('organisation_settings')
