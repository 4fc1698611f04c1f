"""staff temporary passwords

A staff account knows whether its password is a temporary one made by an admin (a new account or a
reset); its holder must replace it before doing anything else. Existing accounts are not flagged:
the server default is false.

Revision ID: c3e1f0a7b9d2
Revises: 5f3c2a9d7e41
Create Date: 2026-11-28 14:20:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = 'c3e1f0a7b9d2'
down_revision: Union[str, None] = '5f3c2a9d7e41'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # A plain '0', not sa.false(): with an expression as default Alembic rebuilds the table on SQLite,
    # which the foreign keys to staff_user forbid; '0' is added in place and PostgreSQL reads it as false.
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_temporary', sa.Boolean(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_column('password_temporary')
