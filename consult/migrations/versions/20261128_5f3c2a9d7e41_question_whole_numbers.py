"""question whole numbers

A number question may take whole numbers only (years lived somewhere, people in a household), as an
XLSForm `integer` does. Existing questions keep accepting decimals: the server default is false.

Revision ID: 5f3c2a9d7e41
Revises: dac87ed9279a
Create Date: 2026-11-28 10:05:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = '5f3c2a9d7e41'
down_revision: Union[str, None] = 'dac87ed9279a'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # A plain '0', not sa.false(): with an expression as default Alembic rebuilds the table on SQLite,
    # which the answers' foreign key to question forbids; '0' is added in place and PostgreSQL reads
    # it as false.
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.add_column(sa.Column('whole_numbers', sa.Boolean(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.drop_column('whole_numbers')
