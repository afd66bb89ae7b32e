"""clause library versions, agreement clauses, reviews, comments, country risk

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('library_clause_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clause_key', sa.String(length=60), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_library_clause_versions')),
    sa.UniqueConstraint('clause_key', 'version', name=op.f('uq_library_clause_versions_clause_key_version'))
    )
    op.create_table('risk_tiers',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_risk_tiers'))
    )
    op.create_table('country_risks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('tier_key', sa.String(length=40), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('length(country) = 2', name=op.f('ck_country_risks_country_alpha2')),
    sa.ForeignKeyConstraint(['tier_key'], ['risk_tiers.key'], name=op.f('fk_country_risks_tier_key_risk_tiers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_country_risks')),
    sa.UniqueConstraint('country', 'tier_key', name=op.f('uq_country_risks_country_tier_key'))
    )
    with op.batch_alter_table('country_risks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_country_risks_country'), ['country'], unique=False)

    op.create_table('safeguard_rules',
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('tier_key', sa.String(length=40), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('clause_key', sa.String(length=60), nullable=False),
    sa.Column('satisfied_by', sa.Text(), nullable=False),
    sa.Column('requirement', sa.String(length=300), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint("severity IN ('block', 'warn')", name=op.f('ck_safeguard_rules_severity_valid')),
    sa.CheckConstraint('tier_key IS NOT NULL OR country IS NOT NULL', name=op.f('ck_safeguard_rules_has_scope')),
    sa.ForeignKeyConstraint(['tier_key'], ['risk_tiers.key'], name=op.f('fk_safeguard_rules_tier_key_risk_tiers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_safeguard_rules'))
    )
    op.create_table('agreement_clauses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('clause_key', sa.String(length=60), nullable=False),
    sa.Column('library_version_id', sa.Integer(), nullable=False),
    sa.Column('option_key', sa.String(length=60), nullable=False),
    sa.Column('values', sa.Text(), nullable=False),
    sa.Column('override_text', sa.Text(), nullable=True),
    sa.Column('included', sa.Boolean(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('revision >= 1', name=op.f('ck_agreement_clauses_revision_positive')),
    sa.ForeignKeyConstraint(['library_version_id'], ['library_clause_versions.id'], name=op.f('fk_agreement_clauses_library_version_id_library_clause_versions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_agreement_clauses_partnership_id_partnerships'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_agreement_clauses_updated_by_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_clauses')),
    sa.UniqueConstraint('partnership_id', 'clause_key', name=op.f('uq_agreement_clauses_partnership_id_clause_key'))
    )
    with op.batch_alter_table('agreement_clauses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_clauses_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('clause_key', sa.String(length=60), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('visibility', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("visibility IN ('internal', 'partner')", name=op.f('ck_comments_visibility_valid')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_comments_author_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_comments_partnership_id_partnerships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comments'))
    )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index('ix_comments_partnership_id_id', ['partnership_id', 'id'], unique=False)

    op.create_table('safeguard_waivers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('rule_key', sa.String(length=60), nullable=False),
    sa.Column('waived_by_id', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_safeguard_waivers_partnership_id_partnerships'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rule_key'], ['safeguard_rules.key'], name=op.f('fk_safeguard_waivers_rule_key_safeguard_rules'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['waived_by_id'], ['users.id'], name=op.f('fk_safeguard_waivers_waived_by_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safeguard_waivers')),
    sa.UniqueConstraint('partnership_id', 'rule_key', name=op.f('uq_safeguard_waivers_partnership_id_rule_key'))
    )
    with op.batch_alter_table('safeguard_waivers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_safeguard_waivers_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('clause_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agreement_clause_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('visibility', sa.String(length=10), nullable=False),
    sa.Column('clause_revision', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("decision = 'approve' OR comment IS NOT NULL", name=op.f('ck_clause_reviews_changes_need_comment')),
    sa.CheckConstraint("decision IN ('approve', 'request_changes')", name=op.f('ck_clause_reviews_decision_valid')),
    sa.CheckConstraint("visibility IN ('internal', 'partner')", name=op.f('ck_clause_reviews_visibility_valid')),
    sa.ForeignKeyConstraint(['agreement_clause_id'], ['agreement_clauses.id'], name=op.f('fk_clause_reviews_agreement_clause_id_agreement_clauses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_clause_reviews_reviewer_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clause_reviews'))
    )
    with op.batch_alter_table('clause_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clause_reviews_agreement_clause_id'), ['agreement_clause_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('clause_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clause_reviews_agreement_clause_id'))

    op.drop_table('clause_reviews')
    with op.batch_alter_table('safeguard_waivers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_safeguard_waivers_partnership_id'))

    op.drop_table('safeguard_waivers')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_partnership_id_id')

    op.drop_table('comments')
    with op.batch_alter_table('agreement_clauses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_clauses_partnership_id'))

    op.drop_table('agreement_clauses')
    op.drop_table('safeguard_rules')
    with op.batch_alter_table('country_risks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_country_risks_country'))

    op.drop_table('country_risks')
    op.drop_table('risk_tiers')
    op.drop_table('library_clause_versions')
