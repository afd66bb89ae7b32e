"""foundation tables

Revision ID: 0001
Revises: 
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('city', sa.String(length=120), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('cluster', 'sme', 'large_company', 'rto_university', 'public_body')", name=op.f('ck_organisations_kind_valid')),
    sa.CheckConstraint('length(country) = 2', name=op.f('ck_organisations_country_alpha2')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
    sa.UniqueConstraint('name', name=op.f('uq_organisations_name'))
    )
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisations_country'), ['country'], unique=False)

    op.create_table('reference_counters',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_reference_counters'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('session_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("role IN ('coordinator', 'legal', 'partner', 'admin')", name=op.f('ck_users_role_valid')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_users_organisation_id_organisations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('partnerships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('workflow_key', sa.String(length=60), nullable=False),
    sa.Column('stage', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('agreement_type', sa.String(length=40), nullable=False),
    sa.Column('sector', sa.String(length=80), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('stage_entered_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('end_date IS NULL OR start_date IS NULL OR end_date >= start_date', name=op.f('ck_partnerships_dates_ordered')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_partnerships_version_positive')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_partnerships_owner_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partnerships')),
    sa.UniqueConstraint('reference', name=op.f('uq_partnerships_reference'))
    )
    with op.batch_alter_table('partnerships', schema=None) as batch_op:
        batch_op.create_index('ix_partnerships_owner_id_stage', ['owner_id', 'stage'], unique=False)
        batch_op.create_index('ix_partnerships_stage_updated_at', ['stage', 'updated_at'], unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_role', sa.String(length=20), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('trigger', sa.String(length=60), nullable=True),
    sa.Column('from_stage', sa.String(length=40), nullable=True),
    sa.Column('to_stage', sa.String(length=40), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('details', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_audit_events_partnership_id_partnerships'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index('ix_audit_events_partnership_id_id', ['partnership_id', 'id'], unique=False)

    op.create_table('due_diligence_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('item_key', sa.String(length=60), nullable=False),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('checked_by_id', sa.Integer(), nullable=True),
    sa.Column('checked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['checked_by_id'], ['users.id'], name=op.f('fk_due_diligence_checks_checked_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_due_diligence_checks_partnership_id_partnerships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_due_diligence_checks')),
    sa.UniqueConstraint('partnership_id', 'item_key', name=op.f('uq_due_diligence_checks_partnership_id_item_key'))
    )
    with op.batch_alter_table('due_diligence_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_due_diligence_checks_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('parties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('signatory_name', sa.String(length=120), nullable=True),
    sa.Column('signatory_title', sa.String(length=120), nullable=True),
    sa.Column('signatory_email', sa.String(length=254), nullable=True),
    sa.Column('background_none', sa.Boolean(), nullable=False),
    sa.CheckConstraint("role IN ('lead', 'member', 'counterpart')", name=op.f('ck_parties_role_valid')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_parties_organisation_id_organisations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_parties_partnership_id_partnerships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parties')),
    sa.UniqueConstraint('partnership_id', 'organisation_id', name=op.f('uq_parties_partnership_id_organisation_id'))
    )
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parties_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_parties_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('background_assets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('asset_type', sa.String(length=20), nullable=False),
    sa.Column('identifiers', sa.String(length=400), nullable=True),
    sa.Column('jurisdictions', sa.String(length=400), nullable=True),
    sa.Column('restrictions', sa.Text(), nullable=True),
    sa.Column('access_implementation', sa.Text(), nullable=True),
    sa.Column('access_exploitation', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("asset_type IN ('patent', 'application', 'know_how', 'software', 'data', 'design', 'trademark')", name=op.f('ck_background_assets_asset_type_valid')),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_background_assets_party_id_parties'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_background_assets'))
    )
    with op.batch_alter_table('background_assets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_background_assets_party_id'), ['party_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('background_assets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_background_assets_party_id'))

    op.drop_table('background_assets')
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parties_partnership_id'))
        batch_op.drop_index(batch_op.f('ix_parties_organisation_id'))

    op.drop_table('parties')
    with op.batch_alter_table('due_diligence_checks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_due_diligence_checks_partnership_id'))

    op.drop_table('due_diligence_checks')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_partnership_id_id')
        batch_op.drop_index(batch_op.f('ix_audit_events_actor_id'))

    op.drop_table('audit_events')
    with op.batch_alter_table('partnerships', schema=None) as batch_op:
        batch_op.drop_index('ix_partnerships_stage_updated_at')
        batch_op.drop_index('ix_partnerships_owner_id_stage')

    op.drop_table('partnerships')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_organisation_id'))

    op.drop_table('users')
    op.drop_table('reference_counters')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisations_country'))

    op.drop_table('organisations')
