"""survey invitations

Surveys open to invited people only: the survey's access setting, its invitation codes (kept as
keyed hashes, with when each was used), and the code a draft was started with.

Revision ID: 6eca77f6168e
Revises: b1dd41641b5d
Create Date: 2026-11-27 22:30:47.214099

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = '6eca77f6168e'
down_revision: Union[str, None] = 'b1dd41641b5d'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('survey_invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('batch', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code_hash')
    )
    with op.batch_alter_table('survey_invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_invitation_survey_id'), ['survey_id'], unique=False)

    with op.batch_alter_table('response_draft', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invitation_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_response_draft_invitation_id', 'survey_invitation', ['invitation_id'], ['id'])

    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.add_column(sa.Column('access', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False, server_default='open'))



def downgrade() -> None:
    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.drop_column('access')

    with op.batch_alter_table('response_draft', schema=None) as batch_op:
        batch_op.drop_constraint('fk_response_draft_invitation_id', type_='foreignkey')
        batch_op.drop_column('invitation_id')

    with op.batch_alter_table('survey_invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_invitation_survey_id'))

    op.drop_table('survey_invitation')
