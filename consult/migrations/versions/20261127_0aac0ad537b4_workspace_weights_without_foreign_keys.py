"""workspace weights without foreign keys

Revision ID: 0aac0ad537b4
Revises: 38e168b9c2b8
Create Date: 2026-11-27 09:55:28.625684

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = '0aac0ad537b4'
down_revision: Union[str, None] = '38e168b9c2b8'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _weights_table(*foreign_keys: sa.ForeignKeyConstraint) -> None:
    op.create_table('workspace_response_weight',
    sa.Column('response_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    *foreign_keys,
    sa.PrimaryKeyConstraint('response_id')
    )
    with op.batch_alter_table('workspace_response_weight', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workspace_response_weight_survey_id'), ['survey_id'], unique=False)


def _replace_weights_table(*foreign_keys: sa.ForeignKeyConstraint) -> None:
    # The weights are derived data: the table is made again (its foreign keys have no names to drop
    # them by on SQLite), and every survey's weights are computed again on its next weighted view.
    with op.batch_alter_table('workspace_response_weight', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workspace_response_weight_survey_id'))
    op.drop_table('workspace_response_weight')
    _weights_table(*foreign_keys)
    op.execute("DELETE FROM workspace_weight_run")


def upgrade() -> None:
    _replace_weights_table()


def downgrade() -> None:
    _replace_weights_table(sa.ForeignKeyConstraint(['response_id'], ['response.id'], ),
                           sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], ))
