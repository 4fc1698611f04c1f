"""response identity

Who answered an identified survey (name, e-mail, organisation), in a table of its own beside the
response; the draft keeps it from the start page until the response is submitted.

Revision ID: b1dd41641b5d
Revises: 0ca7a4d01f6c
Create Date: 2026-11-27 20:23:38.823574

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = 'b1dd41641b5d'
down_revision: Union[str, None] = '0ca7a4d01f6c'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('response_identity',
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
    sa.Column('organisation', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], ),
    sa.PrimaryKeyConstraint('response_id')
    )
    with op.batch_alter_table('response_draft', schema=None) as batch_op:
        batch_op.add_column(sa.Column('identity', sa.JSON(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('response_draft', schema=None) as batch_op:
        batch_op.drop_column('identity')

    op.drop_table('response_identity')
